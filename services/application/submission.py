"""HTTP handlers for 数据验证, submission (提交) and progress (流程推送).

A submission stores an immutable snapshot version n+1 of the application and publishes it in
`application.submitted`, or in `application.resubmitted` with the changed modules and the field-level
changes against version n when a returned application is submitted again. Validation and submission
run the same checks on the same content (snapshots.present_modules), so a submission that 数据验证
passes is accepted unless something changed in between.
"""

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp import web

from services.common.auth import Principal
from services.common.errors import ApiError, FieldError, preferred_language
from services.common.events import record_event
from services.common.idempotency import find_stored, idempotency_key, request_hash, save_response
from services.common.web import json_response, principal

from . import repository
from .diff import changed_modules, diff_snapshots
from .domain import ACTION_LABELS, CHINA, NODE_LABELS, Status, is_editable, label, status_label, today_in_china
from .eligibility_checks import enforce_for_submission
from .files_client import fetch_files
from .routes import APPLICANT, api, current_modules, load_own_application, path_id, pool
from .schemas import FlowNode, Progress, SubmitRequest, SubmitResult, ValidationResult
from .snapshots import attached_files, snapshot_document, snapshot_header
from .validation import Context, validate_application

log = logging.getLogger(__name__)

DEPARTMENT = ("吉林省人力资源和社会保障厅", "Jilin Department of Human Resources and Social Security")


def validate(application: asyncpg.Record, modules: dict[str, Any], files: list[dict[str, Any]]) -> list[FieldError]:
    context = Context(call_classes=tuple(application["call_classes"]), today=today_in_china())
    return validate_application(modules, files, context)


@api.post("/applications/{application_id}/validation", summary="Run 数据验证 and list every failure",
          response=ValidationResult, roles=APPLICANT)
async def validate_draft(request: web.Request) -> web.Response:
    caller = principal(request)
    application_id = path_id(request, "application_id", "application.not_found")

    async with pool(request).acquire() as c:
        application = await load_own_application(c, caller, application_id)
        modules = await current_modules(c, application)
    files = attached_files(await fetch_files(request, caller, application_id), modules)

    errors = validate(application, modules, files)
    language = preferred_language(request)
    return json_response({"passed": not errors, "errors": [error.render(language) for error in errors]})


# Submission

async def earlier_submission(c: asyncpg.Connection, caller: Principal, application: asyncpg.Record,
                             key: str | None, body_hash: str) -> int | None:
    """Return the snapshot version that a repeated submit returns, or None for a new submission."""
    stored = await find_stored(c, caller.user_id, key, _scope(application), body_hash)
    if stored is not None:
        return stored.body["snapshot_version"]
    if not is_editable(application["status"]):
        return application["snapshot_version"]
    return None


def _scope(application: asyncpg.Record) -> str:
    return f"submit:{application['application_id']}"


async def submission_result(c: asyncpg.Connection, application_id: uuid.UUID, version: int,
                            language: str) -> SubmitResult:
    application = await repository.get_application(c, application_id)
    snapshot = await repository.get_snapshot(c, application_id, version)
    return SubmitResult(application_id=application_id, snapshot_version=version,
                        submitted_at=snapshot["submitted_at"], status=application["status"],
                        status_label=status_label(application["status"], language))


@api.post("/applications/{application_id}/submit", summary="Submit with the pledge; repeats answer the same",
          body=SubmitRequest, response=SubmitResult, roles=APPLICANT)
async def submit_application(request: web.Request, body: SubmitRequest) -> web.Response:
    caller = principal(request)
    application_id = path_id(request, "application_id", "application.not_found")
    key = idempotency_key(request)
    body_hash = request_hash(body)
    language = preferred_language(request)

    async with pool(request).acquire() as c:
        application = await load_own_application(c, caller, application_id)
        version = await earlier_submission(c, caller, application, key, body_hash)
        if version is not None:
            return json_response(await submission_result(c, application_id, version, language))
    # Fetched before the row lock, so that no lock is held while waiting for the files service.
    files = await fetch_files(request, caller, application_id)

    async with pool(request).acquire() as c, c.transaction():
        application = await load_own_application(c, caller, application_id, for_update=True)
        version = await earlier_submission(c, caller, application, key, body_hash)
        if version is None:
            version = await write_submission(c, caller, application, files)
            # The row lock serializes submits of this application, so no other request can store the key.
            await save_response(c, caller.user_id, key, _scope(application), body_hash, 200,
                                {"snapshot_version": version})
        result = await submission_result(c, application_id, version, language)

    return json_response(result)


async def write_submission(c: asyncpg.Connection, caller: Principal, application: asyncpg.Record,
                           files: list[dict[str, Any]]) -> int:
    """Check, then write snapshot n+1, the status, the flow node and the event; return n+1."""
    application_id = application["application_id"]
    now = datetime.now(UTC)
    resubmission = application["status"] == Status.RETURNED
    await repository.lock_person_submissions(c, application["person_id"])
    application = await enforce_for_submission(c, application, now)
    modules = await current_modules(c, application)
    files = attached_files(files, modules)
    errors = validate(application, modules, files)
    if errors:
        log.info("application %s failed validation on submit with %d errors", application_id, len(errors))
        raise ApiError(422, "application.validation_failed", errors=errors)

    await refresh_read_only(c, application, modules["basic_info"])
    version = application["snapshot_version"] + 1
    header = snapshot_header(application, modules["basic_info"])
    changes = await changes_since_previous(c, application_id, version, modules, files) if resubmission else None
    changed = changed_modules(changes) if changes is not None else None
    await repository.insert_snapshot(c, application_id, version, header, modules, files, changed, changes, now)
    pending_stage = (application["returned_stage"] or "unit") if resubmission else "unit"
    await repository.mark_submitted(c, application_id, version, now, pending_stage)
    action = "resubmitted" if resubmission else "submitted"
    await repository.add_flow_node(c, application_id, "submission", application["person_name"], action, None, now)

    data = {
        "application_id": str(application_id), "call_id": str(application["call_id"]),
        "person_id": application["person_id"], "person_name": application["person_name"],
        "id_number_masked": application["id_number_masked"] or caller.id_number_masked,
        "uscc": application["uscc"], "unit_name": application["unit_name"],
        "talent_class": header["talent_class"], "level": header["level"], "snapshot_version": version,
        "snapshot": snapshot_document(version, header, modules, files, now),
        "submitted_at": now.astimezone(CHINA).isoformat(),
    }
    if resubmission:
        data.update(changed_modules=changed, changes=changes)
    await record_event(c, "application", f"application.{action}", data, subject=f"applications/{application_id}")
    log.info("application %s %s as snapshot version %d", application_id, action, version)
    return version


async def refresh_read_only(c: asyncpg.Connection, application: asyncpg.Record, basic_info: dict[str, Any]) -> None:
    """Store 基本信息 with its read-only fields as submitted, such as a 单位性质 the unit changed since the last save.

    The module keeps its version, because the applicant changed nothing and cannot edit it after submitting.
    """
    saved = await repository.get_module(c, application["application_id"], "basic_info")
    if saved is not None and saved["content"] != basic_info:
        await repository.replace_module_content(c, application["application_id"], "basic_info", basic_info)
    if basic_info.get("unit_nature") != application["unit_nature"]:
        await repository.set_unit_nature(c, application["application_id"], basic_info.get("unit_nature"))


async def changes_since_previous(c: asyncpg.Connection, application_id: uuid.UUID, version: int,
                                 modules: dict[str, Any], files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    previous = await repository.get_snapshot(c, application_id, version - 1)
    if previous is None:
        log.warning("application %s has no snapshot version %d to compare with", application_id, version - 1)
        return diff_snapshots({}, modules, [], files)
    return diff_snapshots(previous["modules"], modules, previous["files"], files)


# Progress (流程推送)

def flow_node(node: str, actor: str, action: str, opinion: str | None, at: datetime | None,
              language: str) -> FlowNode:
    if not actor and node in ("department", "evaluation"):
        actor = DEPARTMENT[1] if language == "en" else DEPARTMENT[0]
    return FlowNode(node=node, node_label=label(NODE_LABELS, node, language), actor=actor, action=action,
                    action_label=label(ACTION_LABELS, action, language), opinion=opinion, at=at)


def next_node(application: asyncpg.Record, language: str) -> FlowNode | None:
    """Name who must act next: the applicant, the unit, the department, or nobody."""
    stage = "submission" if application["status"] == Status.DRAFT else application["pending_stage"]
    if stage is None:
        return None
    actor = {"submission": application["person_name"], "applicant": application["person_name"],
             "unit": application["unit_name"]}.get(stage, "")
    return flow_node(stage, actor, "pending", None, None, language)


@api.get("/applications/{application_id}/progress", summary="Status and flow nodes of my application",
         response=Progress, roles=APPLICANT)
async def get_progress(request: web.Request) -> web.Response:
    caller = principal(request)
    application_id = path_id(request, "application_id", "application.not_found")

    async with pool(request).acquire() as c:
        application = await load_own_application(c, caller, application_id)
        rows = await repository.list_flow_nodes(c, application_id)

    language = preferred_language(request)
    nodes = [flow_node(row["node"], row["actor"], row["action"], row["opinion"], row["at"], language)
             for row in rows]
    return json_response(Progress(
        application_id=application_id, status=application["status"],
        status_label=status_label(application["status"], language),
        result=json.loads(application["result"]) if application["result"] else None,
        nodes=nodes, next=next_node(application, language)))
