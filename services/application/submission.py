"""HTTP handlers for 数据验证, submission (提交) and progress (流程推送)."""

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp import web

from services.common.auth import Principal
from services.common.errors import ApiError, preferred_language
from services.common.events import record_event
from services.common.idempotency import find_stored, idempotency_key, request_hash, save_response
from services.common.internal import call_service
from services.common.service import http_key, settings_key
from services.common.web import DependencyUnavailable, json_response, principal

from . import repository
from .domain import (
    ACTION_LABELS,
    CHINA,
    NODE_LABELS,
    CallWindow,
    Status,
    changed_modules,
    display_time,
    is_call_open,
    is_editable,
    label,
    status_label,
    today_in_china,
    validate_application,
)
from .routes import APPLICANT, api, load_own_application, path_id, pool
from .schemas import FlowNode, Progress, SubmitRequest, SubmitResult, ValidationResult

log = logging.getLogger(__name__)

FILES_SERVICE = "材料附件服务 / files service"
SNAPSHOT_FILE_FIELDS = ("file_id", "kind", "entry_id", "file_name", "size", "sha256")
DEPARTMENT = ("吉林省人力资源和社会保障厅", "Jilin Department of Human Resources and Social Security")


async def fetch_files(request: web.Request, caller: Principal,
                      application_id: uuid.UUID) -> list[dict[str, Any]]:
    """List the application's attachments from the files service, with the applicant's token."""
    settings = request.app[settings_key]
    status, body = await call_service(request.app[http_key], request, "GET", f"{settings.files_url}/files",
                                      caller, FILES_SERVICE, params={"application_id": str(application_id)})
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("items"), list):
        log.warning("files service returned status %d for application %s", status, application_id)
        raise DependencyUnavailable(FILES_SERVICE)
    return body["items"]


def module_contents(modules: list[dict[str, Any]]) -> dict[str, Any]:
    return {module["module"]: module["content"] for module in modules}


def validate(application: asyncpg.Record, modules: dict[str, Any], files: list[dict[str, Any]]):
    kinds = {item.get("kind") for item in files}
    return validate_application(modules, kinds, list(application["call_classes"]), today_in_china())


@api.post("/applications/{application_id}/validation", summary="Run 数据验证 and list every failure",
          response=ValidationResult, roles=APPLICANT)
async def validate_draft(request: web.Request) -> web.Response:
    caller = principal(request)
    application_id = path_id(request, "application_id", "application.not_found")

    async with pool(request).acquire() as c:
        application = await load_own_application(c, caller, application_id)
        modules = module_contents(await repository.get_modules(c, application_id))
    files = await fetch_files(request, caller, application_id)

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
    window = CallWindow(title=application["call_title"], status=application["call_status"],
                        opens_at=application["call_opens_at"], closes_at=application["call_closes_at"])
    if not resubmission and not is_call_open(window, now):
        raise ApiError(422, "application.call_closed", title=window.title,
                       opens_at=display_time(window.opens_at), closes_at=display_time(window.closes_at))
    modules = module_contents(await repository.get_modules(c, application_id))
    errors = validate(application, modules, files)
    if errors:
        log.info("application %s failed validation on submit with %d errors", application_id, len(errors))
        raise ApiError(422, "application.validation_failed", errors=errors)

    version = application["snapshot_version"] + 1
    changed = None
    if resubmission:
        previous = await repository.get_snapshot(c, application_id, version - 1)
        changed = changed_modules(previous["modules"], modules)
    snapshot_files = [{name: item.get(name) for name in SNAPSHOT_FILE_FIELDS} for item in files]
    await repository.insert_snapshot(c, application_id, version, modules, snapshot_files, changed, now)
    pending_stage = (application["returned_stage"] or "unit") if resubmission else "unit"
    await repository.mark_submitted(c, application_id, version, now, pending_stage)
    action = "resubmitted" if resubmission else "submitted"
    await repository.add_flow_node(c, application_id, "submission", caller.name or application["person_name"],
                                   action, None, now)

    basic_info = modules.get("basic_info", {})
    data = {
        "application_id": str(application_id), "call_id": str(application["call_id"]),
        "person_id": application["person_id"], "person_name": caller.name or application["person_name"],
        "id_number_masked": caller.id_number_masked or application["id_number_masked"],
        "uscc": application["uscc"], "unit_name": application["unit_name"],
        "talent_class": basic_info.get("talent_class"), "level": basic_info.get("level"),
        "snapshot_version": version,
        "snapshot": {"version": version, "modules": modules, "files": snapshot_files},
        "submitted_at": now.astimezone(CHINA).isoformat(),
    }
    if resubmission:
        data["changed_modules"] = changed
    await record_event(c, "application", f"application.{action}", data,
                       subject=f"applications/{application_id}")
    log.info("application %s %s as snapshot version %d", application_id, action, version)
    return version


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
