"""The review service against real PostgreSQL and RabbitMQ, with identity for sign-in.

Applications arrive as `application.submitted` envelopes that the tests publish themselves; the
events that review publishes are read from a temporary queue bound to `review.*`.
"""

import json
import uuid
from datetime import UTC, datetime

import aio_pika
import asyncpg
import jwt
import pytest

from services.common.bus import Bus
from services.common.events import Event
from services.common.settings import SERVICE_PORTS
from tests.conftest import eventually
from tests.support import Portal, new_person, new_unit

MODULES = ["basic_info", "education", "work_experience", "achievements"]


@pytest.fixture(scope="module")
async def portal(suite, http, test_settings) -> Portal:
    return Portal(http, {name: test_settings.service_url(name) for name in SERVICE_PORTS})


@pytest.fixture(scope="module")
async def bus(test_settings):
    bus = Bus(test_settings)
    await bus.connect()
    yield bus
    await bus.close()


@pytest.fixture(scope="module")
async def events(bus):
    """Every `review.*` event published while this module runs."""
    capture = Capture(bus)
    await capture.start("review.*")
    yield capture
    await capture.stop()


@pytest.fixture(scope="module")
async def admin(portal, test_settings) -> Portal:
    return await portal.login(test_settings.admin_account, test_settings.admin_password)


@pytest.fixture(scope="module")
async def department(portal, admin) -> Portal:
    account = f"dept{uuid.uuid4().hex[:8]}"
    password = "Dept#2026review"
    staff = {"account": account, "name": "赵审核", "role": "department_reviewer", "password": password}
    await admin.post("identity", "/staff", staff, expect=201)
    return await portal.login(account, password)


class Capture:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.seen: list[dict] = []

    async def start(self, routing_key: str) -> None:
        self.channel = await self.bus.connection.channel()
        self.queue = await self.channel.declare_queue(exclusive=True, auto_delete=True)
        await self.queue.bind(self.bus.exchange, routing_key=routing_key)

    async def stop(self) -> None:
        await self.channel.close()

    async def wait_for(self, event_type: str, application_id: str) -> dict:
        def match() -> dict | None:
            return next((event for event in self.seen if event["type"] == event_type
                         and event["data"].get("application_id") == application_id), None)

        async def received():
            while (message := await self.queue.get(fail=False)) is not None:
                await message.ack()
                self.seen.append(json.loads(message.body))
            return match()

        return await eventually(received)


async def publish(bus: Bus, event: Event) -> None:
    message = aio_pika.Message(event.model_dump_json().encode(), message_id=event.id,
                               content_type="application/cloudevents+json")
    await bus.exchange.publish(message, routing_key=event.type)


def submitted(unit: dict, application_id: str | None = None, event_type: str = "application.submitted",
              version: int = 1) -> Event:
    application_id = application_id or str(uuid.uuid4())
    snapshot = {"version": version, "modules": {"basic_info": {"name": "李晓明", "unit_nature": "企业"},
                                                "achievements": {"text": "研发新型复合材料"}},
                "files": []}
    data = {"application_id": application_id, "call_id": str(uuid.uuid4()), "person_id": str(uuid.uuid4()),
            "person_name": "李晓明", "id_number_masked": "220104********0316", "uscc": unit["uscc"],
            "unit_name": unit["unit_name"], "talent_class": "D", "level": 2, "snapshot_version": version,
            "snapshot": snapshot, "submitted_at": datetime.now(UTC).isoformat()}
    if event_type == "application.resubmitted":
        data["changed_modules"] = ["basic_info"]
    return Event(source="/talent/application", type=event_type, subject=f"applications/{application_id}",
                 data=data)


async def unit_reviewer(portal: Portal) -> tuple[Portal, dict]:
    unit = new_unit()
    await portal.register_unit(unit)
    return await portal.login(unit["uscc"], unit["password"]), unit


async def tasks_of(reviewer: Portal, application_id: str, stage: str, status: str = "pending") -> list[dict]:
    listed = await reviewer.get("review", "/tasks", params={"stage": stage, "status": status, "limit": "200"})
    return [task for task in listed["items"] if task["application_id"] == application_id]


async def wait_for_task(reviewer: Portal, application_id: str, stage: str) -> dict:
    async def pending():
        found = await tasks_of(reviewer, application_id, stage)
        return found[0] if found else None

    return await eventually(pending)


async def decide(reviewer: Portal, task_id: str, body: dict, expect=200, **kwargs):
    return await reviewer.post("review", f"/tasks/{task_id}/decision", body, expect=expect, **kwargs)


async def approved_by_department(bus, unit_portal, unit, department) -> Event:
    """Submit an application and let the unit and the department approve it; return its submission."""
    event = submitted(unit)
    application_id = event.data["application_id"]
    await publish(bus, event)
    task = await wait_for_task(unit_portal, application_id, "unit")
    await decide(unit_portal, task["task_id"], {"decision": "approve"})
    task = await wait_for_task(department, application_id, "department")
    await decide(department, task["task_id"], {"decision": "approve", "opinion": "材料齐全"})
    return event


def token_name(reviewer: Portal) -> str:
    return jwt.decode(reviewer.token, options={"verify_signature": False})["name"]


async def test_unit_then_department_approve(portal, bus, events, department):
    reviewer, unit = await unit_reviewer(portal)
    event = submitted(unit)
    application_id = event.data["application_id"]

    await publish(bus, event)
    task = await wait_for_task(reviewer, application_id, "unit")
    detail = await reviewer.get("review", f"/tasks/{task['task_id']}")

    assert task["status"] == "pending"
    assert task["person_name"] == "李晓明"
    assert task["id_number_masked"] == "220104********0316"
    assert (task["uscc"], task["unit_name"]) == (unit["uscc"], unit["unit_name"])
    assert (task["talent_class"], task["level"]) == ("D", 2)
    assert "snapshot" not in task
    assert detail["snapshot"] == event.data["snapshot"]

    decided = await decide(reviewer, task["task_id"], {"decision": "approve", "opinion": "同意推荐"})
    unit_approved = await events.wait_for("review.unit_approved", application_id)

    assert decided["status"] == "done"
    assert decided["decision"] == "approve"
    assert unit_approved["data"]["task_id"] == task["task_id"]
    assert unit_approved["data"]["stage"] == "unit"
    assert unit_approved["data"]["opinion"] == "同意推荐"
    assert unit_approved["data"]["reviewer_name"] == token_name(reviewer)
    assert await tasks_of(reviewer, application_id, "unit") == []
    assert len(await tasks_of(reviewer, application_id, "unit", "done")) == 1

    department_task = await wait_for_task(department, application_id, "department")
    assert await tasks_of(reviewer, application_id, "department") == []
    await decide(department, department_task["task_id"], {"decision": "approve"})
    material_approved = await events.wait_for("review.material_approved", application_id)

    assert material_approved["data"]["stage"] == "department"
    assert material_approved["data"]["task_id"] == department_task["task_id"]
    assert material_approved["data"]["reviewer_name"] == token_name(department)
    assert await tasks_of(department, application_id, "department") == []


async def test_decision_body_checks(portal, bus):
    reviewer, unit = await unit_reviewer(portal)
    event = submitted(unit)
    await publish(bus, event)
    task = await wait_for_task(reviewer, event.data["application_id"], "unit")
    path = f"/tasks/{task['task_id']}/decision"

    no_modules = await reviewer.post("review", path, {"decision": "return", "opinion": "请补充"}, expect=422)
    no_opinion = await reviewer.post("review", path, {"decision": "terminate"}, expect=422)
    blank_opinion = await reviewer.post("review", path, {"decision": "return", "opinion": "  ",
                                                         "modules": ["basic_info"]}, expect=422)
    unknown_module = await reviewer.post("review", path, {"decision": "return", "opinion": "请补充",
                                                          "modules": ["hobbies"]}, expect=422)
    long_opinion = await reviewer.post("review", path, {"decision": "terminate", "opinion": "长" * 501},
                                       expect=422)
    modules_on_approve = await reviewer.post("review", path, {"decision": "approve", "modules": ["awards"]},
                                             expect=422)

    assert [(e["field"], e["code"]) for e in no_modules["errors"]] == [("modules", "review.modules_required")]
    assert "勾选" in no_modules["errors"][0]["message"]
    assert [(e["field"], e["code"]) for e in no_opinion["errors"]] == [("opinion", "review.opinion_required")]
    assert [e["code"] for e in blank_opinion["errors"]] == ["review.opinion_required"]
    assert [e["code"] for e in unknown_module["errors"]] == ["review.unknown_module"]
    assert [e["field"] for e in long_opinion["errors"]] == ["opinion"]
    assert [e["code"] for e in modules_on_approve["errors"]] == ["review.modules_not_allowed"]
    assert (await tasks_of(reviewer, event.data["application_id"], "unit"))[0]["status"] == "pending"


async def test_other_unit_cannot_see_task(portal, bus, department):
    reviewer, unit = await unit_reviewer(portal)
    stranger, _ = await unit_reviewer(portal)
    person = new_person()
    await portal.register_person(person)
    applicant = await portal.login(person["mobile"], person["password"])
    event = submitted(unit)
    await publish(bus, event)
    task = await wait_for_task(reviewer, event.data["application_id"], "unit")

    assert await tasks_of(stranger, event.data["application_id"], "unit") == []
    await stranger.get("review", f"/tasks/{task['task_id']}", expect=404)
    await decide(stranger, task["task_id"], {"decision": "approve"}, expect=404)
    await department.get("review", f"/tasks/{task['task_id']}", expect=404)
    await applicant.get("review", "/tasks", expect=403)
    await reviewer.get("review", f"/tasks/{uuid.uuid4()}", expect=404)
    await reviewer.get("review", "/tasks/not-a-uuid", expect=404)
    assert (await tasks_of(reviewer, event.data["application_id"], "unit"))[0]["status"] == "pending"


async def test_admin_neither_reads_nor_decides_tasks(portal, bus, department, admin):
    reviewer, unit = await unit_reviewer(portal)
    event = submitted(unit)
    application_id = event.data["application_id"]
    await publish(bus, event)
    unit_task = await wait_for_task(reviewer, application_id, "unit")
    await decide(reviewer, unit_task["task_id"], {"decision": "approve"})
    department_task = await wait_for_task(department, application_id, "department")

    await admin.get("review", "/tasks", params={"stage": "department"}, expect=403)
    await admin.get("review", f"/tasks/{department_task['task_id']}", expect=403)
    await decide(admin, department_task["task_id"], {"decision": "approve"}, expect=403)

    assert (await tasks_of(department, application_id, "department"))[0]["status"] == "pending"


async def test_deciding_twice_conflicts(portal, bus):
    reviewer, unit = await unit_reviewer(portal)
    event = submitted(unit)
    await publish(bus, event)
    task = await wait_for_task(reviewer, event.data["application_id"], "unit")
    body = {"decision": "terminate", "opinion": "不符合申报条件"}
    key = {"Idempotency-Key": uuid.uuid4().hex}

    first = await decide(reviewer, task["task_id"], body, headers=key)
    replayed = await decide(reviewer, task["task_id"], body, headers=key)
    reused = await decide(reviewer, task["task_id"], {**body, "opinion": "其他意见"}, headers=key, expect=422)
    again = await decide(reviewer, task["task_id"], {"decision": "approve"}, expect=409)

    assert replayed == first
    assert reused["code"] == "idempotency.conflict"
    assert again["code"] == "review.task_not_pending"


async def test_return_and_resubmit_restart_at_returning_stage(portal, bus, events, department):
    reviewer, unit = await unit_reviewer(portal)
    event = submitted(unit)
    application_id = event.data["application_id"]
    await publish(bus, event)
    task = await wait_for_task(reviewer, application_id, "unit")

    await decide(reviewer, task["task_id"], {"decision": "return", "opinion": "请补充学历证书",
                                             "modules": ["education", "materials", "education"]})
    returned = await events.wait_for("review.returned", application_id)
    await publish(bus, submitted(unit, application_id, "application.resubmitted", version=2))
    again = await wait_for_task(reviewer, application_id, "unit")

    assert returned["data"]["stage"] == "unit"
    assert returned["data"]["modules"] == ["education", "materials"]
    assert returned["data"]["opinion"] == "请补充学历证书"
    assert again["task_id"] != task["task_id"]
    assert again["snapshot_version"] == 2

    await decide(reviewer, again["task_id"], {"decision": "approve"})
    department_task = await wait_for_task(department, application_id, "department")
    await decide(department, department_task["task_id"], {"decision": "return", "opinion": "业绩材料不清晰",
                                                          "modules": ["achievements"]})
    await publish(bus, submitted(unit, application_id, "application.resubmitted", version=3))
    reopened = await wait_for_task(department, application_id, "department")

    assert reopened["snapshot_version"] == 3
    assert await tasks_of(reviewer, application_id, "unit") == []


async def test_result_recording(portal, bus, events, department, admin):
    reviewer, unit = await unit_reviewer(portal)
    event = submitted(unit)
    application_id = event.data["application_id"]
    await publish(bus, event)
    task = await wait_for_task(reviewer, application_id, "unit")
    result = {"application_id": application_id, "result": "approved", "talent_class": "D", "level": 2}

    before_review = await department.post("review", "/results", result, expect=409)
    await decide(reviewer, task["task_id"], {"decision": "approve"})
    await wait_for_task(department, application_id, "department")
    before_department = await department.post("review", "/results", result, expect=409)
    await reviewer.post("review", "/results", result, expect=403)

    assert before_review["code"] == "review.not_material_approved"
    assert before_department["code"] == "review.not_material_approved"

    approved = await approved_by_department(bus, reviewer, unit, department)
    approved_id = approved.data["application_id"]
    result["application_id"] = approved_id
    unknown = await admin.post("review", "/results", {**result, "result": "excellent"}, expect=422)
    wrong_grade = await admin.post("review", "/results", {**result, "level": 1}, expect=422)
    same_grade = await admin.post("review", "/results", {**result, "result": "adjusted"}, expect=422)
    recorded = await admin.post("review", "/results", result, expect=201)
    recorded_event = await events.wait_for("review.result_recorded", approved_id)
    twice = await department.post("review", "/results", result, expect=409)

    assert [e["code"] for e in unknown["errors"]] == ["review.unknown_result"]
    assert wrong_grade["code"] == "review.grade_mismatch"
    assert same_grade["code"] == "review.grade_mismatch"
    assert recorded["result_label"] == "认定通过"
    assert recorded["passing"] is True
    assert twice["code"] == "review.result_exists"
    data = recorded_event["data"]
    assert data["result_id"] == recorded["result_id"]
    assert data["person_id"] == approved.data["person_id"]
    assert data["person_name"] == "李晓明"
    assert data["id_number_masked"] == "220104********0316"
    assert (data["result"], data["result_label"], data["passing"]) == ("approved", "认定通过", True)
    assert (data["talent_class"], data["level"]) == ("D", 2)


async def test_adjusted_and_not_approved_results(portal, bus, events, department):
    reviewer, unit = await unit_reviewer(portal)
    adjusted_id = (await approved_by_department(bus, reviewer, unit, department)).data["application_id"]
    rejected_id = (await approved_by_department(bus, reviewer, unit, department)).data["application_id"]

    adjusted = await department.post("review", "/results", {
        "application_id": adjusted_id, "result": "adjusted", "talent_class": "E", "level": 1}, expect=201)
    rejected = await department.post("review", "/results", {
        "application_id": rejected_id, "result": "not_approved", "talent_class": "D", "level": 2}, expect=201)
    rejected_event = await events.wait_for("review.result_recorded", rejected_id)

    assert (adjusted["result_label"], adjusted["passing"]) == ("调整认定", True)
    assert (adjusted["talent_class"], adjusted["level"]) == ("E", 1)
    assert (rejected["result_label"], rejected["passing"]) == ("不予认定", False)
    assert rejected_event["data"]["passing"] is False


async def test_result_types_listed(portal, department):
    chinese = await department.get("review", "/result-types")
    english = await department.get("review", "/result-types", headers={"Accept-Language": "en"})

    assert [(t["code"], t["label"], t["passing"]) for t in chinese] == [
        ("approved", "认定通过", True), ("adjusted", "调整认定", True), ("not_approved", "不予认定", False)]
    assert [t["label"] for t in english] == [t["label_en"] for t in chinese]


async def test_duplicated_submission_opens_one_task(portal, bus, test_settings):
    reviewer, unit = await unit_reviewer(portal)
    event = submitted(unit)
    application_id = event.data["application_id"]
    copy = event.model_copy(update={"id": str(uuid.uuid4())})

    await publish(bus, event)
    await publish(bus, event)
    await publish(bus, copy)
    connection = await asyncpg.connect(test_settings.database_url)
    try:
        async def both_applied():
            return await connection.fetchval(
                "SELECT count(*) = 2 FROM review.inbox WHERE event_id = ANY($1::uuid[])", [event.id, copy.id])

        await eventually(both_applied)
    finally:
        await connection.close()

    assert len(await tasks_of(reviewer, application_id, "unit")) == 1
    assert await tasks_of(reviewer, application_id, "unit", "done") == []
