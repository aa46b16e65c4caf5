"""The application form at full depth, with identity, files and review against the real PostgreSQL,
RabbitMQ and S3.

The tests cover dictionaries, the conditional rules on the server, entry ids and their files,
concurrent saves, racing submits, the return cycle with locked modules and the changes reviewers
see, and the summary table PDF.

Run with TALENT_TEST_SERVICES=identity,application,files,review (or all services).
"""

import asyncio
import io
import uuid

import asyncpg
import pytest
from pypdf import PdfReader

from services.common.db import create_pool
from tests.conftest import eventually
from tests.integration.application_support import (
    FIXTURES,
    MODULES,
    REAL_NAME,
    attach_required,
    capture,
    complete_profile,
    create_call,
    drain,
    eligible_applicant,
    fill_modules,
    module_path,
    ready_application,
    save,
    sign_up_applicant,
    start_application,
    submit,
    upload,
)
from tests.support import Portal, new_unit

STAFF_PASSWORD = "Dept#2026Review!"


@pytest.fixture
def portal(suite, http, test_settings) -> Portal:
    services = ("identity", "application", "files", "review")
    return Portal(http, {name: test_settings.service_url(name) for name in services})


@pytest.fixture
async def database(suite, test_settings):
    pool = await create_pool(test_settings.database_url, "application")
    yield pool
    await pool.close()


async def draft(portal, bus, database, admin) -> tuple[Portal, str, str]:
    """An eligible applicant's new draft; returns the applicant, the application id and the unit's USCC."""
    call = await create_call(admin)
    applicant, _, uscc = await eligible_applicant(portal, bus, database)
    application = await start_application(applicant, call["call_id"])
    return applicant, application["application_id"], uscc


async def unit_reviewer_of(portal: Portal, uscc: str) -> Portal:
    unit = new_unit(uscc=uscc)
    await portal.register_unit(unit)
    return await portal.login(uscc, unit["password"])


async def department_reviewer(portal: Portal, admin: Portal) -> Portal:
    account = f"dept{uuid.uuid4().hex[:10]}"
    await admin.post("identity", "/staff", {"account": account, "name": "业务部门审核员",
                                            "role": "department_reviewer", "password": STAFF_PASSWORD}, expect=201)
    return await portal.login(account, STAFF_PASSWORD)


async def pending_task(reviewer: Portal, application_id: str, stage: str = "unit") -> dict:
    async def found():
        tasks = await reviewer.get("review", "/tasks", params={"stage": stage, "status": "pending", "limit": "200"})
        return next((task for task in tasks["items"] if task["application_id"] == application_id), None)
    return await eventually(found)


async def errors_of(applicant: Portal, application_id: str) -> set[tuple[str, str, str]]:
    result = await applicant.post("application", f"/applications/{application_id}/validation", expect=200)
    return {(error["module"], error["field"], error["code"]) for error in result["errors"]}


# Dictionaries and the form


async def test_dictionary_searched_by_label_prefix(portal):
    listed = await portal.get("application", "/dictionaries")
    levels = await portal.get("application", "/dictionaries/degree_level", params={"q": "硕"})
    categories = await portal.get("application", "/dictionaries/person_category")
    english = await portal.get("application", "/dictionaries/talent_class", headers={"Accept-Language": "en"})
    status, missing = await portal.request("GET", "application", "/dictionaries/hobbies")

    names = {item["name"] for item in listed["items"]}
    assert {"degree_level", "degree", "study_mode", "person_category", "talent_source", "service_type",
            "talent_class", "unit_nature", "ethnicity", "political_status"} <= names
    assert levels == {"name": "degree_level", "label": "学历", "items": [
        {"code": "14", "label": "硕士研究生", "attributes": None}]}
    assert categories["items"][0]["attributes"] == {"professional_technical": True, "vocational_skill": False}
    assert english["label"] == "talent class"
    assert [item["code"] for item in english["items"]] == ["A", "B", "C", "D", "E"]
    assert (status, missing["code"]) == (404, "application.dictionary_not_found")


async def test_form_lists_modules_and_rules(portal):
    form = await portal.get("application", "/form")
    modules = {module["module"]: module for module in form["modules"]}

    assert list(modules) == ["basic_info", "education", "continuing_education", "publications", "work_experience",
                             "part_time_posts", "enterprise_performance", "achievements", "honors", "awards"]
    assert (modules["publications"]["min_attachments"], modules["publications"]["max_attachments"]) == (1, 20)
    assert modules["education"]["max_entries"] == 3
    assert modules["awards"]["max_entries"] is None
    fields = {field["name"]: field for field in modules["basic_info"]["fields"]}
    assert fields["introduced_from"]["required_when"] == "人才来源为“引进人才”或“柔性引进人才”时必填"
    assert fields["contract_end_date"]["required_when"] == "是否签订长期聘用合同（五年以上）为“否”时必填"
    assert fields["unit_nature"]["read_only"] is True
    assert fields["professional_technical"]["read_only"] is True
    assert form["achievements_max_chars"] == 300


# Conditional rules, checked by the server

CONDITIONAL = {"application.introduced_from_required", "application.promotion_field_required",
               "application.contract_end_required", "application.professional_field_required",
               "application.vocational_field_required"}
AGREEMENT = ("materials", "introduction_agreement", "application.attachment_missing")
RULE_CASES = [
    ("introduced without origin", {"talent_source": "引进人才"},
     {("basic_info", "introduced_from", "application.introduced_from_required"), AGREEMENT}),
    ("flexibly introduced without origin", {"talent_source": "柔性引进人才"},
     {("basic_info", "introduced_from", "application.introduced_from_required"), AGREEMENT}),
    ("introduced with origin", {"talent_source": "引进人才", "introduced_from": "上海交通大学"}, {AGREEMENT}),
    ("existing talent", {"talent_source": "现有人才", "introduced_from": "上海交通大学"}, set()),
    ("promotion without grading", {"service_type": "晋升认定"},
     {("basic_info", "previous_class", "application.promotion_field_required"),
      ("basic_info", "previous_graded_on", "application.promotion_field_required")}),
    ("promotion with grading", {"service_type": "晋升认定", "previous_class": "E", "previous_graded_on": "2021-05-20"},
     set()),
    ("first grading", {"service_type": "首次认定", "previous_class": "E"}, set()),
    ("short contract without end", {"long_term_contract": "否"},
     {("basic_info", "contract_end_date", "application.contract_end_required")}),
    ("short contract with end", {"long_term_contract": "否", "contract_end_date": "2030-06-30"}, set()),
    ("long contract", {"long_term_contract": "是", "contract_end_date": "2030-06-30"}, set()),
    ("skilled without skill", {"person_category": "技能人才"},
     {("basic_info", name, "application.vocational_field_required")
      for name in ("skill_name", "skill_level", "skill_obtained_on")}),
    ("skilled with skill", {"person_category": "技能人才", "skill_name": "焊工", "skill_level": "二级/技师",
                            "skill_obtained_on": "2015-10-01"}, set()),
    ("professional without title", {"professional_title": None, "title_level": None, "title_obtained_on": None},
     {("basic_info", name, "application.professional_field_required")
      for name in ("professional_title", "title_level", "title_obtained_on")}),
]


async def test_conditional_rules_both_branches(portal, bus, database, admin):
    applicant, application_id, _ = await draft(portal, bus, database, admin)

    for name, changes, expected in RULE_CASES:
        saved = await save(applicant, application_id, "basic_info", {**MODULES["basic_info"], **changes})
        found = {error for error in await errors_of(applicant, application_id)
                 if error[2] in CONDITIONAL or error == AGREEMENT}
        assert found == expected, name
        if not expected:
            dropped = {key for key, value in changes.items() if value is not None} - set(saved["content"])
            # A conditional field that does not apply is not stored.
            assert dropped == ({"introduced_from"} if name == "existing talent" else
                               {"previous_class"} if name == "first grading" else
                               {"contract_end_date"} if name == "long contract" else set()), name

    derived = await save(applicant, application_id, "basic_info", {
        **MODULES["basic_info"], "person_category": "02", "professional_technical": True})
    assert (derived["content"]["person_category"], derived["content"]["professional_technical"],
            derived["content"]["vocational_skill"]) == ("技能人才", False, True)


# Entries and their files


async def test_entry_ids_kept_and_files_counted(portal, bus, database, admin):
    applicant, application_id, _ = await draft(portal, bus, database, admin)
    honor = MODULES["honors"][0]

    first = await save(applicant, application_id, "honors", [honor])
    entry_id = first["content"][0]["entry_id"]
    assert ("honors", "0.attachments", "application.entry_attachments_missing") in await errors_of(
        applicant, application_id)
    for number in range(3):
        await upload(applicant, application_id, "honors", f"证书{number}.pdf", entry_id,
                     data=(b"%PDF-1.4\n% honour " + str(number).encode() + b"\n%%EOF\n"))
    fourth = await upload(applicant, application_id, "honors", "证书3.pdf", entry_id, data=b"%PDF-1.4\n%3\n%%EOF\n",
                          expect=409)
    assert fourth["code"] == "files.too_many"
    assert not {error for error in await errors_of(applicant, application_id) if error[0] == "honors"}

    second = await save(applicant, application_id, "honors", [{**honor, "name": "长白山技能名师"},
                                                              {"entry_id": entry_id, **honor}], version=1)
    assert second["content"][1]["entry_id"] == entry_id
    assert second["content"][0]["entry_id"] != entry_id
    assert ("honors", "0.attachments", "application.entry_attachments_missing") in await errors_of(
        applicant, application_id)

    status, body = await applicant.request("PUT", "application", module_path(application_id, "honors"),
                                           json=[{"entry_id": "madeup1", **honor}], headers={"If-Match": '"2"'})
    assert status == 422
    assert [(e["module"], e["field"], e["code"]) for e in body["errors"]] == [
        ("honors", "0.entry_id", "application.entry_unknown")]


# Concurrency


async def test_two_tabs_never_overwrite(portal, bus, database, admin):
    applicant, application_id, _ = await draft(portal, bus, database, admin)
    path = module_path(application_id, "achievements")
    await save(applicant, application_id, "achievements", {"text": "初稿"})

    first_tab = {"text": "第一个页面保存的内容"}
    second_tab = {"text": "第二个页面保存的内容"}
    answers = await asyncio.gather(
        applicant.request("PUT", "application", path, json=first_tab, headers={"If-Match": '"1"'}),
        applicant.request("PUT", "application", path, json=second_tab, headers={"If-Match": '"1"'}))

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 409]
    winner = next(body for status, body in answers if status == 200)
    loser = next(body for status, body in answers if status == 409)
    assert winner["version"] == 2
    assert loser["code"] == "application.module_version_conflict"
    assert loser["current_version"] == 2
    detail = await applicant.get("application", f"/applications/{application_id}")
    assert detail["modules"]["achievements"]["content"] == winner["content"]

    # The winner's request retried (its response was lost) returns the saved module, not a conflict.
    retried = await save(applicant, application_id, "achievements", winner["content"], version=1)
    assert (retried["version"], retried["content"]) == (2, winner["content"])


async def test_racing_submits_with_one_key(portal, bus, database, admin, test_settings):
    applicant, application = await ready_application(portal, bus, database, admin)
    application_id = application["application_id"]
    channel, queue = await capture(bus, test_settings, "application.submitted")
    key = {"Idempotency-Key": f"submit-{uuid.uuid4()}"}

    try:
        answers = await asyncio.gather(*(submit(applicant, application_id, headers=key) for _ in range(3)),
                                       submit(applicant, application_id))
        envelopes = await drain(queue, application_id)
    finally:
        await channel.close()

    assert {answer["snapshot_version"] for answer in answers} == {1}
    assert len({answer["submitted_at"] for answer in answers}) == 1
    assert len(envelopes) == 1
    count = await database.fetchval("SELECT count(*) FROM snapshots WHERE application_id = $1",
                                    uuid.UUID(application_id))
    assert count == 1


# The return cycle with the review service


async def test_return_cycle_locks_and_diffs(portal, bus, database, admin, test_settings):
    call = await create_call(admin)
    applicant, _, uscc = await eligible_applicant(portal, bus, database)
    application_id = (await start_application(applicant, call["call_id"]))["application_id"]
    saved = await fill_modules(applicant, application_id)
    await attach_required(applicant, application_id, saved)
    await submit(applicant, application_id)
    reviewer = await unit_reviewer_of(portal, uscc)
    task = await pending_task(reviewer, application_id)
    first_detail = await reviewer.get("review", f"/tasks/{task['task_id']}")
    assert (first_detail["changed_modules"], first_detail["changes"]) == ([], [])

    await reviewer.post("review", f"/tasks/{task['task_id']}/decision", {
        "decision": "return", "opinion": "请补充学历信息和荣誉证书", "modules": ["education", "honors"]})

    async def returned():
        detail = await applicant.get("application", f"/applications/{application_id}")
        return detail if detail["status"] == "returned" else None

    detail = await eventually(returned)
    assert detail["editable_modules"] == ["education", "honors"]
    assert detail["returned"]["opinion"] == "请补充学历信息和荣誉证书"
    assert detail["returned"]["module_labels"] == ["学习经历", "人才荣誉表彰"]
    assert detail["returned"]["stage_label"] == "推荐单位审核"

    # Modules the reviewer did not tick stay locked, and so do their files.
    for module in ("basic_info", "work_experience", "achievements", "awards"):
        status, body = await applicant.request("PUT", "application", module_path(application_id, module),
                                               json=MODULES[module], headers={"If-Match": "*"})
        assert (module, status, body["code"]) == (module, 409, "application.module_locked")
        assert body["module"] == module
    status, body = await applicant.request("PUT", "application", module_path(application_id, "basic_info"),
                                           json=MODULES["basic_info"], headers={"If-Match": "*"})
    assert body["title"] == "该模块未被退回修改，不能编辑"
    assert body["detail"].startswith(
        "“基本信息”未被退回修改，不能编辑。审核退回时勾选需要修改的模块为：学习经历、人才荣誉表彰。")
    locked_file = await upload(applicant, application_id, "id_card", "id_card.pdf", expect=409)
    assert locked_file["code"] == "files.slot_locked"

    education = detail["modules"]["education"]
    changed_education = [{**education["content"][0], "major": "机械设计制造及其自动化"}, *education["content"][1:]]
    await save(applicant, application_id, "education", changed_education, version=education["version"])
    honors = detail["modules"]["honors"]
    new_honor = {"name": "长春市劳动模范", "granted_by": "长春市人民政府", "recognition_level": "市（厅）级",
                 "granted_on": "2023-04-28"}
    saved_honors = await save(applicant, application_id, "honors", [*honors["content"], new_honor],
                              version=honors["version"])
    new_entry = saved_honors["content"][1]["entry_id"]
    await upload(applicant, application_id, "honors", "劳模证书.pdf", new_entry,
                 data=(FIXTURES / "honor_certificate.pdf").read_bytes())

    channel, queue = await capture(bus, test_settings, "application.resubmitted")
    try:
        answer = await submit(applicant, application_id)
        envelopes = await drain(queue, application_id)
    finally:
        await channel.close()

    assert answer["snapshot_version"] == 2
    data = envelopes[0]["data"]
    assert data["changed_modules"] == ["education", "honors"]
    changes = {(change["module"], change["field_path"]): change for change in data["changes"]}
    assert set(changes) == {("education", "0.major"), ("honors", "1"), ("honors", "1.attachments")}
    assert (changes[("education", "0.major")]["before"], changes[("education", "0.major")]["after"]) == (
        "机械工程及自动化", "机械设计制造及其自动化")
    assert changes[("honors", "1")]["after"] == new_honor
    assert changes[("honors", "1.attachments")]["after"][0]["file_name"] == "劳模证书.pdf"

    reopened = await pending_task(reviewer, application_id)
    reopened_detail = await reviewer.get("review", f"/tasks/{reopened['task_id']}")
    assert reopened["task_id"] != task["task_id"]
    assert reopened["changed_modules"] == ["education", "honors"]
    assert reopened_detail["changes"] == data["changes"]
    assert reopened_detail["snapshot"]["version"] == 2


# 单位性质 follows the unit's profile


async def test_unit_nature_refreshed_on_submit(portal, bus, database, admin, test_settings):
    call = await create_call(admin)
    applicant, _, uscc = await eligible_applicant(portal, bus, database)
    application_id = (await start_application(applicant, call["call_id"]))["application_id"]
    saved = await fill_modules(applicant, application_id)
    await attach_required(applicant, application_id, saved)
    assert saved["basic_info"]["unit_nature"] == "企业"

    await complete_profile(bus, database, uscc, nature="事业单位")
    detail = await applicant.get("application", f"/applications/{application_id}")
    assert detail["modules"]["basic_info"]["content"]["unit_nature"] == "事业单位"

    channel, queue = await capture(bus, test_settings, "application.submitted")
    try:
        await submit(applicant, application_id)
        envelopes = await drain(queue, application_id)
    finally:
        await channel.close()

    snapshot = envelopes[0]["data"]["snapshot"]
    assert snapshot["modules"]["basic_info"]["unit_nature"] == "事业单位"
    assert snapshot["header"]["unit_nature"] == "事业单位"
    stored = await database.fetchval(
        "SELECT content->>'unit_nature' FROM modules WHERE application_id = $1 AND module = 'basic_info'",
        uuid.UUID(application_id))
    assert stored == "事业单位"


# The summary table (一览表)


def pdf_text(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


async def summary(reader: Portal, application_id: str, expect=200, **params) -> tuple[int, dict[str, str], bytes]:
    path = f"/applications/{application_id}/summary.pdf"
    async with reader.http.get(reader.url("application", path), params=params,
                               headers={"Authorization": f"Bearer {reader.token}"}) as response:
        body = await response.read()
        assert response.status == expect, body[:300]
        return response.status, dict(response.headers), body


async def test_summary_pdf_for_owner_and_reviewers(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, _, uscc = await eligible_applicant(portal, bus, database)
    application_id = (await start_application(applicant, call["call_id"]))["application_id"]
    saved = await fill_modules(applicant, application_id)
    await attach_required(applicant, application_id, saved)
    stranger, _ = await sign_up_applicant(portal)
    department = await department_reviewer(portal, admin)
    unit = await unit_reviewer_of(portal, uscc)
    other_unit = await unit_reviewer_of(portal, new_unit()["uscc"])

    _, headers, pdf = await summary(applicant, application_id, disposition="inline")
    reader, text = pdf_text(pdf)
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"].startswith("inline; filename=")
    assert REAL_NAME in text
    assert "未提交的草稿" in text
    assert len(reader.pages[0].images) == 1
    await summary(stranger, application_id, expect=404)
    await summary(department, application_id, expect=404)
    await summary(unit, application_id, expect=404)

    await submit(applicant, application_id)
    _, headers, pdf = await summary(applicant, application_id)
    _, text = pdf_text(pdf)
    assert headers["Content-Disposition"].startswith("attachment; filename=")
    assert "filename*=UTF-8''%E4%BA%BA%E6%89%8D" in headers["Content-Disposition"]
    assert "第 1 版" in text
    assert "专利" in text
    await summary(other_unit, application_id, expect=404)
    await summary(stranger, application_id, expect=404)
    _, _, unit_pdf = await summary(unit, application_id)
    assert REAL_NAME in pdf_text(unit_pdf)[1]

    async def photo_shown():
        _, _, reviewed = await summary(department, application_id)
        reader, _ = pdf_text(reviewed)
        return len(reader.pages[0].images) == 1

    # The files service learns asynchronously that the reviewers may read the photo.
    assert await eventually(photo_shown)


async def test_snapshots_immutable(portal, bus, database, admin):
    applicant, application = await ready_application(portal, bus, database, admin)
    await submit(applicant, application["application_id"])

    with pytest.raises(asyncpg.RaiseError):
        await database.execute("UPDATE snapshots SET header = '{}' WHERE application_id = $1",
                               uuid.UUID(application["application_id"]))
