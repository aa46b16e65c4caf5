"""The binding service with identity, against the real PostgreSQL and RabbitMQ.

Run with TALENT_TEST_SERVICES=identity,binding,application (or all services): an unbinding calls the
application service first.
"""

import asyncio
import json
import uuid
from datetime import UTC, datetime

import aio_pika
import pytest

from services.common.bus import Bus
from services.common.events import EXCHANGE, Event
from services.common.service import pool_key
from services.common.validators import mask_id_number
from tests.conftest import eventually
from tests.support import Portal, new_person, new_unit, random_uscc

FULL_PROFILE = {"unit_name": "长春新材料科技有限公司", "unit_nature": "企业", "region": "吉林省长春市",
                "supervisor": "长春市科学技术局", "industry": "制造业", "contact_name": "王芳",
                "contact_phone": "0431-88886666", "address": "吉林省长春市朝阳区前进大街 1688 号"}


@pytest.fixture
def portal(suite, http, test_settings) -> Portal:
    return Portal(http, {"identity": test_settings.identity_url, "binding": test_settings.binding_url})


async def sign_up_person(portal: Portal) -> tuple[dict, Portal]:
    person = new_person()
    await portal.register_person(person)
    return person, await portal.login(person["mobile"], person["password"])


async def sign_up_unit(portal: Portal, looker: Portal) -> tuple[dict, Portal]:
    """Register a unit, sign it in once and wait until the binding service lets people bind it."""
    unit = new_unit()
    await portal.register_unit(unit)
    signed_in = await portal.login(unit["uscc"], unit["password"])
    await lookup_until(looker, unit["uscc"], 200)
    return unit, signed_in


async def lookup_until(looker: Portal, uscc: str, expected: int, **kwargs) -> dict:
    async def answered():
        status, body = await looker.request("GET", "binding", f"/units/{uscc}", **kwargs)
        return body if status == expected else None
    return await eventually(answered)


async def bind(person: Portal, uscc: str, expect=201) -> dict:
    return await person.post("binding", "/bindings", {"uscc": uscc}, expect=expect)


async def my_bindings(person: Portal) -> list[dict]:
    return (await person.get("binding", "/bindings"))["items"]


async def publish(bus: Bus, event: Event) -> None:
    await bus.exchange.publish(aio_pika.Message(event.model_dump_json().encode(), message_id=event.id),
                               routing_key=event.type)


def identity_event(type: str, data: dict) -> Event:
    return Event(source="/talent/identity", type=type, data=data)


async def test_unit_lookup_before_and_after_first_sign_in(portal):
    _, person = await sign_up_person(portal)
    unit = new_unit()
    await portal.register_unit(unit)

    not_activated = await lookup_until(person, unit["uscc"], 409)
    not_activated_en = await lookup_until(person, unit["uscc"], 409, headers={"Accept-Language": "en"})
    _, not_registered = await person.request("GET", "binding", f"/units/{random_uscc()}")
    await portal.login(unit["uscc"], unit["password"])
    found = await lookup_until(person, unit["uscc"], 200)

    assert not_activated["code"] == "binding.unit_not_activated"
    assert "登录" in not_activated["detail"]
    assert "大人才一体化系统" in not_activated["detail"]
    assert unit["unit_name"] in not_activated["detail"]
    assert "sign in once" in not_activated_en["detail"]
    assert not_registered["status"] == 404
    assert not_registered["code"] == "binding.unit_not_registered"
    assert "注册" in not_registered["detail"]
    assert not_registered["detail"] != not_activated["detail"]
    assert found == {"uscc": unit["uscc"], "unit_name": unit["unit_name"]}


async def test_bind_request_refused_until_unit_signed_in(portal):
    _, person = await sign_up_person(portal)
    unit = new_unit()
    await portal.register_unit(unit)
    await lookup_until(person, unit["uscc"], 409)

    never_signed_in = await person.post("binding", "/bindings", {"uscc": unit["uscc"]}, expect=409)
    unregistered = await person.post("binding", "/bindings", {"uscc": random_uscc()}, expect=404)
    await portal.login(unit["uscc"], unit["password"])
    await lookup_until(person, unit["uscc"], 200)
    requested = await person.post("binding", "/bindings", {"uscc": unit["uscc"]}, expect=201)

    assert never_signed_in["code"] == "binding.unit_not_activated"
    assert unregistered["code"] == "binding.unit_not_registered"
    assert requested["status"] == "pending"
    assert [binding["binding_id"] for binding in (await person.get("binding", "/bindings"))["items"]] == [
        requested["binding_id"]]


async def test_unit_lookup_accepts_lower_case(portal):
    _, person = await sign_up_person(portal)
    unit, _ = await sign_up_unit(portal, person)

    found = await person.get("binding", f"/units/{unit['uscc'].lower()}")

    assert found["uscc"] == unit["uscc"]


async def test_invalid_uscc_is_rejected_by_field(portal):
    _, person = await sign_up_person(portal)
    valid = random_uscc()
    wrong_check = valid[:17] + ("0" if valid[17] != "0" else "1")

    _, chinese = await person.request("GET", "binding", f"/units/{wrong_check}", expect=422)
    _, english = await person.request("GET", "binding", f"/units/{wrong_check}", expect=422,
                                      headers={"Accept-Language": "en"})
    _, in_body = await person.request("POST", "binding", "/bindings", json={"uscc": "9144O300708461136T"},
                                      expect=422)

    assert chinese["errors"][0]["field"] == "uscc"
    assert chinese["errors"][0]["code"] == "binding.invalid_uscc"
    assert "统一社会信用代码无效" in chinese["errors"][0]["message"]
    assert "unified social credit code" in english["errors"][0]["message"]
    assert in_body["errors"][0]["field"] == "uscc"
    assert in_body["errors"][0]["code"] == "binding.invalid_uscc"


async def test_bind_approve_then_unbind(portal):
    person_data, person = await sign_up_person(portal)
    unit_data, unit = await sign_up_unit(portal, person)
    other_data, _ = await sign_up_unit(portal, person)

    requested = await bind(person, unit_data["uscc"])
    pending = await my_bindings(person)
    approved = await unit.post("binding", f"/unit/binding-requests/{requested['binding_id']}/approve",
                               {"opinion": "情况属实，同意绑定。"}, expect=200)
    listed = await my_bindings(person)
    _, second = await person.request("POST", "binding", "/bindings", json={"uscc": other_data["uscc"]},
                                     expect=409)
    unbound = await person.post("binding", f"/bindings/{requested['binding_id']}/unbind", expect=200)
    after_unbind = await my_bindings(person)
    rebound = await bind(person, other_data["uscc"])

    assert requested["status"] == "pending"
    assert requested["status_label"] == "待审核"
    assert requested["unit_name"] == unit_data["unit_name"]
    assert pending[0]["binding_id"] == requested["binding_id"]
    assert pending[0]["status_label"] == "待审核"
    assert approved["status"] == "approved"
    assert approved["person_name"] == person_data["real_name"]
    assert listed[0]["status"] == "approved"
    assert listed[0]["status_label"] == "材料终审通过"
    assert listed[0]["opinion"] == "情况属实，同意绑定。"
    assert listed[0]["uscc"] == unit_data["uscc"]
    decided_at = datetime.fromisoformat(listed[0]["decided_at"])
    assert decided_at >= datetime.fromisoformat(listed[0]["requested_at"])
    assert second["code"] == "binding.already_bound"
    assert unit_data["unit_name"] in second["detail"]
    assert unbound["status"] == "unbound"
    assert unbound["status_label"] == "已解除绑定"
    assert unbound["unbound_at"] is not None
    assert after_unbind[0]["status"] == "unbound"
    assert rebound["status"] == "pending"
    assert [item["status"] for item in await my_bindings(person)] == ["pending", "unbound"]


async def test_second_request_while_pending_is_409(portal):
    _, person = await sign_up_person(portal)
    unit_data, _ = await sign_up_unit(portal, person)

    await bind(person, unit_data["uscc"])
    _, again = await person.request("POST", "binding", "/bindings", json={"uscc": unit_data["uscc"]},
                                    expect=409)

    assert again["code"] == "binding.request_pending"
    assert "审核不通过终止审核" in again["detail"]


async def test_concurrent_binds_give_one_success(portal):
    _, person = await sign_up_person(portal)
    unit_data, unit = await sign_up_unit(portal, person)

    body = {"uscc": unit_data["uscc"]}
    answers = await asyncio.gather(*(person.request("POST", "binding", "/bindings", json=body)
                                     for _ in range(5)))
    requests = await unit.get("binding", "/unit/binding-requests", params={"status": "pending"})

    statuses = sorted(status for status, _ in answers)
    assert statuses == [201, 409, 409, 409, 409]
    assert {body["code"] for status, body in answers if status == 409} == {"binding.request_pending"}
    assert len(await my_bindings(person)) == 1
    assert len(requests["items"]) == 1


async def test_reject_requires_opinion_then_rebind(portal):
    _, person = await sign_up_person(portal)
    unit_data, unit = await sign_up_unit(portal, person)
    requested = await bind(person, unit_data["uscc"])
    reject_path = f"/unit/binding-requests/{requested['binding_id']}/reject"

    _, without_opinion = await unit.request("POST", "binding", reject_path, json={}, expect=422)
    _, blank_opinion = await unit.request("POST", "binding", reject_path, json={"opinion": "  "}, expect=422)
    _, long_opinion = await unit.request("POST", "binding", reject_path, json={"opinion": "长" * 501},
                                         expect=422)
    rejected = await unit.post("binding", reject_path, {"opinion": "本单位无此人员，请核实后重新申请。"},
                               expect=200)
    _, decided_again = await unit.request("POST", "binding", reject_path, json={"opinion": "重复审核"},
                                          expect=409)
    _, decided_again_en = await unit.request("POST", "binding", reject_path, json={"opinion": "重复审核"},
                                             expect=409, headers={"Accept-Language": "en"})
    listed = await my_bindings(person)
    again = await bind(person, unit_data["uscc"])

    assert without_opinion["errors"][0]["field"] == "opinion"
    assert without_opinion["errors"][0]["code"] == "validation.missing"
    assert blank_opinion["errors"][0]["code"] == "validation.too_short"
    assert long_opinion["errors"][0]["code"] == "validation.too_long"
    assert rejected["status"] == "rejected"
    assert decided_again["code"] == "binding.not_pending"
    assert "审核不通过终止审核" in decided_again["detail"]
    assert "审核" not in decided_again_en["detail"]
    assert "The request's status is" in decided_again_en["detail"]
    assert listed[0]["status_label"] == "审核不通过终止审核"
    assert listed[0]["opinion"] == "本单位无此人员，请核实后重新申请。"
    assert listed[0]["decided_at"] is not None
    assert again["status"] == "pending"


async def test_pending_request_cannot_be_unbound(portal):
    _, person = await sign_up_person(portal)
    unit_data, _ = await sign_up_unit(portal, person)
    requested = await bind(person, unit_data["uscc"])

    _, answer = await person.request("POST", "binding", f"/bindings/{requested['binding_id']}/unbind",
                                     expect=409)

    assert answer["code"] == "binding.unbind_pending"
    assert (await my_bindings(person))[0]["status"] == "pending"


async def test_unit_cannot_decide_another_units_request(portal):
    _, person = await sign_up_person(portal)
    unit_data, unit = await sign_up_unit(portal, person)
    _, other_unit = await sign_up_unit(portal, person)
    requested = await bind(person, unit_data["uscc"])
    approve_path = f"/unit/binding-requests/{requested['binding_id']}/approve"

    _, foreign = await other_unit.request("POST", "binding", approve_path, json={}, expect=404)
    foreign_list = await other_unit.get("binding", "/unit/binding-requests")
    _, unknown = await unit.request("POST", "binding", f"/unit/binding-requests/{uuid.uuid4()}/approve",
                                    json={}, expect=404)
    own = await unit.post("binding", approve_path, {}, expect=200)

    assert foreign["code"] == "binding.not_found"
    assert foreign_list["items"] == []
    assert unknown["code"] == "binding.not_found"
    assert own["status"] == "approved"
    assert own["opinion"] is None


async def test_person_cannot_unbind_anothers_binding(portal):
    _, person = await sign_up_person(portal)
    _, stranger = await sign_up_person(portal)
    unit_data, unit = await sign_up_unit(portal, person)
    requested = await bind(person, unit_data["uscc"])
    await unit.post("binding", f"/unit/binding-requests/{requested['binding_id']}/approve", {}, expect=200)

    _, answer = await stranger.request("POST", "binding", f"/bindings/{requested['binding_id']}/unbind",
                                       expect=404)

    assert answer["code"] == "binding.not_found"
    assert (await my_bindings(person))[0]["status"] == "approved"
    assert await my_bindings(stranger) == []


async def test_roles_are_enforced(portal):
    _, person = await sign_up_person(portal)
    unit_data, unit = await sign_up_unit(portal, person)

    _, person_on_unit_side = await person.request("GET", "binding", "/unit/binding-requests", expect=403)
    _, unit_binding = await unit.request("POST", "binding", "/bindings", json={"uscc": unit_data["uscc"]},
                                         expect=403)
    _, anonymous = await portal.request("GET", "binding", f"/units/{unit_data['uscc']}", expect=401)

    assert person_on_unit_side["code"] == "auth.forbidden"
    assert unit_binding["code"] == "auth.forbidden"
    assert anonymous["code"] == "auth.required"


async def test_unit_list_masks_id_number(portal):
    person_data, person = await sign_up_person(portal)
    unit_data, unit = await sign_up_unit(portal, person)
    requested = await bind(person, unit_data["uscc"])

    status, raw = await unit.request("GET", "binding", "/unit/binding-requests", params={"status": "pending"})
    decided = await unit.get("binding", "/unit/binding-requests", params={"status": "approved"})
    _, bad_status = await unit.request("GET", "binding", "/unit/binding-requests", params={"status": "done"},
                                       expect=422)

    assert status == 200
    item = raw["items"][0]
    assert item["binding_id"] == requested["binding_id"]
    assert item["person_name"] == person_data["real_name"]
    assert item["id_number_masked"] == mask_id_number(person_data["id_number"])
    assert item["requested_at"] is not None
    assert person_data["id_number"] not in json.dumps(raw)
    assert decided["items"] == []
    assert bad_status["errors"][0]["field"] == "status"


async def test_unit_profile_completes_and_publishes(portal, bus, test_settings):
    _, person = await sign_up_person(portal)
    unit_data, unit = await sign_up_unit(portal, person)
    channel = await bus.connection.channel()
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(test_settings.broker_name(EXCHANGE), routing_key="unit.profile_completed")

    async def next_event():
        async def received():
            message = await queue.get(fail=False)
            if message is None:
                return None
            await message.ack()
            body = json.loads(message.body)
            return body if body["data"]["uscc"] == unit_data["uscc"] else None
        return await eventually(received)

    try:
        empty = await unit.get("binding", "/unit/profile")
        partial = await unit.put("binding", "/unit/profile",
                                 {"unit_nature": "企业", "region": "吉林省长春市"})
        _, bad_nature = await unit.request("PUT", "binding", "/unit/profile", json={"unit_nature": "个体户"},
                                           expect=422)
        complete = await unit.put("binding", "/unit/profile", FULL_PROFILE,
                                  headers={"If-Match": f'"{partial["version"]}"'})
        completed_event = await next_event()
        _, stale = await unit.request("PUT", "binding", "/unit/profile", json=FULL_PROFILE, expect=412,
                                      headers={"If-Match": f'"{partial["version"]}"'})
        incomplete = await unit.put("binding", "/unit/profile", {**FULL_PROFILE, "address": ""})
        incomplete_event = await next_event()
        read_back = await unit.get("binding", "/unit/profile")
    finally:
        await channel.close()

    assert empty["complete"] is False
    assert empty["version"] == 0
    assert empty["unit_name"] == unit_data["unit_name"]
    assert "企业" in empty["unit_nature_options"]
    assert partial["complete"] is False
    assert "address" in partial["missing_fields"]
    assert bad_nature["errors"][0]["field"] == "unit_nature"
    assert complete["complete"] is True
    assert complete["missing_fields"] == []
    assert completed_event["type"] == "unit.profile_completed"
    assert completed_event["data"]["complete"] is True
    assert completed_event["data"]["unit_nature"] == "企业"
    assert completed_event["data"]["unit_name"] == FULL_PROFILE["unit_name"]
    assert stale["code"] == "binding.profile_changed"
    assert incomplete["complete"] is False
    assert incomplete["missing_fields"] == ["address"]
    assert incomplete_event["data"]["complete"] is False
    assert read_back["address"] is None
    assert read_back["version"] == incomplete["version"]


async def test_duplicated_identity_event_changes_nothing(portal, bus, suite):
    _, person = await sign_up_person(portal)
    uscc = random_uscc()
    user_id = str(uuid.uuid4())
    registered = identity_event("identity.user_registered", {
        "user_id": user_id, "kind": "unit", "role": "unit_reviewer", "uscc": uscc, "unit_name": "吉林甲单位"})
    signed_in = identity_event("identity.unit_first_signed_in", {
        "user_id": user_id, "uscc": uscc, "unit_name": "吉林甲单位",
        "signed_in_at": datetime.now(UTC).isoformat()})
    renamed = identity_event("identity.user_registered", {
        "user_id": user_id, "kind": "unit", "role": "unit_reviewer", "uscc": uscc, "unit_name": "吉林乙单位"})
    sentinel_uscc = random_uscc()
    sentinel = identity_event("identity.unit_first_signed_in", {
        "user_id": str(uuid.uuid4()), "uscc": sentinel_uscc, "unit_name": "哨兵单位",
        "signed_in_at": datetime.now(UTC).isoformat()})

    await publish(bus, registered)
    await publish(bus, registered)
    await publish(bus, signed_in)
    first = await lookup_until(person, uscc, 200)
    await publish(bus, renamed)
    await eventually(lambda: _named(person, uscc, "吉林乙单位"))
    await publish(bus, registered)
    await publish(bus, sentinel)
    await lookup_until(person, sentinel_uscc, 200)
    after = await person.get("binding", f"/units/{uscc}")
    applied = await suite["binding"][pool_key].fetchval(
        "SELECT count(*) FROM inbox WHERE event_id = $1", uuid.UUID(registered.id))

    assert first["unit_name"] == "吉林甲单位"
    assert after["unit_name"] == "吉林乙单位"
    assert applied == 1


async def _named(person: Portal, uscc: str, unit_name: str) -> bool:
    status, body = await person.request("GET", "binding", f"/units/{uscc}")
    return status == 200 and body["unit_name"] == unit_name


async def test_first_sign_in_before_registration_creates_unit(portal, bus, suite):
    _, person = await sign_up_person(portal)
    uscc = random_uscc()
    user_id = str(uuid.uuid4())
    signed_in = identity_event("identity.unit_first_signed_in", {
        "user_id": user_id, "uscc": uscc, "unit_name": "吉林丙单位",
        "signed_in_at": datetime.now(UTC).isoformat()})
    registered = identity_event("identity.user_registered", {
        "user_id": user_id, "kind": "unit", "role": "unit_reviewer", "uscc": uscc, "unit_name": "吉林丙单位"})

    await publish(bus, signed_in)
    early = await lookup_until(person, uscc, 200)
    await publish(bus, registered)
    await eventually(lambda: suite["binding"][pool_key].fetchval(
        "SELECT count(*) FROM inbox WHERE event_id = $1", uuid.UUID(registered.id)))
    late = await person.get("binding", f"/units/{uscc}")
    requested = await bind(person, uscc)

    assert early == {"uscc": uscc, "unit_name": "吉林丙单位"}
    assert late == early
    assert requested["status"] == "pending"


# The person's history, one binding at a time


async def test_binding_history_and_privacy(portal):
    person_data, person = await sign_up_person(portal)
    _, stranger = await sign_up_person(portal)
    unit_data, unit = await sign_up_unit(portal, person)
    requested = await bind(person, unit_data["uscc"])
    path = f"/unit/binding-requests/{requested['binding_id']}/approve"
    await unit.post("binding", path, {"opinion": "同意绑定"}, expect=200)
    await person.post("binding", f"/bindings/{requested['binding_id']}/unbind", expect=200)

    own = await person.get("binding", f"/bindings/{requested['binding_id']}")
    english = await person.get("binding", f"/bindings/{requested['binding_id']}", headers={"Accept-Language": "en"})
    _, foreign = await stranger.request("GET", "binding", f"/bindings/{requested['binding_id']}", expect=404)
    _, unknown = await person.request("GET", "binding", f"/bindings/{uuid.uuid4()}", expect=404)
    _, malformed = await person.request("GET", "binding", "/bindings/not-an-id", expect=404)

    assert [(step["action"], step["action_label"], step["opinion"]) for step in own["history"]] == [
        ("requested", "申请绑定", None), ("approved", "单位审核通过", "同意绑定"), ("unbound", "解除绑定", None)]
    assert [step["actor"] for step in own["history"]] == [
        person_data["real_name"], unit_data["unit_name"], person_data["real_name"]]
    assert own["history"][2]["at"] == own["unbound_at"]
    assert english["status_label"] == "Unbound"
    assert english["history"][1]["action_label"] == "Approved by the unit"
    assert foreign["code"] == "binding.not_found"
    assert unknown["code"] == "binding.not_found"
    assert malformed["code"] == "binding.not_found"
    assert await my_bindings(stranger) == []


async def test_bind_retry_with_key_replays(portal):
    _, person = await sign_up_person(portal)
    unit_data, _ = await sign_up_unit(portal, person)
    headers = {"Idempotency-Key": f"bind-{uuid.uuid4()}"}

    first = await person.post("binding", "/bindings", {"uscc": unit_data["uscc"]}, expect=201, headers=headers)
    again = await person.post("binding", "/bindings", {"uscc": unit_data["uscc"]}, expect=201, headers=headers)
    _, without_key = await person.request("POST", "binding", "/bindings", json={"uscc": unit_data["uscc"]},
                                          expect=409)

    assert again == first
    assert without_key["code"] == "binding.request_pending"
    assert len(await my_bindings(person)) == 1


async def test_concurrent_binds_to_different_units(portal):
    _, person = await sign_up_person(portal)
    units = [await sign_up_unit(portal, person) for _ in range(3)]

    answers = await asyncio.gather(*(person.request("POST", "binding", "/bindings", json={"uscc": data["uscc"]})
                                     for data, _ in units))

    assert sorted(status for status, _ in answers) == [201, 409, 409]
    assert {body["code"] for status, body in answers if status == 409} == {"binding.request_pending"}
    winner = next(body for status, body in answers if status == 201)
    assert [item["binding_id"] for item in await my_bindings(person)] == [winner["binding_id"]]


# The unit's queue


async def test_unit_queue_pages_filters_and_searches(portal):
    _, looker = await sign_up_person(portal)
    unit_data, unit = await sign_up_unit(portal, looker)
    names = ["赵一", "钱二", "孙三", "李四", "周五"]
    people = []
    for name in names:
        person_data = new_person(real_name=name)
        await portal.register_person(person_data)
        person = await portal.login(person_data["mobile"], person_data["password"])
        people.append((person_data, await bind(person, unit_data["uscc"])))
    await unit.post("binding", f"/unit/binding-requests/{people[0][1]['binding_id']}/approve", {}, expect=200)

    pages, cursor = [], None
    while True:
        params = {"status": "pending", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = await unit.get("binding", "/unit/binding-requests", params=params)
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    found = await unit.get("binding", "/unit/binding-requests", params={"q": "孙"})
    approved = await unit.get("binding", "/unit/binding-requests", params={"status": "approved"})
    _, bad_cursor = await unit.request("GET", "binding", "/unit/binding-requests", params={"cursor": "!!"},
                                       expect=422)
    _, bad_limit = await unit.request("GET", "binding", "/unit/binding-requests", params={"limit": "500"},
                                      expect=422)

    listed = [item for page in pages for item in page["items"]]
    assert [len(page["items"]) for page in pages] == [2, 2]
    assert [item["person_name"] for item in listed] == ["周五", "李四", "孙三", "钱二"]
    assert len({item["binding_id"] for item in listed}) == 4
    assert all(item["status_label"] == "待审核" for item in listed)
    for item in listed:
        person_data = next(data for data, _ in people if data["real_name"] == item["person_name"])
        assert item["id_number_masked"] == mask_id_number(person_data["id_number"])
        assert person_data["id_number"] not in json.dumps(pages, ensure_ascii=False)
    assert [item["person_name"] for item in found["items"]] == ["孙三"]
    assert [item["person_name"] for item in approved["items"]] == ["赵一"]
    assert bad_cursor["errors"][0]["field"] == "cursor"
    assert bad_cursor["errors"][0]["code"] == "pagination.cursor_invalid"
    assert bad_cursor["errors"][0]["message"] == "分页参数 cursor 无效，请从第一页重新读取"
    assert bad_limit["errors"][0]["field"] == "limit"


async def test_unit_reads_only_its_own_requests(portal):
    _, person = await sign_up_person(portal)
    unit_data, unit = await sign_up_unit(portal, person)
    _, other_unit = await sign_up_unit(portal, person)
    requested = await bind(person, unit_data["uscc"])
    path = f"/unit/binding-requests/{requested['binding_id']}"

    own = await unit.get("binding", path)
    _, foreign = await other_unit.request("GET", "binding", path, expect=404)
    _, foreign_reject = await other_unit.request("POST", "binding", f"{path}/reject", json={"opinion": "不同意"},
                                                 expect=404)

    assert own["binding_id"] == requested["binding_id"]
    assert own["history"][0]["action"] == "requested"
    assert foreign["code"] == "binding.not_found"
    assert foreign_reject["code"] == "binding.not_found"
    assert (await unit.get("binding", path))["status"] == "pending"


async def test_batch_decisions_each_get_a_result(portal):
    _, looker = await sign_up_person(portal)
    unit_data, unit = await sign_up_unit(portal, looker)
    other_data, _ = await sign_up_unit(portal, looker)
    requests = []
    for _ in range(4):
        _, person = await sign_up_person(portal)
        requests.append(await bind(person, unit_data["uscc"]))
    _, outsider = await sign_up_person(portal)
    foreign = await bind(outsider, other_data["uscc"])
    await unit.post("binding", f"/unit/binding-requests/{requests[3]['binding_id']}/approve", {}, expect=200)

    decisions = [
        {"binding_id": requests[0]["binding_id"], "decision": "approve", "opinion": "同意"},
        {"binding_id": requests[1]["binding_id"], "decision": "reject", "opinion": "本单位无此人员"},
        {"binding_id": requests[2]["binding_id"], "decision": "reject"},
        {"binding_id": requests[3]["binding_id"], "decision": "approve"},
        {"binding_id": foreign["binding_id"], "decision": "approve"},
        {"binding_id": "not-an-id", "decision": "approve"},
    ]
    answer = await unit.post("binding", "/unit/binding-requests/decisions", {"decisions": decisions}, expect=200)
    _, empty = await unit.request("POST", "binding", "/unit/binding-requests/decisions", json={"decisions": []},
                                  expect=422)
    queue = await unit.get("binding", "/unit/binding-requests", params={"status": "pending"})

    results = answer["results"]
    assert [(result["binding_id"], result["status"], result["code"]) for result in results] == [
        (requests[0]["binding_id"], 200, None), (requests[1]["binding_id"], 200, None),
        (requests[2]["binding_id"], 422, "binding.opinion_required"),
        (requests[3]["binding_id"], 409, "binding.not_pending"),
        (foreign["binding_id"], 404, "binding.not_found"), ("not-an-id", 404, "binding.not_found")]
    assert results[0]["binding"]["status"] == "approved"
    assert results[0]["binding"]["opinion"] == "同意"
    assert results[1]["binding"]["status_label"] == "审核不通过终止审核"
    assert "办件意见" in results[2]["message"]
    assert results[2]["binding"] is None
    assert empty["errors"][0]["field"] == "decisions"
    assert [item["binding_id"] for item in queue["items"]] == [requests[2]["binding_id"]]
    assert (await my_bindings(outsider))[0]["status"] == "pending"


async def test_decision_retry_with_key_replays(portal):
    _, person = await sign_up_person(portal)
    unit_data, unit = await sign_up_unit(portal, person)
    requested = await bind(person, unit_data["uscc"])
    path = f"/unit/binding-requests/{requested['binding_id']}/approve"
    headers = {"Idempotency-Key": f"approve-{uuid.uuid4()}"}

    first = await unit.post("binding", path, {"opinion": "同意"}, expect=200, headers=headers)
    status, again = await unit.request("POST", "binding", path, json={"opinion": "同意"}, headers=headers)
    _, other_body = await unit.request("POST", "binding", path, json={"opinion": "改了意见"}, headers=headers,
                                       expect=422)
    _, without_key = await unit.request("POST", "binding", path, json={"opinion": "同意"}, expect=409)

    assert (status, again) == (200, first)
    assert other_body["code"] == "idempotency.conflict"
    assert without_key["code"] == "binding.not_pending"


# Unbinding while an application is under review


def application_event(type: str, data: dict, source: str = "application") -> Event:
    return Event(source=f"/talent/{source}", type=type, data=data)


async def seen_by_binding(suite, event: Event) -> None:
    async def applied():
        return await suite["binding"][pool_key].fetchval("SELECT true FROM inbox WHERE event_id = $1",
                                                         uuid.UUID(event.id))
    await eventually(applied)


async def deliver(bus, suite, event: Event) -> None:
    await publish(bus, event)
    await seen_by_binding(suite, event)


async def approved_binding(portal) -> tuple[Portal, dict, Portal, dict, dict]:
    _, person = await sign_up_person(portal)
    unit_data, unit = await sign_up_unit(portal, person)
    requested = await bind(person, unit_data["uscc"])
    await unit.post("binding", f"/unit/binding-requests/{requested['binding_id']}/approve", {}, expect=200)
    me = await person.get("identity", "/me")
    return person, me, unit, unit_data, requested


def submitted(application_id: str, person_id: str, uscc: str, type: str = "application.submitted") -> Event:
    return application_event(type, {"application_id": application_id, "person_id": person_id, "uscc": uscc,
                                    "submitted_at": datetime.now(UTC).isoformat()})


def review_ended(type: str, application_id: str) -> Event:
    return application_event(type, {"task_id": str(uuid.uuid4()), "application_id": application_id,
                                    "stage": "department", "opinion": "", "reviewer_name": "审核员",
                                    "decided_at": datetime.now(UTC).isoformat()}, source="review")


async def test_unbind_waits_for_review_to_finish(portal, bus, suite):
    person, me, _, unit_data, requested = await approved_binding(portal)
    unbind_path = f"/bindings/{requested['binding_id']}/unbind"
    application_id = str(uuid.uuid4())

    await deliver(bus, suite, submitted(application_id, me["user_id"], unit_data["uscc"]))
    single = await person.get("binding", f"/bindings/{requested['binding_id']}")
    listed = (await person.get("binding", "/bindings"))["items"][0]
    _, under_review = await person.request("POST", "binding", unbind_path, expect=409)
    _, english = await person.request("POST", "binding", unbind_path, expect=409, headers={"Accept-Language": "en"})
    await deliver(bus, suite, submitted(application_id, me["user_id"], unit_data["uscc"], "application.resubmitted"))
    _, resubmitted = await person.request("POST", "binding", unbind_path, expect=409)
    await deliver(bus, suite, review_ended("review.material_approved", application_id))
    after_review = await person.get("binding", f"/bindings/{requested['binding_id']}")
    unbound = await person.post("binding", unbind_path, expect=200)

    assert single["applications_under_review"] == 1
    assert listed["applications_under_review"] == 1
    assert under_review["code"] == "binding.application_under_review"
    assert unit_data["unit_name"] in under_review["detail"]
    assert "审核结束" in under_review["detail"]
    assert under_review["applications_under_review"] == 1
    assert "under review" in english["detail"]
    assert resubmitted["code"] == "binding.application_under_review"
    assert after_review["applications_under_review"] == 0
    assert unbound["status"] == "unbound"
    assert unbound["applications_under_review"] == 0


async def test_review_end_before_submission_is_kept(portal, bus, suite):
    person, me, _, unit_data, requested = await approved_binding(portal)
    application_id = str(uuid.uuid4())
    terminated = review_ended("review.terminated", application_id)
    first_submission = submitted(application_id, me["user_id"], unit_data["uscc"])

    await deliver(bus, suite, terminated)
    await deliver(bus, suite, first_submission)
    await publish(bus, first_submission)
    await deliver(bus, suite, submitted(str(uuid.uuid4()), me["user_id"], random_uscc()))
    unbound = await person.post("binding", f"/bindings/{requested['binding_id']}/unbind", expect=200)
    deliveries = await suite["binding"][pool_key].fetchval("SELECT count(*) FROM inbox WHERE event_id = $1",
                                                           uuid.UUID(first_submission.id))

    assert unbound["status"] == "unbound"
    assert deliveries == 1


# The unit profile's dictionaries


async def test_profile_dictionaries_and_supervisor_rule(portal):
    _, person = await sign_up_person(portal)
    _, unit = await sign_up_unit(portal, person)

    dictionaries = await portal.get("binding", "/dictionaries")
    by_code = await unit.put("binding", "/unit/profile", {**FULL_PROFILE, "region": "220200", "industry": "M",
                                                          "unit_nature": "02", "supervisor": ""})
    with_supervisor = await unit.put("binding", "/unit/profile", {**FULL_PROFILE, "unit_nature": "事业单位",
                                                                  "supervisor": "吉林省教育厅"})
    _, unknown = await unit.request("PUT", "binding", "/unit/profile", json={**FULL_PROFILE, "region": "北京市"},
                                    expect=422)
    _, unknown_en = await unit.request("PUT", "binding", "/unit/profile", json={**FULL_PROFILE, "industry": "Z"},
                                       expect=422, headers={"Accept-Language": "en"})

    assert {"code": "220100", "label": "吉林省长春市"} in dictionaries["region"]
    assert {"code": "C", "label": "制造业"} in dictionaries["industry"]
    assert [entry["label"] for entry in dictionaries["unit_nature"]] == ["机关", "事业单位", "企业", "社会组织", "其他"]
    assert (by_code["region"], by_code["region_code"]) == ("吉林省吉林市", "220200")
    assert (by_code["industry"], by_code["unit_nature"]) == ("科学研究和技术服务业", "事业单位")
    assert by_code["supervisor_required"] is True
    assert by_code["complete"] is False
    assert by_code["missing_fields"] == ["supervisor"]
    assert with_supervisor["complete"] is True
    assert with_supervisor["unit_nature_code"] == "02"
    assert unknown["errors"][0]["field"] == "region"
    assert unknown["errors"][0]["code"] == "binding.not_in_dictionary"
    assert "北京市" in unknown["errors"][0]["message"]
    assert "not an option" in unknown_en["errors"][0]["message"]
