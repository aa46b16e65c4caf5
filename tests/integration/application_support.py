"""Helpers of the integration tests of the application service: calls, eligible applicants, the fixture
person's form (tests/fixtures/person.json) saved and its files uploaded, submissions, and the binding and
review events the service projects, published as CloudEvents envelopes on the run's exchange.
"""

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp

from services.common.bus import Bus
from services.common.events import EXCHANGE, Event
from tests.conftest import eventually
from tests.support import Portal, new_person, random_uscc

UNIT_NAME = "长春光华智能装备有限公司"
REAL_NAME = new_person()["real_name"]

FIXTURES = Path(__file__).parents[1] / "fixtures"
PERSON = json.loads((FIXTURES / "person.json").read_text(encoding="utf-8"))
MODULES: dict[str, Any] = PERSON["application"]
ENTRY_FILES: dict[str, str] = PERSON["entry_attachments"]
MATERIALS = {"photo": "photo.jpg", "id_card": "id_card.pdf", "employment_contract": "employment_contract.pdf",
             "diploma": "diploma.pdf", "degree": "degree.pdf"}
# Modules whose entries need attachments, each counted under the module's name as the files' kind.
ENTRY_KINDS = ("continuing_education", "publications", "part_time_posts", "enterprise_performance", "honors",
               "awards")


def module_path(application_id: str, module: str) -> str:
    return f"/applications/{application_id}/modules/{module}"


async def save(applicant: Portal, application_id: str, module: str, content: Any, version: int | str = "*",
               expect=200) -> Any:
    """Save a module with If-Match (by default `*`, which overwrites any saved version)."""
    return await applicant.put("application", module_path(application_id, module), content, expect=expect,
                               headers={"If-Match": f'"{version}"' if version != "*" else "*"})


async def fill_modules(applicant: Portal, application_id: str, **changes: Any) -> dict[str, Any]:
    """Save every module of the fixture person, with `changes` replacing whole modules; return the saved contents."""
    saved = {}
    for module, content in MODULES.items():
        answer = await save(applicant, application_id, module, changes.get(module, content))
        saved[module] = answer["content"]
    return saved


async def upload(applicant: Portal, application_id: str, kind: str, name: str, entry_id: str | None = None,
                 data: bytes | None = None, expect=201) -> dict:
    form = aiohttp.FormData()
    form.add_field("kind", kind)
    form.add_field("application_id", application_id)
    if entry_id is not None:
        form.add_field("entry_id", entry_id)
    form.add_field("file", data if data is not None else (FIXTURES / name).read_bytes(), filename=name,
                   content_type="application/octet-stream")
    return (await applicant.request("POST", "files", "/files", data=form, expect=expect))[1]


async def attach_required(applicant: Portal, application_id: str, saved: dict[str, Any] | None = None,
                          extra: tuple[str, ...] = ()) -> None:
    """Upload the photo and the 材料附件, plus `extra` material kinds, and one file to each entry in `saved`."""
    for kind, name in {**MATERIALS, **{kind: "employment_contract.pdf" for kind in extra}}.items():
        await upload(applicant, application_id, kind, name)
    for module in ENTRY_KINDS:
        for entry in (saved or {}).get(module) or []:
            await upload(applicant, application_id, module, ENTRY_FILES.get(module, "degree.pdf"), entry["entry_id"])

def at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def create_call(admin: Portal, opens: float = -1, closes: float = 24, classes: str = "ABCDE",
                      publish: bool = True) -> dict:
    call = await admin.post("application", "/calls", {
        "title": "2026年度人才分类定级评定申报通知", "body": "请符合条件的人员在申报时间内提交。",
        "classes": list(classes), "opens_at": at(opens), "closes_at": at(closes)}, expect=201)
    if publish:
        call = await admin.post("application", f"/calls/{call['call_id']}/publish", expect=200)
    return call


async def sign_up_applicant(portal: Portal) -> tuple[Portal, str]:
    person = new_person()
    user_id = await portal.register_person(person)
    return await portal.login(person["mobile"], person["password"]), user_id


async def publish(bus: Bus, type: str, data: dict[str, Any], source: str) -> Event:
    event = Event(source=f"/talent/{source}", type=type, data=data)
    await bus.exchange.publish(aio_pika.Message(event.model_dump_json().encode(), message_id=event.id,
                                                content_type="application/cloudevents+json"),
                               routing_key=event.type)
    return event


async def applied(database, event: Event) -> None:
    """Wait until the application service's inbox contains the event."""
    async def found():
        return await database.fetchval("SELECT true FROM inbox WHERE event_id = $1", uuid.UUID(event.id))
    await eventually(found)


async def approve_binding(bus, database, person_id: str, uscc: str, binding_id: str | None = None) -> Event:
    event = await publish(bus, "binding.approved", {
        "binding_id": binding_id or str(uuid.uuid4()), "person_id": person_id, "uscc": uscc,
        "unit_name": UNIT_NAME, "opinion": "同意", "decided_at": at(0)}, "binding")
    await applied(database, event)
    return event


async def end_binding(bus, database, type: str, person_id: str, uscc: str, binding_id: str) -> Event:
    time_field = "unbound_at" if type == "binding.unbound" else "decided_at"
    event = await publish(bus, type, {"binding_id": binding_id, "person_id": person_id, "uscc": uscc,
                                      "opinion": "", time_field: at(0)}, "binding")
    await applied(database, event)
    return event


async def complete_profile(bus, database, uscc: str, complete: bool = True, nature: str = "企业",
                           updated_at: str | None = None) -> Event:
    event = await publish(bus, "unit.profile_completed", {
        "uscc": uscc, "unit_name": UNIT_NAME, "unit_nature": nature, "complete": complete,
        "updated_at": updated_at or at(0)}, "binding")
    await applied(database, event)
    return event


async def eligible_applicant(portal, bus, database) -> tuple[Portal, str, str]:
    applicant, user_id = await sign_up_applicant(portal)
    uscc = random_uscc()
    await approve_binding(bus, database, user_id, uscc)
    await complete_profile(bus, database, uscc)
    return applicant, user_id, uscc


async def eligibility(applicant: Portal, call_id: str, **kwargs) -> dict[str, dict]:
    answer = await applicant.get("application", "/eligibility", params={"call_id": call_id}, **kwargs)
    return {condition["code"]: condition for condition in answer["conditions"]} | {"*": answer}


async def try_start(applicant: Portal, call_id: str) -> tuple[int, dict]:
    return await applicant.request("POST", "application", "/applications", json={"call_id": call_id})


def failed_conditions(problem: dict) -> list[str]:
    return [condition["code"] for condition in problem["conditions"] if not condition["passed"]]


async def start_application(applicant: Portal, call_id: str) -> dict:
    return await applicant.post("application", "/applications", {"call_id": call_id}, expect=201)


async def ready_application(portal, bus, database, admin, call: dict | None = None) -> tuple[Portal, dict]:
    """An eligible applicant with a complete draft: modules saved and attachments uploaded."""
    call = call or await create_call(admin)
    applicant, _, _ = await eligible_applicant(portal, bus, database)
    application = await start_application(applicant, call["call_id"])
    saved = await fill_modules(applicant, application["application_id"])
    await attach_required(applicant, application["application_id"], saved)
    return applicant, application


async def submit(applicant: Portal, application_id: str, expect=200, **kwargs) -> dict:
    return await applicant.post("application", f"/applications/{application_id}/submit", {"pledge": True},
                                expect=expect, **kwargs)


async def capture(bus: Bus, test_settings, *types: str):
    channel = await bus.connection.channel()
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    for type in types:
        await queue.bind(test_settings.broker_name(EXCHANGE), routing_key=type)
    return channel, queue


async def drain(queue, application_id: str, settle: float = 1.0) -> list[dict]:
    """Collect the envelopes about one application until none arrived for `settle` seconds."""
    found: list[dict] = []
    deadline = asyncio.get_running_loop().time() + settle
    while asyncio.get_running_loop().time() < deadline:
        message = await queue.get(fail=False)
        if message is None:
            await asyncio.sleep(0.05)
            continue
        await message.ack()
        envelope = json.loads(message.body)
        if envelope["data"]["application_id"] == application_id:
            found.append(envelope)
            deadline = asyncio.get_running_loop().time() + settle
    return found


async def review_event(bus, database, type: str, application_id: str, stage: str, **data: Any) -> Event:
    payload = {"task_id": str(uuid.uuid4()), "application_id": application_id, "stage": stage,
               "opinion": data.pop("opinion", "同意"), "reviewer_name": data.pop("reviewer_name", "王芳"),
               "decided_at": at(0), **data}
    event = await publish(bus, type, payload, "review")
    await applied(database, event)
    return event


async def progress(applicant: Portal, application_id: str) -> dict:
    return await applicant.get("application", f"/applications/{application_id}/progress")


def codes(errors: list[dict]) -> set[tuple[str, str, str]]:
    return {(error["module"], error["field"], error["code"]) for error in errors}
