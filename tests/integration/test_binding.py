"""The binding service with identity, against the real PostgreSQL and RabbitMQ.

Run with TALENT_TEST_SERVICES=identity,binding (or all services).
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


@pytest.fixture
async def bus(test_settings):
    bus = Bus(test_settings)
    await bus.connect()
    yield bus
    await bus.close()


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
    listed = await my_bindings(person)
    again = await bind(person, unit_data["uscc"])

    assert without_opinion["errors"][0]["field"] == "opinion"
    assert without_opinion["errors"][0]["code"] == "validation.missing"
    assert blank_opinion["errors"][0]["code"] == "validation.too_short"
    assert long_opinion["errors"][0]["code"] == "validation.too_long"
    assert rejected["status"] == "rejected"
    assert decided_again["code"] == "binding.not_pending"
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
