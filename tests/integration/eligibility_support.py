"""Helpers of the integration tests of calls, eligibility, promotion requests and imported gradings.

They drive the application service over HTTP and publish the binding and review events it projects
as CloudEvents envelopes on the run's exchange, waiting until its inbox has applied each one.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika

from services.common.bus import Bus
from services.common.events import Event
from tests.conftest import eventually
from tests.support import Portal, new_person, random_uscc

UNIT_NAME = "长春光华智能装备有限公司"
STAFF_PASSWORD = "Dept#2026Review!"


def at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def next_whole_second(after_seconds: float) -> datetime:
    moment = datetime.now(UTC) + timedelta(seconds=after_seconds)
    return moment.replace(microsecond=0) + timedelta(seconds=1)


async def create_call(admin: Portal, opens: float | str = -1, closes: float | str = 24, classes: str = "ABCDE",
                      publish: bool = True) -> dict:
    """Create a call whose window is given in hours from now, or as RFC 3339 times."""
    window = {"opens_at": opens if isinstance(opens, str) else at(opens),
              "closes_at": closes if isinstance(closes, str) else at(closes)}
    call = await admin.post("application", "/calls", {
        "title": "2026年度人才分类定级评定申报通知", "body": "请符合条件的人员在申报时间内提交。",
        "classes": list(classes), **window}, expect=201)
    if publish:
        call = await admin.post("application", f"/calls/{call['call_id']}/publish", expect=200)
    return call


async def sign_up_applicant(portal: Portal, **person: Any) -> tuple[Portal, str, dict]:
    data = new_person(**person)
    user_id = await portal.register_person(data)
    return await portal.login(data["mobile"], data["password"]), user_id, data


async def create_department_reviewer(admin: Portal) -> Portal:
    account = f"dept{uuid.uuid4().hex[:10]}"
    await admin.post("identity", "/staff", {"account": account, "name": "业务部门审核员",
                                            "role": "department_reviewer", "password": STAFF_PASSWORD},
                     expect=201)
    return await admin.as_user(None).login(account, STAFF_PASSWORD)


async def publish(bus: Bus, type: str, data: dict[str, Any], source: str) -> Event:
    event = Event(source=f"/talent/{source}", type=type, data=data)
    await publish_again(bus, event)
    return event


async def publish_again(bus: Bus, event: Event) -> None:
    await bus.exchange.publish(aio_pika.Message(event.model_dump_json().encode(), message_id=event.id,
                                                content_type="application/cloudevents+json"),
                               routing_key=event.type)


async def applied(database, event: Event) -> Event:
    """Wait until the application service's inbox contains the event."""
    async def found():
        return await database.fetchval("SELECT true FROM inbox WHERE event_id = $1", uuid.UUID(event.id))
    await eventually(found)
    return event


async def deliver(bus, database, type: str, data: dict[str, Any], source: str = "binding") -> Event:
    return await applied(database, await publish(bus, type, data, source))


async def request_binding(bus, database, person_id: str, uscc: str, binding_id: str,
                          unit_name: str = UNIT_NAME) -> Event:
    return await deliver(bus, database, "binding.requested", {
        "binding_id": binding_id, "person_id": person_id, "uscc": uscc, "unit_name": unit_name,
        "requested_at": at(0)})


async def approve_binding(bus, database, person_id: str, uscc: str, binding_id: str | None = None,
                          unit_name: str = UNIT_NAME) -> Event:
    return await deliver(bus, database, "binding.approved", {
        "binding_id": binding_id or str(uuid.uuid4()), "person_id": person_id, "uscc": uscc,
        "unit_name": unit_name, "opinion": "同意", "decided_at": at(0)})


async def end_binding(bus, database, type: str, person_id: str, uscc: str, binding_id: str) -> Event:
    time_field = "unbound_at" if type == "binding.unbound" else "decided_at"
    return await deliver(bus, database, type, {"binding_id": binding_id, "person_id": person_id, "uscc": uscc,
                                               "opinion": "", time_field: at(0)})


async def complete_profile(bus, database, uscc: str, complete: bool = True, nature: str = "企业",
                           version: int | None = None, unit_name: str = UNIT_NAME) -> Event:
    data = {"uscc": uscc, "unit_name": unit_name, "unit_nature": nature, "complete": complete,
            "updated_at": at(0)}
    if version is not None:
        data["version"] = version
    return await deliver(bus, database, "unit.profile_completed", data)


async def eligible_applicant(portal, bus, database, **person: Any) -> tuple[Portal, str, str]:
    applicant, user_id, _ = await sign_up_applicant(portal, **person)
    uscc = random_uscc()
    await approve_binding(bus, database, user_id, uscc)
    await complete_profile(bus, database, uscc)
    return applicant, user_id, uscc


async def graded(bus, database, person_id: str, days_ago: float, talent_class: str = "C", level: int = 2,
                 passing: bool = True) -> Event:
    """Deliver review.result_recorded for the person, recorded `days_ago` days before now."""
    return await deliver(bus, database, "review.result_recorded", {
        "result_id": str(uuid.uuid4()), "application_id": str(uuid.uuid4()), "person_id": person_id,
        "person_name": "张伟明", "id_number_masked": "220104********0316",
        "result": "graded" if passing else "not_graded", "result_label": "认定通过" if passing else "不予认定",
        "passing": passing, "talent_class": talent_class if passing else None, "level": level if passing else None,
        "recorded_at": at(-24 * days_ago)}, source="review")


async def eligibility(applicant: Portal, call_id: str, **kwargs) -> dict[str, dict]:
    """Return the conditions by code, and the whole response under "*"."""
    answer = await applicant.get("application", "/eligibility", params={"call_id": call_id}, **kwargs)
    return {condition["code"]: condition for condition in answer["conditions"]} | {"*": answer}


async def try_start(applicant: Portal, call_id: str) -> tuple[int, dict]:
    return await applicant.request("POST", "application", "/applications", json={"call_id": call_id})


def failed_conditions(problem: dict) -> list[str]:
    return [condition["code"] for condition in problem["conditions"] if not condition["passed"]]
