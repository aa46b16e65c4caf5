"""`make demo`: the applicant's whole journey through the gateway of a running suite.

It registers a unit and a person from `tests/fixtures/` (with fresh identifiers, so it can be
repeated), binds them, opens a call, and fills and submits an application with real scans, saving
its summary table (一览表). Then the unit and the department approve it, the department records the
result, and the demo saves the certificate PDF. It prints each step
and the status the applicant sees, and exits non-zero at the first failure with the reason.
"""

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from services.common.settings import load_settings
from tests.support import ApiFailure, Portal, random_id_number, random_mobile, random_uscc

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
OUTPUT = Path("demo-output")
STATUS_SUBMITTED = "已申报"
STATUS_MATERIAL_APPROVED = "材料审核通过，请等待评定结果"
MATERIALS = {
    "photo": "photo.jpg",
    "id_card": "id_card.pdf",
    "employment_contract": "employment_contract.pdf",
    "diploma": "diploma.pdf",
    "degree": "degree.pdf",
}


class JourneyFailure(Exception):
    """A step of the journey did not give what the applicant should see."""


Say = Callable[[str], None]


async def wait_for(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise JourneyFailure(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.2)


def load_fixtures() -> tuple[dict[str, Any], dict[str, Any]]:
    """The fixture person and unit with fresh identifiers, so that every run registers anew."""
    person = json.loads((FIXTURES / "person.json").read_text(encoding="utf-8"))
    unit = json.loads((FIXTURES / "unit.json").read_text(encoding="utf-8"))
    birth = datetime.strptime(person["id_number"][6:14], "%Y%m%d").date()
    person["id_number"] = random_id_number(birth, area=person["id_number"][:6])
    person["mobile"] = random_mobile()
    unit["uscc"] = random_uscc(region=unit["uscc"][2:8])
    unit["contact_mobile"] = random_mobile()
    return person, unit


@dataclass
class BoundPair:
    """A person bound to a unit, both registered from the fixtures and signed in."""

    person: Portal
    unit: Portal
    person_data: dict[str, Any]
    unit_data: dict[str, Any]
    binding_id: str


async def bound_fixture_pair(portal: Portal) -> BoundPair:
    """Register the fixture unit (with its complete profile) and person, and bind them through the API."""
    person_data, unit_data = load_fixtures()
    await portal.register_unit(unit_data)
    unit = await portal.login(unit_data["uscc"], unit_data["password"])
    await unit.put("binding", "/unit/profile", unit_data["profile"] | {
        "unit_name": unit_data["unit_name"], "contact_name": unit_data["contact_name"],
        "contact_phone": unit_data["contact_mobile"]})
    await portal.register_person(person_data)
    person = await portal.login(person_data["mobile"], person_data["password"])

    async def unit_known() -> bool:
        status, _ = await person.request("GET", "binding", f"/units/{unit_data['uscc']}")
        return status == 200

    await wait_for(unit_known, "the unit to be known to the binding service")
    binding = await person.post("binding", "/bindings", {"uscc": unit_data["uscc"]}, expect=201)
    await unit.post("binding", f"/unit/binding-requests/{binding['binding_id']}/approve", {"opinion": "同意"},
                    expect=200)
    return BoundPair(person, unit, person_data, unit_data, binding["binding_id"])


async def applicant_status(person: Portal, application_id: str) -> str:
    progress = await person.get("application", f"/applications/{application_id}/progress")
    return progress["status_label"]


async def run_journey(portal: Portal, admin_password: str, admin_account: str = "admin",
                      say: Say = print) -> dict[str, Any]:
    """Drive the journey; return ids and statuses seen. Raises JourneyFailure or ApiFailure."""
    person_data, unit_data = load_fixtures()
    seen: dict[str, Any] = {"statuses": []}

    say("1. 管理员登录并发布申报通知 / admin signs in and publishes a call")
    admin = await portal.login(admin_account, admin_password)
    now = datetime.now(UTC)
    call = await admin.post("application", "/calls", {
        "title": f"{now.year}年度吉林省人才分类定级评定申报通知",
        "body": "请符合条件的人员通过推荐单位申报。",
        "classes": ["A", "B", "C", "D", "E"],
        "opens_at": (now - timedelta(minutes=1)).isoformat(),
        "closes_at": (now + timedelta(days=30)).isoformat(),
    }, expect=201)
    await admin.post("application", f"/calls/{call['call_id']}/publish", expect=200)

    say(f"2. 推荐单位注册并首次登录 / unit registers and signs in: {unit_data['unit_name']}"
        f" (统一社会信用代码 / credit code {unit_data['uscc']})")
    await portal.register_unit(unit_data)
    unit = await portal.login(unit_data["uscc"], unit_data["password"])
    profile = unit_data["profile"] | {"unit_name": unit_data["unit_name"], "contact_name": unit_data["contact_name"],
                                      "contact_phone": unit_data["contact_mobile"]}
    await unit.put("binding", "/unit/profile", profile)

    say(f"3. 个人注册并登录 / applicant registers and signs in: {person_data['real_name']}"
        f" (手机号码 / mobile {person_data['mobile']})")
    await portal.register_person(person_data)
    person = await portal.login(person_data["mobile"], person_data["password"])

    say("4. 申请绑定推荐单位 / applicant asks to bind the unit")

    async def unit_found():
        status, body = await person.request("GET", "binding", f"/units/{unit_data['uscc']}")
        return body if status == 200 else None

    found = await wait_for(unit_found, "the unit to be known to the binding service")
    binding = await person.post("binding", "/bindings", {"uscc": found["uscc"]}, expect=201)
    say(f"   绑定状态 / binding status: {binding['status_label']}")

    say("5. 单位审核通过绑定申请 / the unit approves the binding")
    requests = await unit.get("binding", "/unit/binding-requests", params={"status": "pending"})
    request = next(item for item in requests["items"] if item["binding_id"] == binding["binding_id"])
    await unit.post("binding", f"/unit/binding-requests/{request['binding_id']}/approve",
                    {"opinion": "情况属实，同意绑定。"}, expect=200)
    bindings = await person.get("binding", "/bindings")
    say(f"   绑定状态 / binding status: {bindings['items'][0]['status_label']}")

    say("6. 条件自检 / eligibility check")

    async def eligible():
        answer = await person.get("application", "/eligibility", params={"call_id": call["call_id"]})
        return answer if answer["eligible"] else None

    answer = await wait_for(eligible, "every eligibility condition to pass")
    for condition in answer["conditions"]:
        say(f"   {'✓' if condition['passed'] else '✗'} {condition['reason']}")

    say("7. 创建申报并逐个保存模块 / create the application and save each module")
    application = await person.post("application", "/applications", {"call_id": call["call_id"]}, expect=201)
    application_id = application["application_id"]
    seen["application_id"] = application_id
    saved = {}
    for module, content in person_data["application"].items():
        answer = await person.put("application", f"/applications/{application_id}/modules/{module}", content)
        saved[module] = answer["content"]

    say("8. 数据验证（尚未上传附件）/ validation before attachments")
    result = await person.post("application", f"/applications/{application_id}/validation", expect=200)
    if result["passed"]:
        raise JourneyFailure("validation passed although no attachment was uploaded")
    for error in result["errors"]:
        say(f"   - [{error['module']}] {error['field']}: {error['message']}")

    say("9. 上传照片、材料附件和各条经历的证明材料 / upload the photo, material scans and each entry's proof")
    uploads = [(kind, name, None) for kind, name in MATERIALS.items()]
    for module, name in person_data["entry_attachments"].items():
        uploads += [(module, name, entry["entry_id"]) for entry in saved[module]]
    for kind, name, entry_id in uploads:
        uploaded = await upload(person, application_id, kind, name, entry_id)
        say(f"   {kind}: {uploaded['file_name']} ({uploaded['size']} 字节 / bytes)")

    say("10. 数据验证，下载一览表，承诺并提交 / validate, download the summary table, pledge and submit")
    result = await person.post("application", f"/applications/{application_id}/validation", expect=200)
    if not result["passed"]:
        raise JourneyFailure(f"validation still fails: {result['errors']}")
    preview = await person.get("application", f"/applications/{application_id}/summary.pdf",
                               params={"disposition": "inline"})
    if not preview.startswith(b"%PDF"):
        raise JourneyFailure("the summary table preview is not a PDF")
    await person.post("application", f"/applications/{application_id}/submit", {"pledge": True},
                      headers={"Idempotency-Key": f"demo-{application_id}"}, expect=(200, 201))
    await expect_status(person, application_id, STATUS_SUBMITTED, seen, say)
    # Once submitted, the summary table is generated from the submitted snapshot.
    summary = await person.get("application", f"/applications/{application_id}/summary.pdf")
    await asyncio.to_thread(save_output, "summary.pdf", summary)
    say(f"   已保存提交后的一览表 / saved the submitted summary table: {OUTPUT / 'summary.pdf'}")

    say("11. 推荐单位审核 / the unit reviews")
    unit_task = await wait_for_task(unit, "unit", application_id)
    await unit.post("review", f"/tasks/{unit_task['task_id']}/decision",
                    {"decision": "approve", "opinion": "材料真实完整，同意推荐。"}, expect=200)
    await expect_status(person, application_id, STATUS_SUBMITTED, seen, say)

    say("12. 业务部门审核 / the department reviews")
    reviewer_account = f"reviewer{int(time.time() * 1000) % 10**10}"
    await admin.post("identity", "/staff", {"account": reviewer_account, "name": "赵审核",
                                            "role": "department_reviewer", "password": "Review#2026dept"},
                     expect=201)
    department = await portal.login(reviewer_account, "Review#2026dept")
    department_task = await wait_for_task(department, "department", application_id)
    await department.post("review", f"/tasks/{department_task['task_id']}/decision",
                          {"decision": "approve", "opinion": "材料审核通过。"}, expect=200)
    await expect_status(person, application_id, STATUS_MATERIAL_APPROVED, seen, say)

    say("13. 录入评定结果 / the department records the result")
    basic = person_data["application"]["basic_info"]
    await department.post("review", "/results", {
        "application_id": application_id, "result": "approved",
        "talent_class": basic["talent_class"], "level": basic["level"]}, expect=201)

    async def result_shown():
        progress = await person.get("application", f"/applications/{application_id}/progress")
        return progress.get("result")

    shown = await wait_for(result_shown, "the result on the applicant's progress page")
    say(f"   评定结果 / result: {shown['result_label']}")

    say("14. 我的证照：下载电子证书 / download the certificate")

    async def certificate():
        listing = await person.get("cert", "/certificates")
        return listing["items"][0] if listing["items"] else None

    issued = await wait_for(certificate, "the certificate to be issued", timeout=30)
    pdf = await person.get("cert", f"/certificates/{issued['certificate_id']}/pdf")
    if not pdf.startswith(b"%PDF"):
        raise JourneyFailure("the certificate download is not a PDF")
    await asyncio.to_thread(save_output, "certificate.pdf", pdf)
    verified = await portal.get("cert", f"/verify/{issued['verification_code']}")
    validity = "有效 / valid" if verified["valid"] else "无效 / not valid"
    say(f"   证书编号 / number: {issued['certificate_number']}; 核验结果 / verification: {validity}"
        f" ({verified['holder_name']}, {verified['class_label']})")
    say(f"   已保存 / saved: {OUTPUT / 'certificate.pdf'}")
    seen["certificate"] = issued
    return seen


def save_output(name: str, pdf: bytes) -> None:
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / name).write_bytes(pdf)


async def upload(person: Portal, application_id: str, kind: str, name: str, entry_id: str | None) -> dict[str, Any]:
    form = aiohttp.FormData()
    form.add_field("kind", kind)
    form.add_field("application_id", application_id)
    if entry_id is not None:
        form.add_field("entry_id", entry_id)
    form.add_field("file", (FIXTURES / name).read_bytes(), filename=name, content_type="application/octet-stream")
    return await person.post("files", "/files", data=form, expect=201)


async def wait_for_task(reviewer: Portal, stage: str, application_id: str) -> dict[str, Any]:
    async def task():
        tasks = await reviewer.get("review", "/tasks", params={"stage": stage, "status": "pending"})
        return next((item for item in tasks["items"] if item["application_id"] == application_id), None)

    return await wait_for(task, f"the {stage} review task")


async def expect_status(person: Portal, application_id: str, expected: str, seen: dict[str, Any],
                        say: Say) -> None:
    async def reached():
        status = await applicant_status(person, application_id)
        return status if status == expected else None

    status = await wait_for(reached, f"the applicant's status to become {expected}")
    seen["statuses"].append(status)
    say(f"   申报人看到的状态 / status the applicant sees: {status}")


async def main_async(gateway: str, admin_account: str, admin_password: str) -> int:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        portal = Portal.through_gateway(http, gateway)
        try:
            await run_journey(portal, admin_password, admin_account)
        except (JourneyFailure, ApiFailure, aiohttp.ClientError) as e:
            print(f"\n演示失败 / demo failed: {e}", file=sys.stderr)
            return 1
    print("\n演示完成 / demo complete")
    return 0


def main() -> int:
    from deploy.launcher import ADMIN_PASSWORD_FILE

    settings = load_settings()
    parser = argparse.ArgumentParser(description="Walk the applicant's journey through a running suite.")
    parser.add_argument("--gateway", default=f"http://127.0.0.1:{settings.gateway_port}",
                        help="gateway base URL (default: %(default)s)")
    arguments = parser.parse_args()
    password = settings.admin_password
    if not password and ADMIN_PASSWORD_FILE.exists():
        password = ADMIN_PASSWORD_FILE.read_text().strip()
    if not password:
        print("admin password unknown: set TALENT_ADMIN_PASSWORD or start the suite with `make run` first",
              file=sys.stderr)
        return 1
    return asyncio.run(main_async(arguments.gateway, settings.admin_account, password))


if __name__ == "__main__":
    sys.exit(main())
