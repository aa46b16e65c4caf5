"""Promotion requests (晋级申报申请): filed by a recently graded person, forwarded by their unit, decided
by the department; and what they change in 条件自检.

Run with TALENT_TEST_SERVICES=identity,application (or all services).
"""

import asyncio
import json
import uuid

import pytest

from services.common.db import create_pool
from services.common.events import EXCHANGE
from tests.conftest import eventually
from tests.integration.eligibility_support import (
    UNIT_NAME,
    approve_binding,
    complete_profile,
    create_call,
    create_department_reviewer,
    eligibility,
    eligible_applicant,
    graded,
    sign_up_applicant,
    try_start,
)
from tests.support import Portal, new_unit


@pytest.fixture
def portal(suite, http, test_settings) -> Portal:
    return Portal(http, {name: test_settings.service_url(name) for name in ("identity", "application")})


@pytest.fixture
async def database(suite, test_settings):
    pool = await create_pool(test_settings.database_url, "application")
    yield pool
    await pool.close()


@pytest.fixture
async def department(admin) -> Portal:
    return await create_department_reviewer(admin)


async def sign_up_unit(portal: Portal) -> tuple[dict, Portal]:
    unit = new_unit()
    await portal.register_unit(unit)
    return unit, await portal.login(unit["uscc"], unit["password"])


async def graded_person(portal, bus, database, days_ago: float = 200) -> tuple[Portal, str, dict, Portal]:
    """A person graded class C level 2 `days_ago` days ago, bound to a registered unit with a complete profile."""
    unit_data, unit = await sign_up_unit(portal)
    applicant, user_id, _ = await sign_up_applicant(portal)
    await approve_binding(bus, database, user_id, unit_data["uscc"], unit_name=unit_data["unit_name"])
    await complete_profile(bus, database, unit_data["uscc"], unit_name=unit_data["unit_name"])
    await graded(bus, database, user_id, days_ago)
    return applicant, user_id, unit_data, unit


REQUEST = {"talent_class": "B", "level": 1, "reason": "近两年主持完成国家级重点研发项目，取得突出业绩。"}


async def file_request(applicant: Portal, body: dict | None = None, expect=201) -> dict:
    return await applicant.post("application", "/promotion-requests", body or REQUEST, expect=expect)


async def test_promotion_flow_unlocks_application(portal, bus, database, admin, department, test_settings):
    call = await create_call(admin)
    applicant, user_id, unit_data, unit = await graded_person(portal, bus, database)
    channel = await bus.connection.channel()
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    for type in ("promotion.requested", "promotion.forwarded", "promotion.approved"):
        await queue.bind(test_settings.broker_name(EXCHANGE), routing_key=type)

    try:
        blocked = await eligibility(applicant, call["call_id"])
        status, rejected_start = await try_start(applicant, call["call_id"])
        filed = await file_request(applicant)
        at_unit = await eligibility(applicant, call["call_id"])
        unit_list = await unit.get("application", "/unit/promotion-requests", params={"status": "pending_unit"})
        forwarded = await unit.post("application", f"/unit/promotion-requests/{filed['request_id']}/forward",
                                    {"opinion": "情况属实，同意报送"}, expect=200)
        at_department = await eligibility(applicant, call["call_id"])
        queue_page = await department.get("application", "/promotion-requests",
                                          params={"status": "pending_department"})
        approved = await department.post("application", f"/promotion-requests/{filed['request_id']}/approve",
                                         {"opinion": "同意晋级申报"}, expect=200)
        unlocked = await eligibility(applicant, call["call_id"])
        draft_status, _ = await try_start(applicant, call["call_id"])

        async def three_events():
            found = []
            while (message := await queue.get(fail=False)) is not None:
                await message.ack()
                body = json.loads(message.body)
                if body["data"]["request_id"] == filed["request_id"]:
                    found.append(body)
            return found or None
        events = []
        while len(events) < 3:
            events += await eventually(three_events)
    finally:
        await channel.close()

    assert blocked["not_recently_graded"]["passed"] is False
    assert "三年内不能再次申报" in blocked["not_recently_graded"]["reason"]
    assert "晋级申报申请" in blocked["not_recently_graded"]["next_step"]
    assert status == 422
    assert [c["code"] for c in rejected_start["conditions"] if not c["passed"]] == ["not_recently_graded"]
    assert (filed["status"], filed["status_label"]) == ("pending_unit", "待推荐单位审核")
    assert (filed["uscc"], filed["unit_name"]) == (unit_data["uscc"], unit_data["unit_name"])
    assert (filed["current_class"], filed["current_level"]) == ("C", 2)
    assert "尚待推荐单位审核" in at_unit["not_recently_graded"]["reason"]
    assert [item["request_id"] for item in unit_list["items"]] == [filed["request_id"]]
    assert (forwarded["status"], forwarded["unit_opinion"]) == ("pending_department", "情况属实，同意报送")
    assert "尚待业务部门审核" in at_department["not_recently_graded"]["reason"]
    assert filed["request_id"] in {item["request_id"] for item in queue_page["items"]}
    assert (approved["status"], approved["status_label"], approved["department_opinion"]) == (
        "approved", "审核通过", "同意晋级申报")
    assert unlocked["not_recently_graded"]["passed"] is True
    assert "晋级申报申请已审核通过" in unlocked["not_recently_graded"]["reason"]
    assert unlocked["*"]["eligible"] is True
    assert draft_status == 201
    assert [event["type"] for event in events] == ["promotion.requested", "promotion.forwarded",
                                                   "promotion.approved"]
    assert events[0]["data"]["person_id"] == user_id
    assert all("id_number" not in json.dumps(event["data"]) for event in events)


async def test_department_rejects_with_opinion(portal, bus, database, admin, department):
    call = await create_call(admin)
    applicant, _, _, unit = await graded_person(portal, bus, database)
    filed = await file_request(applicant)
    await unit.post("application", f"/unit/promotion-requests/{filed['request_id']}/forward", {}, expect=200)
    path = f"/promotion-requests/{filed['request_id']}/reject"

    _, no_opinion = await department.request("POST", "application", path, json={}, expect=422)
    rejected = await department.post("application", path, {"opinion": "业绩材料不足以支撑晋级"}, expect=200)
    found = await eligibility(applicant, call["call_id"])
    english = await eligibility(applicant, call["call_id"], headers={"Accept-Language": "en"})
    _, decided_again = await department.request("POST", "application", path, json={"opinion": "再次"}, expect=409)
    again = await file_request(applicant)

    assert no_opinion["errors"][0]["field"] == "opinion"
    assert (rejected["status"], rejected["rejected_stage"]) == ("rejected", "department")
    assert found["not_recently_graded"]["passed"] is False
    assert "业绩材料不足以支撑晋级" in found["not_recently_graded"]["reason"]
    assert "promotion request was rejected" in english["not_recently_graded"]["reason"]
    assert decided_again["code"] == "promotion.wrong_status"
    assert again["status"] == "pending_unit"


async def test_unit_rejects_request(portal, bus, database):
    applicant, _, _, unit = await graded_person(portal, bus, database)
    filed = await file_request(applicant)
    path = f"/unit/promotion-requests/{filed['request_id']}/reject"

    _, no_opinion = await unit.request("POST", "application", path, json={"opinion": " "}, expect=422)
    rejected = await unit.post("application", path, {"opinion": "请先补充近三年业绩"}, expect=200)
    _, forward_after = await unit.request("POST", "application",
                                          f"/unit/promotion-requests/{filed['request_id']}/forward", json={},
                                          expect=409)

    assert no_opinion["errors"][0]["code"] == "validation.too_short"
    assert (rejected["status"], rejected["rejected_stage"], rejected["unit_opinion"]) == (
        "rejected", "unit", "请先补充近三年业绩")
    assert forward_after["code"] == "promotion.wrong_status"


async def test_others_cannot_act_or_read(portal, bus, database, department):
    applicant, _, _, unit = await graded_person(portal, bus, database)
    stranger, _, _ = await sign_up_applicant(portal)
    _, other_unit = await sign_up_unit(portal)
    filed = await file_request(applicant)
    request_path = f"/promotion-requests/{filed['request_id']}"
    forward_path = f"/unit/promotion-requests/{filed['request_id']}/forward"

    _, foreign_forward = await other_unit.request("POST", "application", forward_path, json={}, expect=404)
    foreign_list = await other_unit.get("application", "/unit/promotion-requests")
    _, stranger_read = await stranger.request("GET", "application", request_path, expect=404)
    stranger_list = await stranger.get("application", "/promotion-requests")
    _, self_approval = await applicant.request("POST", "application", f"{request_path}/approve", json={},
                                               expect=403)
    _, unit_approval = await unit.request("POST", "application", f"{request_path}/approve", json={}, expect=403)
    _, early_approval = await department.request("POST", "application", f"{request_path}/approve", json={},
                                                 expect=409)
    own = await applicant.get("application", request_path)
    unit_view = await unit.get("application", request_path)
    _, other_unit_view = await other_unit.request("GET", "application", request_path, expect=404)
    _, unknown = await applicant.request("GET", "application", f"/promotion-requests/{uuid.uuid4()}", expect=404)

    assert foreign_forward["code"] == "promotion.not_found"
    assert foreign_list["items"] == []
    assert stranger_read["code"] == "promotion.not_found"
    assert stranger_list["items"] == []
    assert self_approval["code"] == "auth.forbidden"
    assert unit_approval["code"] == "auth.forbidden"
    assert early_approval["code"] == "promotion.wrong_status"
    assert own["status"] == "pending_unit"
    assert unit_view["request_id"] == filed["request_id"]
    assert other_unit_view["code"] == "promotion.not_found"
    assert unknown["code"] == "promotion.not_found"


async def test_filing_rules(portal, bus, database):
    never_graded, _, _ = await eligible_applicant(portal, bus, database)
    _, not_needed = await never_graded.request("POST", "application", "/promotion-requests", json=REQUEST,
                                               expect=422)
    long_ago, long_ago_id, _ = await eligible_applicant(portal, bus, database)
    await graded(bus, database, long_ago_id, days_ago=3 * 366)
    _, old_grading = await long_ago.request("POST", "application", "/promotion-requests", json=REQUEST, expect=422)

    unbound, unbound_id, _ = await sign_up_applicant(portal)
    await graded(bus, database, unbound_id, days_ago=100)
    _, no_unit = await unbound.request("POST", "application", "/promotion-requests", json=REQUEST, expect=422)

    applicant, _, _, _ = await graded_person(portal, bus, database)
    _, lower = await applicant.request("POST", "application", "/promotion-requests",
                                       json={**REQUEST, "talent_class": "D"}, expect=422)
    _, same = await applicant.request("POST", "application", "/promotion-requests",
                                      json={**REQUEST, "talent_class": "C", "level": 2}, expect=422)
    _, bad_body = await applicant.request("POST", "application", "/promotion-requests",
                                          json={"talent_class": "F", "level": 4, "reason": ""}, expect=422)
    other_level = await file_request(applicant, {**REQUEST, "talent_class": "C", "level": 1})

    assert not_needed["code"] == "promotion.not_needed"
    assert old_grading["code"] == "promotion.not_needed"
    assert no_unit["code"] == "promotion.unit_required"
    assert lower["code"] == "promotion.target_lower"
    assert "C 类" in lower["detail"]
    assert same["code"] == "promotion.target_unchanged"
    assert {error["field"] for error in bad_body["errors"]} == {"talent_class", "level", "reason"}
    assert other_level["status"] == "pending_unit"


async def test_concurrent_filings_give_one(portal, bus, database):
    applicant, _, _, _ = await graded_person(portal, bus, database)

    answers = await asyncio.gather(*(applicant.request("POST", "application", "/promotion-requests", json=REQUEST)
                                     for _ in range(4)))

    assert sorted(status for status, _ in answers) == [201, 409, 409, 409]
    winner = next(body for status, body in answers if status == 201)
    assert {body["open_request_id"] for status, body in answers if status == 409} == {winner["request_id"]}
    assert {body["code"] for status, body in answers if status == 409} == {"promotion.open_exists"}


async def test_approval_covers_only_its_grading(portal, bus, database, admin, department):
    call = await create_call(admin)
    applicant, user_id, _, unit = await graded_person(portal, bus, database, days_ago=300)
    filed = await file_request(applicant)
    await unit.post("application", f"/unit/promotion-requests/{filed['request_id']}/forward", {}, expect=200)
    await department.post("application", f"/promotion-requests/{filed['request_id']}/approve", {}, expect=200)
    assert (await eligibility(applicant, call["call_id"]))["not_recently_graded"]["passed"] is True
    _, again = await applicant.request("POST", "application", "/promotion-requests", json=REQUEST, expect=409)

    await graded(bus, database, user_id, days_ago=10, talent_class="B", level=3)
    found = await eligibility(applicant, call["call_id"])

    assert again["code"] == "promotion.already_approved"
    assert found["not_recently_graded"]["passed"] is False
    assert "认定为 B 类人才" in found["not_recently_graded"]["reason"]


async def test_lists_page_newest_first(portal, bus, database, department):
    unit_data, unit = await sign_up_unit(portal)
    filed = []
    for _ in range(3):
        applicant, user_id, _ = await sign_up_applicant(portal)
        await approve_binding(bus, database, user_id, unit_data["uscc"], unit_name=UNIT_NAME)
        await graded(bus, database, user_id, days_ago=50)
        filed.append(await file_request(applicant))

    first = await unit.get("application", "/unit/promotion-requests", params={"limit": "2"})
    second = await unit.get("application", "/unit/promotion-requests",
                            params={"limit": "2", "cursor": first["next_cursor"]})
    _, bad_cursor = await department.request("GET", "application", "/promotion-requests",
                                              params={"cursor": "%%%"}, expect=422)

    listed = [item["request_id"] for item in first["items"] + second["items"]]
    assert listed == [item["request_id"] for item in reversed(filed)]
    assert second["next_cursor"] is None
    assert bad_cursor["errors"][0]["field"] == "cursor"
