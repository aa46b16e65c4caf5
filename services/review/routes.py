"""HTTP API of the review service: task queues, decisions and evaluation results."""

import json
import logging
from uuid import UUID

import asyncpg
from aiohttp import web
from pydantic import BaseModel

from services.common.auth import Principal
from services.common.errors import ApiError, FieldError, preferred_language
from services.common.events import record_event
from services.common.idempotency import find_response, idempotency_key, request_hash, save_response
from services.common.service import pool_key
from services.common.web import Api, json_response, parse_query, principal

from . import errors as _errors  # noqa: F401 - registers the service's error messages
from . import repository
from .domain import (
    RESULT_ROLES,
    REVIEWER_ROLES,
    decision_event,
    grade_matches_rule,
    may_access,
    next_stage,
    visible_stage,
)
from .schemas import (
    DecisionRequest,
    ResultRequest,
    ResultTypeView,
    ResultView,
    TaskDetail,
    TaskList,
    TaskQuery,
    TaskView,
)

log = logging.getLogger(__name__)

api = Api("审核 review")

_GRADE_RULE_TEXT = {
    "as_applied": ("应与申报的类别、层次一致", "requires the class and level applied for"),
    "changed": ("应与申报的类别或层次不同", "requires a class or level other than the one applied for"),
}


@api.get("/tasks", summary="List review tasks of the caller's queue", response=TaskList, roles=REVIEWER_ROLES,
         query=TaskQuery)
async def list_tasks(request: web.Request) -> web.Response:
    caller = principal(request)
    query = parse_query(request, TaskQuery)
    stage = visible_stage(caller)

    rows = []
    if query.stage in (None, stage) and (stage != "unit" or caller.unit_uscc):
        uscc = caller.unit_uscc if stage == "unit" else None
        async with request.app[pool_key].acquire() as connection:
            rows = await repository.list_tasks(connection, stage, query.status, uscc, query.limit,
                                               query.offset)

    return json_response(TaskList(items=[_task_view(row) for row in rows], limit=query.limit,
                                  offset=query.offset))


@api.get("/tasks/{task_id}", summary="Read a review task with the submitted snapshot and, after a resubmission,"
                                    " the changes against the previous version", response=TaskDetail,
         roles=REVIEWER_ROLES)
async def get_task(request: web.Request) -> web.Response:
    caller = principal(request)
    async with request.app[pool_key].acquire() as connection:
        task = await _load_task(connection, request, caller)
    return json_response(TaskDetail(**_task_view(task).model_dump(), snapshot=json.loads(task["snapshot"]),
                                    changes=json.loads(task["changes"])))


@api.post("/tasks/{task_id}/decision", summary="Approve, return or terminate a pending task",
          body=DecisionRequest, response=TaskView, roles=REVIEWER_ROLES)
async def decide_task(request: web.Request, body: DecisionRequest) -> web.Response:
    caller = principal(request)
    key = idempotency_key(request)
    body_hash = request_hash(body)

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        task = await _load_task(connection, request, caller, for_update=True)
        scope = f"decision:{task['id']}"
        if (replayed := await find_response(connection, caller.user_id, key, scope, body_hash)) is not None:
            return replayed
        if task["status"] != "pending":
            raise ApiError(409, "review.task_not_pending", decided_at=task["decided_at"].isoformat())

        view = await _apply_decision(connection, task, body, caller)
        await _save_response(connection, caller, key, scope, body_hash, 200, view)

    log.info("task %s of application %s: %s by %s", view.task_id, view.application_id, body.decision,
             caller.user_id)
    return json_response(view)


async def _apply_decision(connection: asyncpg.Connection, task: asyncpg.Record, body: DecisionRequest,
                          caller: Principal) -> TaskView:
    decided = await repository.decide_task(connection, task["id"], body.decision, body.opinion,
                                           body.modules or [], caller.user_id, caller.name)
    if (stage := next_stage(task["stage"], body.decision)) is not None:
        await repository.open_next_task(connection, task["id"], stage)

    data = {"task_id": str(decided["id"]), "application_id": str(decided["application_id"]),
            "stage": decided["stage"], "opinion": decided["opinion"],
            "reviewer_name": decided["reviewer_name"], "decided_at": decided["decided_at"].isoformat()}
    if body.decision == "return":
        data["modules"] = list(decided["modules"])
    await record_event(connection, "review", decision_event(task["stage"], body.decision), data,
                       subject=f"applications/{decided['application_id']}")
    return _task_view(decided)


@api.get("/result-types", summary="List evaluation result types (评审结果)", response=list[ResultTypeView])
async def list_result_types(request: web.Request) -> web.Response:
    language = preferred_language(request)
    async with request.app[pool_key].acquire() as connection:
        rows = await repository.result_types(connection)
    return json_response([_result_type_view(row, language).model_dump() for row in rows])


@api.post("/results", summary="Record the evaluation result of an application", body=ResultRequest,
          response=ResultView, status=201, roles=RESULT_ROLES)
async def record_result(request: web.Request, body: ResultRequest) -> web.Response:
    caller = principal(request)
    key = idempotency_key(request)
    body_hash = request_hash(body)

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        await repository.lock_application(connection, body.application_id)
        if (replayed := await find_response(connection, caller.user_id, key, "results", body_hash)) is not None:
            return replayed
        result_type, approval = await _check_result(connection, body)

        view = await _insert_result(connection, body, result_type, approval, caller)
        await _save_response(connection, caller, key, "results", body_hash, 201, view)

    log.info("result %s recorded for application %s by %s", body.result, body.application_id, caller.user_id)
    return json_response(view, status=201)


async def _check_result(connection: asyncpg.Connection, body: ResultRequest
                        ) -> tuple[asyncpg.Record, asyncpg.Record]:
    """Return the result type and the approved department task, or raise why no result may be recorded."""
    result_type = await repository.result_type(connection, body.result)
    if result_type is None:
        raise ApiError(422, "validation_failed", errors=[
            FieldError("result", "review.unknown_result", {"input": body.result})])
    approval = await repository.material_approval(connection, body.application_id)
    if approval is None:
        raise ApiError(409, "review.not_material_approved", application_id=str(body.application_id))
    if (existing := await repository.result_of(connection, body.application_id)) is not None:
        raise ApiError(409, "review.result_exists", recorded_at=existing["recorded_at"].isoformat())

    applied = (approval["talent_class"], approval["level"])
    if not grade_matches_rule(result_type["grade_rule"], applied, (body.talent_class, body.level)):
        rule_zh, rule_en = _GRADE_RULE_TEXT[result_type["grade_rule"]]
        raise ApiError(422, "review.grade_mismatch", label=result_type["label_zh"], rule_zh=rule_zh,
                       rule_en=rule_en, applied_class=applied[0], applied_level=applied[1])
    return result_type, approval


async def _insert_result(connection: asyncpg.Connection, body: ResultRequest, result_type: asyncpg.Record,
                         approval: asyncpg.Record, caller: Principal) -> ResultView:
    row = await repository.insert_result(connection, body.application_id, body.result, body.talent_class,
                                         body.level, caller.user_id, caller.name)
    view = ResultView(result_id=row["id"], application_id=body.application_id, result=body.result,
                      result_label=result_type["label_zh"], passing=result_type["passing"],
                      talent_class=body.talent_class, level=body.level, recorded_at=row["recorded_at"])
    await record_event(connection, "review", "review.result_recorded", {
        "result_id": str(view.result_id), "application_id": str(view.application_id),
        "person_id": approval["person_id"], "person_name": approval["person_name"],
        "id_number_masked": approval["id_number_masked"], "result": view.result,
        "result_label": view.result_label, "passing": view.passing, "talent_class": view.talent_class,
        "level": view.level, "recorded_at": view.recorded_at.isoformat(),
    }, subject=f"applications/{view.application_id}")
    return view


async def _save_response(connection: asyncpg.Connection, caller: Principal, key: str | None, scope: str,
                         body_hash: str, status: int, view: BaseModel) -> None:
    """Store the response under the key, or raise 422 when another request stored the key first.

    That request had other data, because the lock taken before the look-up serializes requests of one
    scope and a request with the same data would have found the stored response. Raising rolls the
    write back.
    """
    if not await save_response(connection, caller.user_id, key, scope, body_hash, status,
                               view.model_dump(mode="json")):
        log.info("idempotency key of user %s stored meanwhile in scope %s", caller.user_id, scope)
        raise ApiError(422, "idempotency.conflict")


async def _load_task(connection: asyncpg.Connection, request: web.Request, caller: Principal, *,
                     for_update: bool = False) -> asyncpg.Record:
    """Load the task named in the path; another unit's or stage's task is reported as not found."""
    try:
        task_id = UUID(request.match_info["task_id"])
    except ValueError:
        raise ApiError(404, "review.task_not_found") from None
    task = await repository.get_task(connection, task_id, for_update=for_update)
    if task is None or not may_access(caller, task["stage"], task["uscc"]):
        raise ApiError(404, "review.task_not_found")
    return task


def _task_view(row: asyncpg.Record) -> TaskView:
    fields = {name: row[name] for name in TaskView.model_fields if name != "task_id"}
    return TaskView(task_id=row["id"], **{**fields, "modules": list(fields["modules"] or []),
                                          "changed_modules": list(fields["changed_modules"] or [])})


def _result_type_view(row: asyncpg.Record, language: str) -> ResultTypeView:
    return ResultTypeView(code=row["code"], label=row["label_en"] if language == "en" else row["label_zh"],
                          label_zh=row["label_zh"], label_en=row["label_en"], passing=row["passing"])

