"""Calls (通知), eligibility (条件自检) and the projections behind it, against the real services.

Run with TALENT_TEST_SERVICES=identity,application,files (or all services). Binding and review events
are published by the tests as CloudEvents envelopes on the run's exchange.
"""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from services.application.gradings import id_number_hash
from services.common.db import create_pool
from tests.conftest import eventually
from tests.integration.eligibility_support import (
    UNIT_NAME,
    approve_binding,
    at,
    complete_profile,
    create_call,
    deliver,
    eligibility,
    eligible_applicant,
    end_binding,
    failed_conditions,
    graded,
    next_whole_second,
    publish_again,
    request_binding,
    sign_up_applicant,
    try_start,
)
from tests.support import Portal, random_uscc


@pytest.fixture
def portal(suite, http, test_settings) -> Portal:
    return Portal(http, {name: test_settings.service_url(name) for name in ("identity", "application", "files")})


@pytest.fixture
async def database(suite, test_settings):
    pool = await create_pool(test_settings.database_url, "application")
    yield pool
    await pool.close()


async def submit(applicant: Portal, application_id: str) -> tuple[int, dict]:
    return await applicant.request("POST", "application", f"/applications/{application_id}/submit",
                                   json={"pledge": True})


async def review(bus, database, type: str, application_id: str, stage: str = "unit") -> None:
    await deliver(bus, database, type, {"task_id": str(uuid.uuid4()), "application_id": application_id,
                                        "stage": stage, "opinion": "请补充材料", "reviewer_name": "王芳",
                                        "decided_at": at(0), "modules": ["achievements"]}, source="review")


# Calls: who can list them, and their window at the second


async def test_open_calls_listed_without_sign_in(portal, admin):
    published = await create_call(admin)
    draft = await create_call(admin, publish=False)

    anonymous = await portal.get("application", "/calls", params={"open": "true"})
    one = await portal.get("application", f"/calls/{published['call_id']}")
    _, hidden = await portal.request("GET", "application", f"/calls/{draft['call_id']}", expect=404)
    as_admin = await admin.get("application", f"/calls/{draft['call_id']}")

    listed = {item["call_id"]: item for item in anonymous["items"]}
    assert published["call_id"] in listed
    assert draft["call_id"] not in listed
    assert listed[published["call_id"]]["is_open"] is True
    assert one["opens_at"].endswith("+08:00")
    assert one["closes_at"].endswith("+08:00")
    assert one["window_label"].endswith("（北京时间）")
    assert hidden["code"] == "application.call_not_found"
    assert as_admin["status"] == "draft"


async def test_window_kept_to_the_second(admin):
    call = await create_call(admin, opens="2031-06-01T00:00:00.700+08:00", closes="2031-07-01T00:00:00.300+08:00",
                             publish=False)
    assert call["opens_at"] == "2031-06-01T00:00:00+08:00"
    assert call["closes_at"] == "2031-07-01T00:00:00+08:00"
    assert call["window_label"] == "2031-06-01 00:00:00 至 2031-06-30 23:59:59（北京时间）"


async def test_ended_call_cannot_be_published(admin):
    ended = await create_call(admin, opens=-48, closes=-24, publish=False)
    status, body = await admin.request("POST", "application", f"/calls/{ended['call_id']}/publish")
    assert status == 409
    assert body["code"] == "application.call_expired"


async def test_call_opens_at_its_second(portal, bus, database, admin):
    applicant, _, _ = await eligible_applicant(portal, bus, database)
    opens_at = next_whole_second(2)
    call = await create_call(admin, opens=opens_at.isoformat(), closes=24)

    status, early = await try_start(applicant, call["call_id"])
    assert datetime.now(UTC) < opens_at
    assert status == 422
    assert failed_conditions(early) == ["call_open"]
    assert "尚未开始受理" in early["conditions"][0]["reason"]

    async def opened():
        found = await eligibility(applicant, call["call_id"])
        return datetime.now(UTC) if found["call_open"]["passed"] else None
    seen_open_at = await eventually(opened, timeout=15)

    assert seen_open_at >= opens_at
    status, _ = await try_start(applicant, call["call_id"])
    assert status == 201


async def test_call_closes_at_its_second(portal, bus, database, admin):
    early_bird, _, _ = await eligible_applicant(portal, bus, database)
    latecomer, _, _ = await eligible_applicant(portal, bus, database)
    closes_at = next_whole_second(3)
    call = await create_call(admin, opens=-1, closes=closes_at.isoformat())

    status, draft = await try_start(early_bird, call["call_id"])
    assert datetime.now(UTC) < closes_at
    assert status == 201

    async def closed():
        found = await eligibility(latecomer, call["call_id"])
        return datetime.now(UTC) if not found["call_open"]["passed"] else None
    seen_closed_at = await eventually(closed, timeout=15)

    assert seen_closed_at >= closes_at
    status, rejected_draft = await try_start(latecomer, call["call_id"])
    assert status == 422
    assert failed_conditions(rejected_draft) == ["call_open"]
    assert "已截止" in rejected_draft["conditions"][0]["reason"]
    status, rejected_submit = await submit(early_bird, draft["application_id"])
    assert status == 422
    assert rejected_submit["code"] == "application.not_eligible"
    assert failed_conditions(rejected_submit) == ["call_open"]


# Eligibility from the projections


async def test_pending_binding_named_then_approved(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, user_id, _ = await sign_up_applicant(portal)
    uscc, binding_id = random_uscc(), str(uuid.uuid4())

    await request_binding(bus, database, user_id, uscc, binding_id)
    pending = await eligibility(applicant, call["call_id"])
    pending_en = await eligibility(applicant, call["call_id"], headers={"Accept-Language": "en"})
    await approve_binding(bus, database, user_id, uscc, binding_id)
    await complete_profile(bus, database, uscc)
    approved = await eligibility(applicant, call["call_id"])

    assert pending["unit_bound"]["passed"] is False
    assert pending["unit_bound"]["reason"] == f"绑定推荐单位“{UNIT_NAME}”的申请尚待单位审核"
    assert "审核人" in pending["unit_bound"]["next_step"]
    assert pending_en["unit_bound"]["reason"] == f"Your request to bind {UNIT_NAME} awaits the unit's review"
    assert pending["unit_profile_complete"]["reason"] == "尚未绑定推荐单位，无法确认单位报送信息"
    assert approved["*"]["eligible"] is True


async def test_reordered_binding_events(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, user_id, _ = await sign_up_applicant(portal)
    uscc, old_id, new_id = random_uscc(), str(uuid.uuid4()), str(uuid.uuid4())
    await complete_profile(bus, database, uscc)

    # The unbinding of the old binding arrives before its approval.
    await end_binding(bus, database, "binding.unbound", user_id, uscc, old_id)
    await approve_binding(bus, database, user_id, uscc, old_id)
    assert (await eligibility(applicant, call["call_id"]))["unit_bound"]["passed"] is False

    # The new binding's request arrives after its approval.
    approved = await approve_binding(bus, database, user_id, uscc, new_id)
    await request_binding(bus, database, user_id, uscc, new_id)
    await publish_again(bus, approved)
    found = await eligibility(applicant, call["call_id"])
    assert found["unit_bound"]["passed"] is True
    assert found["*"]["eligible"] is True


async def test_unit_profile_versions_reordered(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, user_id, _ = await sign_up_applicant(portal)
    uscc = random_uscc()
    await approve_binding(bus, database, user_id, uscc)

    third = await complete_profile(bus, database, uscc, complete=True, version=3)
    await complete_profile(bus, database, uscc, complete=False, version=2)
    await publish_again(bus, third)
    assert (await eligibility(applicant, call["call_id"]))["unit_profile_complete"]["passed"] is True
    row = await database.fetchrow("SELECT version, complete FROM units WHERE uscc = $1", uscc)
    assert (row["version"], row["complete"]) == (3, True)

    await complete_profile(bus, database, uscc, complete=False, version=4)
    found = await eligibility(applicant, call["call_id"])
    assert found["unit_profile_complete"]["passed"] is False
    assert "工作台" in found["unit_profile_complete"]["next_step"]


async def test_person_projection_has_id_number_hash(portal, database, test_settings):
    _, user_id, person = await sign_up_applicant(portal)

    async def projected():
        return await database.fetchrow("SELECT * FROM persons WHERE person_id = $1", user_id)
    row = await eventually(projected)

    assert row["id_number_hash"] == id_number_hash(test_settings.id_number_hash_key, person["id_number"])
    assert row["real_name"] == person["real_name"]


# Drafts follow the binding; submission checks the conditions again


async def test_draft_follows_new_binding(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, user_id, first_unit = await eligible_applicant(portal, bus, database)
    first_binding = (await database.fetchval(
        "SELECT binding_id FROM bindings WHERE person_id = $1", user_id))
    draft = await applicant.post("application", "/applications", {"call_id": call["call_id"]}, expect=201)

    second_unit = random_uscc()
    await complete_profile(bus, database, second_unit, nature="事业单位", unit_name="吉林省农业科学院")
    await end_binding(bus, database, "binding.unbound", user_id, first_unit, first_binding)
    kept = await applicant.get("application", f"/applications/{draft['application_id']}")
    await approve_binding(bus, database, user_id, second_unit, unit_name="吉林省农业科学院")
    moved = await applicant.get("application", f"/applications/{draft['application_id']}")

    assert (kept["uscc"], kept["unit_nature"]) == (first_unit, "企业")
    assert (moved["uscc"], moved["unit_name"], moved["unit_nature"]) == (second_unit, "吉林省农业科学院", "事业单位")


async def test_submit_rechecks_each_condition(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, user_id, uscc = await eligible_applicant(portal, bus, database)
    draft = await applicant.post("application", "/applications", {"call_id": call["call_id"]}, expect=201)
    application_id = draft["application_id"]
    binding_id = await database.fetchval("SELECT binding_id FROM bindings WHERE person_id = $1", user_id)

    await complete_profile(bus, database, uscc, complete=False)
    status, incomplete = await submit(applicant, application_id)
    await complete_profile(bus, database, uscc, complete=True)
    await end_binding(bus, database, "binding.unbound", user_id, uscc, binding_id)
    _, unbound = await submit(applicant, application_id)
    await approve_binding(bus, database, user_id, uscc)
    await graded(bus, database, user_id, days_ago=200)
    _, recently_graded = await submit(applicant, application_id)

    assert status == 422
    assert failed_conditions(incomplete) == ["unit_profile_complete"]
    assert failed_conditions(unbound) == ["unit_bound", "unit_profile_complete"]
    assert failed_conditions(recently_graded) == ["not_recently_graded"]
    detail = await applicant.get("application", f"/applications/{application_id}")
    assert detail["status"] == "draft"


async def test_resubmission_outside_window_through_own_unit(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, user_id, uscc = await eligible_applicant(portal, bus, database)
    draft = await applicant.post("application", "/applications", {"call_id": call["call_id"]}, expect=201)
    application_id = draft["application_id"]
    # Mark the draft submitted in the database, since module contents and files are another test's concern.
    await database.execute("UPDATE applications SET status = 'submitted' WHERE application_id = $1",
                           uuid.UUID(application_id))
    await review(bus, database, "review.returned", application_id)
    await admin.post("application", f"/calls/{call['call_id']}/close", expect=200)
    binding_id = await database.fetchval("SELECT binding_id FROM bindings WHERE person_id = $1", user_id)

    await end_binding(bus, database, "binding.unbound", user_id, uscc, binding_id)
    other_unit = random_uscc()
    await complete_profile(bus, database, other_unit, unit_name="吉林省农业科学院")
    await approve_binding(bus, database, user_id, other_unit, unit_name="吉林省农业科学院")
    status, other = await submit(applicant, application_id)
    await approve_binding(bus, database, user_id, uscc)
    status_back, back = await submit(applicant, application_id)

    assert status == 422
    assert failed_conditions(other) == ["unit_bound"]
    reasons = {item["code"]: item for item in other["conditions"]}
    assert reasons["call_open"]["reason"].startswith("被退回的申报")
    assert reasons["unit_bound"]["reason"] == f"本申报的推荐单位为“{UNIT_NAME}”，您当前绑定的是“吉林省农业科学院”"
    # Every condition passes now, so submission goes on to 数据验证 of the empty modules.
    assert status_back == 422
    assert back["code"] == "application.validation_failed"
    assert (await applicant.get("application", f"/applications/{application_id}"))["uscc"] == uscc


async def test_concurrent_drafts_give_one(portal, bus, database, admin):
    call = await create_call(admin)
    applicant, _, _ = await eligible_applicant(portal, bus, database)

    answers = await asyncio.gather(*(try_start(applicant, call["call_id"]) for _ in range(4)))

    assert sorted(status for status, _ in answers) == [201, 409, 409, 409]
    assert {body["code"] for status, body in answers if status == 409} == {"application.already_exists"}
