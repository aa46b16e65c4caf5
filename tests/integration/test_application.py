"""The application service (申报) with identity and files, against the real PostgreSQL, RabbitMQ and S3.

Run with TALENT_TEST_SERVICES=identity,application,files (or all services). Binding and review events
are published by the tests themselves as CloudEvents envelopes on the run's exchange.
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import aio_pika
import asyncpg
import pytest

from services.common.db import create_pool
from tests.integration.application_support import (
    MATERIALS,
    MODULES,
    PERSON,
    REAL_NAME,
    UNIT_NAME,
    applied,
    approve_binding,
    at,
    attach_required,
    capture,
    codes,
    complete_profile,
    create_call,
    drain,
    eligibility,
    eligible_applicant,
    end_binding,
    failed_conditions,
    fill_modules,
    progress,
    publish,
    ready_application,
    review_event,
    save,
    sign_up_applicant,
    start_application,
    submit,
    try_start,
)
from tests.support import Portal, random_uscc


@pytest.fixture
def portal(suite, http, test_settings) -> Portal:
    services = ("identity", "application", "files")
    return Portal(http, {name: test_settings.service_url(name) for name in services})


@pytest.fixture
async def database(suite, test_settings):
    pool = await create_pool(test_settings.database_url, "application")
    yield pool
    await pool.close()


# Calls


async def test_calls_created_published_and_listed(portal, admin):
    applicant, _ = await sign_up_applicant(portal)
    call = await create_call(admin, publish=False)
    assert call["status"] == "draft"

    def open_ids(answer):
        return {item["call_id"] for item in answer["items"]}

    listed = await applicant.get("application", "/calls", params={"open": "true"})
    assert call["call_id"] not in open_ids(listed)

    published = await admin.post("application", f"/calls/{call['call_id']}/publish", expect=200)
    assert published["status"] == "published"
    assert published["is_open"] is True
    listed = await applicant.get("application", "/calls", params={"open": "true"})
    assert call["call_id"] in open_ids(listed)

    closed = await admin.post("application", f"/calls/{call['call_id']}/close", expect=200)
    assert closed["status"] == "closed"
    listed = await applicant.get("application", "/calls", params={"open": "true"})
    assert call["call_id"] not in open_ids(listed)
    status, body = await admin.request("POST", "application", f"/calls/{call['call_id']}/publish")
    assert status == 409
    assert body["code"] == "application.call_state_conflict"


async def test_call_later_window_not_listed_open(portal, admin):
    applicant, _ = await sign_up_applicant(portal)
    later = await create_call(admin, opens=24, closes=48)
    listed = await applicant.get("application", "/calls", params={"open": "true"})
    assert later["call_id"] not in {item["call_id"] for item in listed["items"]}
    everything = await applicant.get("application", "/calls")
    assert later["call_id"] in {item["call_id"] for item in everything["items"]}


async def test_call_creation_checks_body_and_role(portal, admin):
    status, body = await admin.request("POST", "application", "/calls", json={
        "title": "通知", "classes": ["A"], "opens_at": at(2), "closes_at": at(1)})
    assert status == 422
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("closes_at", "application.call_window_invalid")]

    status, body = await admin.request("POST", "application", "/calls", json={
        "title": "通知", "classes": ["F"], "opens_at": "2026-01-01T08:00:00", "closes_at": at(1)})
    assert status == 422
    fields = {e["field"] for e in body["errors"]}
    assert "opens_at" in fields
    assert "classes.0" in fields

    applicant, _ = await sign_up_applicant(portal)
    status, _ = await applicant.request("POST", "application", "/calls", json={
        "title": "通知", "classes": ["A"], "opens_at": at(0), "closes_at": at(1)})
    assert status == 403


# Eligibility (条件自检)


async def test_eligibility_fails_each_condition_then_passes(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, user_id = await sign_up_applicant(portal)

    found = await eligibility(applicant, call["call_id"])
    assert found["*"]["eligible"] is False
    assert found["call_open"]["passed"] is True
    assert found["unit_bound"]["passed"] is False
    assert found["unit_bound"]["reason"] == "尚未绑定推荐单位"
    assert "统一社会信用代码" in found["unit_bound"]["next_step"]
    assert found["unit_profile_complete"]["passed"] is False
    assert found["not_recently_graded"]["passed"] is True
    assert found["not_recently_graded"]["next_step"] is None

    status, body = await try_start(applicant, call["call_id"])
    assert status == 422
    assert body["code"] == "application.not_eligible"
    assert failed_conditions(body) == ["unit_bound", "unit_profile_complete"]

    uscc = random_uscc()
    await approve_binding(bus, database, user_id, uscc)
    found = await eligibility(applicant, call["call_id"])
    assert found["unit_bound"]["passed"] is True
    assert UNIT_NAME in found["unit_bound"]["reason"]
    assert found["unit_profile_complete"]["passed"] is False
    assert "报送信息" in found["unit_profile_complete"]["reason"]

    await complete_profile(bus, database, uscc, complete=False)
    assert (await eligibility(applicant, call["call_id"]))["unit_profile_complete"]["passed"] is False

    await complete_profile(bus, database, uscc)
    found = await eligibility(applicant, call["call_id"])
    assert found["*"]["eligible"] is True
    assert all(found[code]["passed"] for code in ("call_open", "unit_bound", "unit_profile_complete"))

    english = await eligibility(applicant, call["call_id"], headers={"Accept-Language": "en"})
    assert english["unit_bound"]["reason"].startswith("Bound to the recommending unit")


async def test_eligibility_call_not_open(portal, bus, database, admin):
    applicant, _, _ = await eligible_applicant(portal, bus, database)
    later = await create_call(admin, opens=24, closes=48)
    found = await eligibility(applicant, later["call_id"])
    assert found["*"]["eligible"] is False
    assert found["call_open"]["passed"] is False
    assert "尚未开始受理" in found["call_open"]["reason"]
    assert found["call_open"]["next_step"].startswith("请在 ")

    draft = await create_call(admin, publish=False)
    status, body = await applicant.request("GET", "application", "/eligibility",
                                           params={"call_id": draft["call_id"]})
    assert status == 404
    assert body["code"] == "application.call_not_found"


async def test_recently_graded_person_not_eligible(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, user_id, _ = await eligible_applicant(portal, bus, database)

    failing = {"result_id": str(uuid.uuid4()), "application_id": str(uuid.uuid4()), "person_id": user_id,
               "person_name": PERSON["real_name"], "id_number_masked": "220104********0316",
               "result": "not_graded", "result_label": "不予认定", "passing": False, "talent_class": None,
               "level": None, "recorded_at": at(-24 * 30)}
    await applied(database, await publish(bus, "review.result_recorded", failing, "review"))
    assert (await eligibility(applicant, call["call_id"]))["not_recently_graded"]["passed"] is True

    passing = {**failing, "result_id": str(uuid.uuid4()), "result": "graded", "result_label": "认定通过",
               "passing": True, "talent_class": "D", "level": 2}
    await applied(database, await publish(bus, "review.result_recorded", passing, "review"))
    found = await eligibility(applicant, call["call_id"])
    assert found["*"]["eligible"] is False
    assert found["not_recently_graded"]["passed"] is False
    assert "三年内不能再次申报" in found["not_recently_graded"]["reason"]


async def test_grading_over_three_years_ago_allowed(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, user_id, _ = await eligible_applicant(portal, bus, database)
    old = {"result_id": str(uuid.uuid4()), "application_id": str(uuid.uuid4()), "person_id": user_id,
           "person_name": PERSON["real_name"], "id_number_masked": "220104********0316", "result": "graded",
           "result_label": "认定通过", "passing": True, "talent_class": "E", "level": 1,
           "recorded_at": at(-24 * (3 * 365 + 2))}
    await applied(database, await publish(bus, "review.result_recorded", old, "review"))
    assert (await eligibility(applicant, call["call_id"]))["*"]["eligible"] is True


async def test_duplicated_binding_event_changes_nothing(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, user_id = await sign_up_applicant(portal)
    uscc = random_uscc()
    await complete_profile(bus, database, uscc)
    binding_id = str(uuid.uuid4())

    approved = await approve_binding(bus, database, user_id, uscc, binding_id)
    assert (await eligibility(applicant, call["call_id"]))["unit_bound"]["passed"] is True

    # The same envelope delivered again, and an unbinding of an older binding arriving late.
    await bus.exchange.publish(aio_pika.Message(approved.model_dump_json().encode(), message_id=approved.id),
                               routing_key=approved.type)
    await end_binding(bus, database, "binding.unbound", user_id, uscc, str(uuid.uuid4()))
    await end_binding(bus, database, "binding.rejected", user_id, uscc, str(uuid.uuid4()))
    assert (await eligibility(applicant, call["call_id"]))["unit_bound"]["passed"] is True
    deliveries = await database.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1",
                                         uuid.UUID(approved.id))
    assert deliveries == 1

    await end_binding(bus, database, "binding.unbound", user_id, uscc, binding_id)
    assert (await eligibility(applicant, call["call_id"]))["unit_bound"]["passed"] is False

    # binding.approved of the ended binding published a second time in a new envelope.
    await approve_binding(bus, database, user_id, uscc, binding_id)
    assert (await eligibility(applicant, call["call_id"]))["unit_bound"]["passed"] is False


async def test_older_unit_profile_arriving_late_ignored(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, user_id = await sign_up_applicant(portal)
    uscc = random_uscc()
    await approve_binding(bus, database, user_id, uscc)
    await complete_profile(bus, database, uscc, complete=True)
    await complete_profile(bus, database, uscc, complete=False, updated_at=at(-1))
    assert (await eligibility(applicant, call["call_id"]))["unit_profile_complete"]["passed"] is True


# Drafts


async def test_draft_created_with_unit_from_projections(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, user_id, uscc = await eligible_applicant(portal, bus, database)

    application = await start_application(applicant, call["call_id"])
    assert application["status"] == "draft"
    assert application["status_label"] == "草稿 (未提交)"
    assert application["uscc"] == uscc
    assert application["unit_name"] == UNIT_NAME
    assert application["unit_nature"] == "企业"
    assert application["person_id"] == user_id
    assert application["editable"] is True

    status, body = await try_start(applicant, call["call_id"])
    assert status == 409
    assert body["code"] == "application.already_exists"
    assert body["application_id"] == application["application_id"]

    mine = await applicant.get("application", "/applications")
    assert [(a["application_id"], a["status_label"]) for a in mine["items"]] == [
        (application["application_id"], "草稿 (未提交)")]


async def test_call_outside_window_refuses_drafts(portal, bus, database, admin):
    applicant, _, _ = await eligible_applicant(portal, bus, database)
    later = await create_call(admin, opens=24, closes=48)
    status, body = await try_start(applicant, later["call_id"])
    assert status == 422
    assert failed_conditions(body) == ["call_open"]

    closed = await create_call(admin)
    await admin.post("application", f"/calls/{closed['call_id']}/close", expect=200)
    status, body = await try_start(applicant, closed["call_id"])
    assert status == 422
    assert failed_conditions(body) == ["call_open"]


async def test_other_person_gets_404(portal, bus, database, admin):
    call = await create_call(admin)
    owner, _, _ = await eligible_applicant(portal, bus, database)
    application = await start_application(owner, call["call_id"])
    stranger, _ = await sign_up_applicant(portal)
    path = f"/applications/{application['application_id']}"

    attempts = [("GET", path, None), ("PUT", f"{path}/modules/achievements", {"text": "x"}),
                ("POST", f"{path}/validation", None), ("POST", f"{path}/submit", {"pledge": True}),
                ("GET", f"{path}/progress", None)]
    for method, url, body in attempts:
        status, answer = await stranger.request(method, "application", url, json=body)
        assert (method, url, status) == (method, url, 404)
        assert answer["code"] == "application.not_found"


async def test_module_save_and_if_match_conflict(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, _, _ = await eligible_applicant(portal, bus, database)
    application = await start_application(applicant, call["call_id"])
    path = f"/applications/{application['application_id']}/modules/basic_info"

    status, saved = await applicant.request("PUT", "application", path, json={
        "gender": "男", "real_name": "别人", "unit_nature": "事业单位"}, headers={"If-Match": '"0"'})
    assert status == 200
    assert saved["version"] == 1
    assert saved["content"] == {"gender": "男", "real_name": REAL_NAME, "unit_nature": "企业"}

    headers = {"Authorization": f"Bearer {applicant.token}", "If-Match": '"1"'}
    async with applicant.http.put(applicant.url("application", path), json=MODULES["basic_info"],
                                  headers=headers) as response:
        assert response.status == 200
        assert response.headers["ETag"] == '"2"'

    status, body = await applicant.request("PUT", "application", path, json={"gender": "女"},
                                           headers={"If-Match": '"1"'})
    assert status == 409
    assert body["code"] == "application.module_version_conflict"
    assert body["current_version"] == 2

    status, body = await applicant.request("PUT", "application", path, json={"gender": "女"})
    assert status == 428
    assert body["code"] == "application.if_match_required"
    assert body["current_version"] == 2

    saved = await save(applicant, application["application_id"], "basic_info", {"gender": "女"}, version=2)
    assert saved["version"] == 3
    detail = await applicant.get("application", f"/applications/{application['application_id']}")
    assert detail["modules"]["basic_info"]["version"] == 3
    assert detail["modules"]["basic_info"]["content"]["gender"] == "女"


async def test_module_save_checks_types_only(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, _, _ = await eligible_applicant(portal, bus, database)
    application = await start_application(applicant, call["call_id"])
    base = f"/applications/{application['application_id']}/modules"

    status, body = await applicant.request("PUT", "application", f"{base}/basic_info", json={
        "gender": "未知", "level": 7, "birth_date": "1985-13-01", "talent_source": "外地人才"})
    assert status == 422
    assert {(e["module"], e["field"], e["code"]) for e in body["errors"]} == {
        ("basic_info", "gender", "application.not_in_dictionary"),
        ("basic_info", "level", "validation.too_large"),
        ("basic_info", "birth_date", "validation.date"),
        ("basic_info", "talent_source", "application.not_in_dictionary")}
    messages = {e["field"]: e["message"] for e in body["errors"]}
    assert messages["gender"] == "“未知”不是可选项，请从下拉列表中选择"

    status, body = await applicant.request("PUT", "application", f"{base}/education",
                                           json=[{"school": "吉林大学", "start_date": "昨天"}])
    assert status == 422
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("0.start_date", "validation.date")]

    # Incomplete content and counts or lengths over the limits are saved; validation reports them.
    long_text = "成" * 301
    assert (await applicant.put("application", f"{base}/achievements", {"text": long_text}))["version"] == 1
    entries = [{"school": "吉林大学"}] * 4
    saved = await applicant.put("application", f"{base}/education", entries)
    assert [{k: v for k, v in entry.items() if k != "entry_id"} for entry in saved["content"]] == entries
    assert len({entry["entry_id"] for entry in saved["content"]}) == 4
    contract = await applicant.put("application", f"{base}/basic_info", {"long_term_contract": "否"})
    assert contract["content"]["long_term_contract"] is False
    # A code is stored as its label.
    coded = await save(applicant, application["application_id"], "basic_info", {"gender": "2", "ethnicity": "10"})
    assert (coded["content"]["gender"], coded["content"]["ethnicity"]) == ("女", "朝鲜族")

    assert (await applicant.put("application", f"{base}/honors", []))["content"] == []
    status, body = await applicant.request("PUT", "application", f"{base}/hobbies", json=[])
    assert status == 404
    assert body["code"] == "application.module_not_found"


# Validation (数据验证)


async def test_validation_lists_every_failure(portal, bus, database, admin):
    call = await create_call(admin, classes="ABC")
    applicant, _, _ = await eligible_applicant(portal, bus, database)
    application = await start_application(applicant, call["call_id"])
    application_id = application["application_id"]
    path = f"/applications/{application_id}/validation"

    empty = await applicant.post("application", path, expect=200)
    assert empty["passed"] is False
    found = codes(empty["errors"])
    for field in ("gender", "ethnicity", "birth_date", "political_status", "talent_source", "service_type",
                  "long_term_contract", "person_category", "talent_class", "level"):
        assert ("basic_info", field, "application.field_required") in found
    assert ("basic_info", "photo", "application.attachment_missing") in found
    assert ("education", "entries", "application.entries_missing") in found
    assert ("work_experience", "entries", "application.entries_missing") in found
    assert ("achievements", "text", "application.field_required") in found
    for kind in ("id_card", "employment_contract", "diploma", "degree"):
        assert ("materials", kind, "application.attachment_missing") in found
    assert ("materials", "introduction_agreement", "application.attachment_missing") not in found
    messages = {(e["module"], e["field"]): e["message"] for e in empty["errors"]}
    assert messages[("basic_info", "gender")] == "基本信息：请填写“性别”"
    assert messages[("basic_info", "photo")] == "基本信息：请上传个人照片"
    assert messages[("materials", "id_card")] == "材料附件：请上传身份证正反面"

    future = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    education = MODULES["education"][0]
    saved = await fill_modules(applicant, application_id,
                               basic_info={**MODULES["basic_info"], "talent_source": "引进人才",
                                           "service_type": "晋升认定", "long_term_contract": False},
                               education=[education, {**education, "end_date": "2003-01-01"},
                                          {**education, "end_date": future}, education],
                               work_experience=[{"employer": "吉林大学"}],
                               achievements={"text": "成" * 301})
    await attach_required(applicant, application_id, {**saved, "honors": []})

    result = await applicant.post("application", path, expect=200)
    assert result["passed"] is False
    assert codes(result["errors"]) == {
        ("basic_info", "introduced_from", "application.introduced_from_required"),
        ("basic_info", "previous_class", "application.promotion_field_required"),
        ("basic_info", "previous_graded_on", "application.promotion_field_required"),
        ("basic_info", "contract_end_date", "application.contract_end_required"),
        ("basic_info", "talent_class", "application.class_not_offered"),
        ("education", "entries", "application.too_many_entries"),
        ("education", "1.end_date", "application.end_not_after_start"),
        ("education", "2.end_date", "application.date_in_future"),
        ("work_experience", "0.position", "application.field_required"),
        ("work_experience", "0.start_date", "application.field_required"),
        ("achievements", "text", "application.text_too_long"),
        ("honors", "0.attachments", "application.entry_attachments_missing"),
        ("materials", "introduction_agreement", "application.attachment_missing"),
    }
    messages = {(e["module"], e["field"]): e["message"] for e in result["errors"]}
    assert messages[("achievements", "text")] == (
        "创新创业成果（突出业绩）：填写内容不超过 300 字，当前 301 字")
    assert messages[("education", "1.end_date")] == "学习经历第 2 条：结束日期应晚于开始日期"
    assert "引进人才" in messages[("basic_info", "introduced_from")]
    assert messages[("honors", "0.attachments")] == "人才荣誉表彰第 1 条：请上传证明材料（附件），每条 1–3 个"

    english = await applicant.post("application", path, expect=200, headers={"Accept-Language": "en"})
    english_messages = {(e["module"], e["field"]): e["message"] for e in english["errors"]}
    assert english_messages[("achievements", "text")] == (
        "Innovation and entrepreneurship achievements: at most 300 characters, found 301")
    assert english_messages[("work_experience", "0.position")] == (
        "Work experience, entry 1: position is required")


async def test_complete_application_passes_validation(portal, bus, database, admin):
    applicant, application = await ready_application(portal, bus, database, admin)
    result = await applicant.post("application", f"/applications/{application['application_id']}/validation",
                                  expect=200)
    assert result == {"passed": True, "errors": []}


# Submission


async def test_submit_without_pledge_422(portal, bus, database, admin):
    applicant, application = await ready_application(portal, bus, database, admin)
    path = f"/applications/{application['application_id']}/submit"
    for body in ({}, {"pledge": False}):
        status, answer = await applicant.request("POST", "application", path, json=body)
        assert status == 422
        assert [(e["field"], e["code"]) for e in answer["errors"]] == [
            ("pledge", "application.pledge_required")]
        assert "本人承诺" in answer["errors"][0]["message"]
    detail = await applicant.get("application", f"/applications/{application['application_id']}")
    assert detail["status"] == "draft"


async def test_submit_refused_with_validation_errors(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, _, _ = await eligible_applicant(portal, bus, database)
    application = await start_application(applicant, call["call_id"])
    application_id = application["application_id"]
    await fill_modules(applicant, application_id, achievements={"text": "成" * 301})

    validation = await applicant.post("application", f"/applications/{application_id}/validation", expect=200)
    status, body = await applicant.request("POST", "application", f"/applications/{application_id}/submit",
                                           json={"pledge": True})
    assert status == 422
    assert body["code"] == "application.validation_failed"
    assert body["errors"] == validation["errors"]
    assert ("achievements", "text", "application.text_too_long") in codes(body["errors"])


async def test_racing_submits_give_one_submission(portal, bus, database, admin, test_settings):
    applicant, application = await ready_application(portal, bus, database, admin)
    application_id = application["application_id"]
    channel, queue = await capture(bus, test_settings, "application.submitted")

    try:
        first, second = await asyncio.gather(submit(applicant, application_id),
                                             submit(applicant, application_id))
        again = await submit(applicant, application_id, headers={"Idempotency-Key": "retry-1"})
        envelopes = await drain(queue, application_id)
    finally:
        await channel.close()

    assert first["snapshot_version"] == second["snapshot_version"] == again["snapshot_version"] == 1
    assert first["submitted_at"] == second["submitted_at"]
    assert first["status_label"] == "已申报"
    assert len(envelopes) == 1
    snapshots = await database.fetchval("SELECT count(*) FROM snapshots WHERE application_id = $1",
                                        uuid.UUID(application_id))
    assert snapshots == 1
    with pytest.raises(asyncpg.RaiseError):
        await database.execute("UPDATE snapshots SET files = '[]' WHERE application_id = $1",
                               uuid.UUID(application_id))

    data = envelopes[0]["data"]
    assert data["person_name"] == REAL_NAME
    assert data["id_number_masked"].count("*") == 8
    assert data["unit_name"] == UNIT_NAME
    assert (data["talent_class"], data["level"]) == ("D", 2)
    assert data["snapshot"]["version"] == 1
    assert data["snapshot"]["modules"]["achievements"] == MODULES["achievements"]
    kinds = sorted(item["kind"] for item in data["snapshot"]["files"])
    assert kinds == sorted([*MATERIALS, "continuing_education", "publications", "honors"])
    assert data["snapshot"]["header"]["person_name"] == REAL_NAME
    assert data["snapshot"]["pledge"] is True
    assert set(data["snapshot"]["modules"]) == set(MODULES)


async def test_submitted_application_locked(portal, bus, database, admin):
    applicant, application = await ready_application(portal, bus, database, admin)
    application_id = application["application_id"]
    await submit(applicant, application_id, headers={"Idempotency-Key": "first"})

    detail = await applicant.get("application", f"/applications/{application_id}")
    assert (detail["status"], detail["editable"], detail["snapshot_version"]) == ("submitted", False, 1)
    status, body = await applicant.request(
        "PUT", "application", f"/applications/{application_id}/modules/achievements", json={"text": "改动"})
    assert status == 409
    assert body["code"] == "application.not_editable"
    repeated = await submit(applicant, application_id, headers={"Idempotency-Key": "first"})
    assert repeated["snapshot_version"] == 1


async def test_submit_after_call_closed_refused(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, application = await ready_application(portal, bus, database, admin, call)
    await admin.post("application", f"/calls/{call['call_id']}/close", expect=200)
    status, body = await applicant.request("POST", "application",
                                           f"/applications/{application['application_id']}/submit",
                                           json={"pledge": True})
    assert status == 422
    assert body["code"] == "application.not_eligible"
    assert failed_conditions(body) == ["call_open"]
    assert "已关闭" in body["conditions"][0]["reason"]


# Review events and progress (流程推送)


async def test_review_events_move_status(portal, bus, database, admin):
    applicant, application = await ready_application(portal, bus, database, admin)
    application_id = application["application_id"]
    await submit(applicant, application_id)

    tracked = await progress(applicant, application_id)
    assert (tracked["status"], tracked["status_label"]) == ("submitted", "已申报")
    assert [(n["node"], n["action"]) for n in tracked["nodes"]] == [("submission", "submitted")]
    assert (tracked["next"]["node"], tracked["next"]["actor"]) == ("unit", UNIT_NAME)

    await review_event(bus, database, "review.unit_approved", application_id, "unit",
                       opinion="材料齐全，同意推荐")
    tracked = await progress(applicant, application_id)
    assert tracked["status_label"] == "已申报"
    assert tracked["nodes"][1] | {"at": None} == {
        "node": "unit", "node_label": "推荐单位审核", "actor": "王芳", "action": "approved",
        "action_label": "审核通过", "opinion": "材料齐全，同意推荐", "at": None}
    assert tracked["next"]["node"] == "department"

    await review_event(bus, database, "review.material_approved", application_id, "department")
    tracked = await progress(applicant, application_id)
    assert tracked["status"] == "material_approved"
    assert tracked["status_label"] == "材料审核通过，请等待评定结果"
    assert tracked["next"]["node"] == "evaluation"

    result = {"result_id": str(uuid.uuid4()), "application_id": application_id,
              "person_id": application["person_id"], "person_name": REAL_NAME,
              "id_number_masked": "220104********0316", "result": "graded", "result_label": "认定通过",
              "passing": True, "talent_class": "D", "level": 2, "recorded_at": at(0)}
    await applied(database, await publish(bus, "review.result_recorded", result, "review"))
    tracked = await progress(applicant, application_id)
    assert tracked["status"] == "material_approved"
    assert (tracked["result"]["result_label"], tracked["result"]["talent_class"]) == ("认定通过", "D")
    assert tracked["next"] is None

    english = await applicant.get("application", f"/applications/{application_id}/progress",
                                  headers={"Accept-Language": "en"})
    assert english["status_label"] == "Material approved; awaiting the evaluation result"


async def test_terminated_application(portal, bus, database, admin):
    applicant, application = await ready_application(portal, bus, database, admin)
    application_id = application["application_id"]
    await submit(applicant, application_id)
    await review_event(bus, database, "review.terminated", application_id, "unit", opinion="不符合申报条件")

    tracked = await progress(applicant, application_id)
    assert (tracked["status"], tracked["status_label"]) == ("terminated", "审核不通过终止审核")
    assert tracked["nodes"][-1]["opinion"] == "不符合申报条件"
    assert tracked["next"] is None
    mine = await applicant.get("application", "/applications")
    assert mine["items"][0]["status_label"] == "审核不通过终止审核"


async def test_returned_application_resubmitted(portal, bus, database, admin, test_settings):
    applicant, application = await ready_application(portal, bus, database, admin)
    application_id = application["application_id"]
    await submit(applicant, application_id)
    await review_event(bus, database, "review.unit_approved", application_id, "unit")
    await review_event(bus, database, "review.returned", application_id, "department",
                       opinion="请补充创新创业成果的佐证数据", modules=["achievements"])

    detail = await applicant.get("application", f"/applications/{application_id}")
    assert (detail["status"], detail["status_label"], detail["editable"]) == ("returned", "被退回", True)
    assert detail["returned"] == {"opinion": "请补充创新创业成果的佐证数据", "modules": ["achievements"],
                                  "module_labels": ["创新创业成果（突出业绩）"], "stage": "department",
                                  "stage_label": "业务部门审核"}
    assert detail["editable_modules"] == ["achievements"]
    assert (await progress(applicant, application_id))["next"]["node"] == "applicant"

    await save(applicant, application_id, "achievements",
               {"text": MODULES["achievements"]["text"][:200] + "新增产值经第三方审计确认。"}, version=1)
    channel, queue = await capture(bus, test_settings, "application.submitted", "application.resubmitted")
    try:
        answer = await submit(applicant, application_id)
        envelopes = await drain(queue, application_id)
    finally:
        await channel.close()

    assert answer["snapshot_version"] == 2
    assert answer["status_label"] == "已申报"
    assert [envelope["type"] for envelope in envelopes] == ["application.resubmitted"]
    assert envelopes[0]["data"]["changed_modules"] == ["achievements"]
    assert [(c["module"], c["field_path"]) for c in envelopes[0]["data"]["changes"]] == [("achievements", "text")]
    assert envelopes[0]["data"]["snapshot"]["version"] == 2
    tracked = await progress(applicant, application_id)
    assert [n["action"] for n in tracked["nodes"]] == ["submitted", "approved", "returned", "resubmitted"]
    assert tracked["next"]["node"] == "department"
    detail = await applicant.get("application", f"/applications/{application_id}")
    assert (detail["status"], detail["returned"], detail["snapshot_version"]) == ("submitted", None, 2)
