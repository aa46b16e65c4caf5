"""The form's whole cycle through the gateway, with every process started by the launcher.

A draft fails 数据验证, is fixed and submitted, and comes back from the unit with two modules ticked.
Only those two can be changed, and the resubmission is approved by the unit and the department."""

import io
import uuid
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from pypdf import PdfReader

from deploy.demo import (
    STATUS_MATERIAL_APPROVED,
    STATUS_SUBMITTED,
    bound_fixture_pair,
    upload,
    wait_for,
    wait_for_task,
)
from tests.e2e.conftest import ADMIN_PASSWORD
from tests.support import Portal

pytestmark = pytest.mark.e2e

STATUS_RETURNED = "被退回"
TICKED = ["education", "achievements"]


async def status_of(person: Portal, application_id: str, expected: str) -> str:
    async def reached():
        progress = await person.get("application", f"/applications/{application_id}/progress")
        return progress["status_label"] if progress["status_label"] == expected else None

    return await wait_for(reached, f"the status {expected}")


async def under_review_seen(person: Portal, binding_id: str, count: int) -> None:
    """Wait until the binding service, which learns of submissions and reviews from events, counts `count`."""

    async def seen():
        binding = await person.get("binding", f"/bindings/{binding_id}")
        return binding["applications_under_review"] == count

    await wait_for(seen, f"the binding to show {count} application(s) under review")


async def test_draft_to_approval_with_return(launched):
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        portal = Portal.through_gateway(http, launched["gateway"])
        admin = await portal.login("admin", ADMIN_PASSWORD)
        now = datetime.now(UTC)
        call = await admin.post("application", "/calls", {
            "title": "人才分类定级评定申报通知（退回流程）", "classes": ["C", "D", "E"],
            "opens_at": (now - timedelta(minutes=1)).isoformat(), "closes_at": (now + timedelta(days=1)).isoformat()},
            expect=201)
        await admin.post("application", f"/calls/{call['call_id']}/publish", expect=200)
        pair = await bound_fixture_pair(portal)
        person, unit, person_data, binding_id = pair.person, pair.unit, pair.person_data, pair.binding_id
        form = person_data["application"]

        async def eligible():
            answer = await person.get("application", "/eligibility", params={"call_id": call["call_id"]})
            return answer["eligible"]

        await wait_for(eligible, "every eligibility condition to pass")
        application = await person.post("application", "/applications", {"call_id": call["call_id"]}, expect=201)
        application_id = application["application_id"]
        base = f"/applications/{application_id}"

        # Draft: a half-filled 基本信息 fails 数据验证 with every problem at once.
        await person.put("application", f"{base}/modules/basic_info",
                         {**form["basic_info"], "talent_source": "引进人才", "gender": None})
        failed = await person.post("application", f"{base}/validation", expect=200)
        found = {(error["module"], error["field"], error["code"]) for error in failed["errors"]}
        assert failed["passed"] is False
        assert {("basic_info", "gender", "application.field_required"),
                ("basic_info", "introduced_from", "application.introduced_from_required"),
                ("basic_info", "photo", "application.attachment_missing"),
                ("education", "entries", "application.entries_missing"),
                ("work_experience", "entries", "application.entries_missing"),
                ("achievements", "text", "application.field_required"),
                ("materials", "id_card", "application.attachment_missing"),
                ("materials", "introduction_agreement", "application.attachment_missing")} <= found
        rejected = await person.post("application", f"{base}/submit", {"pledge": True}, expect=422)
        assert rejected["code"] == "application.validation_failed"
        assert rejected["errors"] == failed["errors"]

        # Fixed: every module saved, the photo, the 材料附件 and each entry's files uploaded.
        saved = {}
        for module, content in form.items():
            headers = {"If-Match": '"1"'} if module == "basic_info" else None
            answer = await person.put("application", f"{base}/modules/{module}", content, headers=headers)
            saved[module] = answer
        for kind in ("photo", "id_card", "employment_contract", "diploma", "degree"):
            await upload(person, application_id, kind, {"photo": "photo.jpg"}.get(kind, f"{kind}.pdf"), None)
        for module, name in person_data["entry_attachments"].items():
            for entry in saved[module]["content"]:
                await upload(person, application_id, module, name, entry["entry_id"])
        passed = await person.post("application", f"{base}/validation", expect=200)
        assert passed == {"passed": True, "errors": []}
        summary = await person.get("application", f"{base}/summary.pdf", params={"disposition": "inline"})
        assert person_data["real_name"] in "".join(page.extract_text() for page in PdfReader(io.BytesIO(summary)).pages)

        first = await person.post("application", f"{base}/submit", {"pledge": True},
                                  headers={"Idempotency-Key": str(uuid.uuid4())}, expect=200)
        assert first["snapshot_version"] == 1
        await status_of(person, application_id, STATUS_SUBMITTED)
        await under_review_seen(person, binding_id, 1)
        under_review = await person.post("binding", f"/bindings/{binding_id}/unbind", expect=409)
        assert under_review["code"] == "binding.application_under_review"

        # The unit returns it with two modules ticked.
        task = await wait_for_task(unit, "unit", application_id)
        await unit.post("review", f"/tasks/{task['task_id']}/decision", {
            "decision": "return", "opinion": "学历信息与证书不一致，请核对；创新创业成果请补充量化数据。",
            "modules": TICKED}, expect=200)
        await status_of(person, application_id, STATUS_RETURNED)
        detail = await person.get("application", base)
        assert detail["editable_modules"] == TICKED
        assert detail["returned"]["opinion"].startswith("学历信息与证书不一致")
        assert detail["returned"]["module_labels"] == ["学习经历", "创新创业成果（突出业绩）"]

        # Only the ticked modules can change; the others and the 材料附件 are rejected.
        for module in ("basic_info", "work_experience", "honors"):
            status, body = await person.request("PUT", "application", f"{base}/modules/{module}",
                                                json=form[module], headers={"If-Match": "*"})
            assert (module, status, body["code"]) == (module, 409, "application.module_locked")
        status, _ = await person.request("POST", "files", "/files", data=_material_form(application_id))
        assert status == 409
        education = detail["modules"]["education"]
        changed_education = [{**education["content"][1], "major": "机械制造及其自动化"}, education["content"][0]]
        await person.put("application", f"{base}/modules/education", changed_education,
                         headers={"If-Match": f'"{education["version"]}"'})
        achievements = detail["modules"]["achievements"]
        new_text = form["achievements"]["text"][:150] + "近三年新增产值2.3亿元，经第三方审计确认。"
        await person.put("application", f"{base}/modules/achievements", {"text": new_text},
                         headers={"If-Match": f'"{achievements["version"]}"'})

        second = await person.post("application", f"{base}/submit", {"pledge": True}, expect=200)
        assert second["snapshot_version"] == 2
        await status_of(person, application_id, STATUS_SUBMITTED)

        # The reopened task lists what changed; then the unit and the department approve.
        reopened = await wait_for_task(unit, "unit", application_id)
        reviewed = await unit.get("review", f"/tasks/{reopened['task_id']}")
        assert reviewed["changed_modules"] == TICKED
        paths = {(change["module"], change["field_path"]) for change in reviewed["changes"]}
        assert paths == {("education", "0.major"), ("achievements", "text")}
        assert reviewed["snapshot"]["version"] == 2
        await unit.post("review", f"/tasks/{reopened['task_id']}/decision",
                        {"decision": "approve", "opinion": "已核对，同意推荐。"}, expect=200)
        department = await _department_reviewer(portal, admin)
        department_task = await wait_for_task(department, "department", application_id)
        await department.post("review", f"/tasks/{department_task['task_id']}/decision",
                              {"decision": "approve", "opinion": "材料审核通过。"}, expect=200)
        await status_of(person, application_id, STATUS_MATERIAL_APPROVED)

        progress = await person.get("application", f"{base}/progress")
        assert [node["action"] for node in progress["nodes"]] == [
            "submitted", "returned", "resubmitted", "approved", "approved"]

        # With the material approved by the department, the person may leave the unit again.
        await under_review_seen(person, binding_id, 0)
        unbound = await person.post("binding", f"/bindings/{binding_id}/unbind", expect=200)
        assert unbound["status"] == "unbound"


def _material_form(application_id: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("kind", "id_card")
    form.add_field("application_id", application_id)
    form.add_field("file", b"%PDF-1.4\n% id card\n%%EOF\n", filename="身份证.pdf", content_type="application/pdf")
    return form


async def _department_reviewer(portal: Portal, admin: Portal) -> Portal:
    account = f"reviewer{uuid.uuid4().hex[:8]}"
    await admin.post("identity", "/staff", {"account": account, "name": "赵审核", "role": "department_reviewer",
                                            "password": "Review#2026dept"}, expect=201)
    return await portal.login(account, "Review#2026dept")
