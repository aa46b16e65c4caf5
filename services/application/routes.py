"""HTTP handlers for calls, eligibility, applications and module saving."""

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import ValidationError

from services.common.auth import Principal
from services.common.errors import ApiError, field_errors_from_pydantic, message_for, preferred_language
from services.common.service import pool_key
from services.common.web import Api, json_response, parse_query, principal

from . import repository
from .domain import (
    PLANNED_MODULES,
    CallWindow,
    Condition,
    evaluate_eligibility,
    is_call_open,
    is_editable,
    status_label,
)
from .schemas import (
    MODULE_MODELS,
    ApplicationCreate,
    ApplicationDetail,
    ApplicationList,
    ApplicationSummary,
    CallCreate,
    CallList,
    CallOut,
    CallQuery,
    ConditionOut,
    Eligibility,
    EligibilityQuery,
    ModuleContent,
    ModuleOut,
    ReturnNotice,
)

log = logging.getLogger(__name__)

api = Api(title="Talent grading: application (申报)")
ADMIN = ("admin",)
APPLICANT = ("applicant",)


def pool(request: web.Request) -> asyncpg.Pool:
    return request.app[pool_key]


def path_id(request: web.Request, name: str, not_found: str) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info[name])
    except ValueError as e:
        raise ApiError(404, not_found) from e


def call_window(row: Any) -> CallWindow:
    return CallWindow(title=row["title"], status=row["status"], opens_at=row["opens_at"],
                      closes_at=row["closes_at"])


def call_out(row: asyncpg.Record, now: datetime) -> CallOut:
    return CallOut(**{key: row[key] for key in CallOut.model_fields if key != "is_open"},
                   is_open=is_call_open(call_window(row), now))


# Calls (通知)

@api.post("/calls", summary="Create a call for applications as a draft", body=CallCreate, response=CallOut,
          status=201, roles=ADMIN)
async def create_call(request: web.Request, body: CallCreate) -> web.Response:
    caller = principal(request)

    async with pool(request).acquire() as c:
        row = await repository.insert_call(c, body.title, body.body, body.classes, body.opens_at,
                                           body.closes_at, caller.user_id)

    log.info("call %s created by %s", row["call_id"], caller.user_id)
    return json_response(call_out(row, datetime.now(UTC)), status=201)


async def _change_call(request: web.Request, target: str, allowed_from: tuple[str, ...],
                       action: tuple[str, str]) -> web.Response:
    call_id = path_id(request, "call_id", "application.call_not_found")

    async with pool(request).acquire() as c, c.transaction():
        row = await repository.get_call(c, call_id, for_update=True)
        if row is None:
            raise ApiError(404, "application.call_not_found")
        if row["status"] != target:
            if row["status"] not in allowed_from:
                raise ApiError(409, "application.call_state_conflict", call_status=row["status"],
                               action_zh=action[0], action_en=action[1])
            row = await repository.set_call_status(c, call_id, target)
            log.info("call %s is now %s", call_id, target)

    return json_response(call_out(row, datetime.now(UTC)))


@api.post("/calls/{call_id}/publish", summary="Publish a draft call", response=CallOut, roles=ADMIN)
async def publish_call(request: web.Request) -> web.Response:
    return await _change_call(request, "published", ("draft",), ("发布", "published"))


@api.post("/calls/{call_id}/close", summary="Close a call", response=CallOut, roles=ADMIN)
async def close_call(request: web.Request) -> web.Response:
    return await _change_call(request, "closed", ("draft", "published"), ("关闭", "closed"))


@api.get("/calls", summary="List calls; open=true lists the published calls open now", response=CallList)
async def list_calls(request: web.Request) -> web.Response:
    caller = principal(request)
    query = parse_query(request, CallQuery)
    now = datetime.now(UTC)

    async with pool(request).acquire() as c:
        rows = await repository.list_calls(c, published_only=not caller.has_role("admin"),
                                           open_at=now if query.open else None)

    return json_response(CallList(items=[call_out(row, now) for row in rows]))


# Eligibility (条件自检)

async def assess_eligibility(
        c: asyncpg.Connection, call: asyncpg.Record, person_id: str,
        now: datetime) -> tuple[list[Condition], asyncpg.Record | None, asyncpg.Record | None]:
    """Load the person's projections and check the conditions; also return the binding and unit."""
    binding = await repository.active_binding(c, person_id)
    unit = await repository.get_unit(c, binding["uscc"]) if binding else None
    graded_at = await repository.last_graded_at(c, person_id)
    conditions = evaluate_eligibility(call_window(call), binding["unit_name"] if binding else None,
                                      unit["complete"] if unit else None, graded_at, now)
    return conditions, binding, unit


def render_condition(condition: Condition, language: str) -> ConditionOut:
    message = message_for(condition.message)
    reason = message.en if language == "en" else message.zh
    next_step = message.detail_en if language == "en" else message.detail_zh
    return ConditionOut(code=condition.code, passed=condition.passed,
                        reason=reason.format(**condition.params),
                        next_step=None if condition.passed else next_step.format(**condition.params))


async def load_published_call(c: asyncpg.Connection, call_id: uuid.UUID) -> asyncpg.Record:
    call = await repository.get_call(c, call_id)
    if call is None or call["status"] == "draft":
        raise ApiError(404, "application.call_not_found")
    return call


@api.get("/eligibility", summary="Check the conditions for applying to a call", response=Eligibility,
         roles=APPLICANT)
async def check_eligibility(request: web.Request) -> web.Response:
    caller = principal(request)
    query = parse_query(request, EligibilityQuery)

    async with pool(request).acquire() as c:
        call = await load_published_call(c, query.call_id)
        conditions, _, _ = await assess_eligibility(c, call, caller.user_id, datetime.now(UTC))

    language = preferred_language(request)
    return json_response(Eligibility(call_id=query.call_id, eligible=all(item.passed for item in conditions),
                                     conditions=[render_condition(item, language) for item in conditions]))


# Applications

@api.post("/applications", summary="Start a draft application for an open call", body=ApplicationCreate,
          response=ApplicationDetail, status=201, roles=APPLICANT)
async def create_application(request: web.Request, body: ApplicationCreate) -> web.Response:
    caller = principal(request)
    language = preferred_language(request)

    async with pool(request).acquire() as c, c.transaction():
        call = await load_published_call(c, body.call_id)
        existing = await repository.find_application(c, caller.user_id, body.call_id)
        if existing is not None:
            raise ApiError(409, "application.already_exists", extra={"application_id": str(existing)})
        conditions, binding, unit = await assess_eligibility(c, call, caller.user_id, datetime.now(UTC))
        failed = [item for item in conditions if not item.passed]
        if failed:
            log.info("person %s is not eligible for call %s: %s", caller.user_id, body.call_id,
                     ", ".join(item.code for item in failed))
            raise ApiError(422, "application.not_eligible", extra={
                "conditions": [render_condition(item, language).model_dump() for item in conditions]})
        try:
            row = await repository.insert_application(c, body.call_id, caller.user_id, caller.name,
                                                      caller.id_number_masked, binding, unit["unit_nature"])
        except asyncpg.UniqueViolationError as e:
            raise ApiError(409, "application.already_exists") from e
        application = await repository.get_application(c, row["application_id"])

    log.info("application %s created by %s for call %s", row["application_id"], caller.user_id, body.call_id)
    return json_response(application_detail(application, [], language), status=201)


def application_summary(row: asyncpg.Record, language: str) -> ApplicationSummary:
    fields = {key: row[key] for key in ApplicationSummary.model_fields if key != "status_label"}
    return ApplicationSummary(**fields, status_label=status_label(row["status"], language))


def application_detail(row: asyncpg.Record, modules: list[dict[str, Any]],
                       language: str) -> ApplicationDetail:
    summary = application_summary(row, language)
    returned = None
    if row["returned_stage"] is not None:
        returned = ReturnNotice(opinion=row["return_opinion"], modules=list(row["returned_modules"]),
                                stage=row["returned_stage"])
    return ApplicationDetail(
        **summary.model_dump(), person_id=row["person_id"], person_name=row["person_name"],
        unit_nature=row["unit_nature"], editable=is_editable(row["status"]),
        modules={module["module"]: ModuleOut(**module) for module in modules}, returned=returned,
        result=json.loads(row["result"]) if row["result"] else None)


async def load_own_application(c: asyncpg.Connection, caller: Principal, application_id: uuid.UUID, *,
                               for_update: bool = False) -> asyncpg.Record:
    """Load the caller's application; another person's application raises 404 like a missing one."""
    row = await repository.get_application(c, application_id, for_update=for_update)
    if row is None or row["person_id"] != caller.user_id:
        raise ApiError(404, "application.not_found")
    return row


@api.get("/applications", summary="List my applications with their status", response=ApplicationList,
         roles=APPLICANT)
async def list_applications(request: web.Request) -> web.Response:
    caller = principal(request)

    async with pool(request).acquire() as c:
        rows = await repository.list_applications(c, caller.user_id)

    language = preferred_language(request)
    return json_response(ApplicationList(items=[application_summary(row, language) for row in rows]))


@api.get("/applications/{application_id}", summary="Read my application with its modules",
         response=ApplicationDetail, roles=APPLICANT)
async def get_application(request: web.Request) -> web.Response:
    caller = principal(request)
    application_id = path_id(request, "application_id", "application.not_found")

    async with pool(request).acquire() as c:
        row = await load_own_application(c, caller, application_id)
        modules = await repository.get_modules(c, application_id)

    return json_response(application_detail(row, modules, preferred_language(request)))


# Modules

def module_model(module: str) -> type:
    if module in MODULE_MODELS:
        return MODULE_MODELS[module]
    if module in PLANNED_MODULES:
        # TODO: continuing education, publications, part-time posts, enterprise performance, honours
        # and awards are not built yet.
        raise ApiError(404, "application.module_not_available", module=module)
    raise ApiError(404, "application.module_not_found", module=module)


def expected_version(request: web.Request) -> int | None:
    """Parse `If-Match: "<version>"`; None when the header is absent or `*`."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    tag = header.removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise ApiError(400, "application.if_match_invalid")
    return int(tag)


async def parse_module(request: web.Request, module: str) -> Any:
    """Check the body's types against the module's model and return its content as JSON values."""
    model = module_model(module)
    try:
        data = json.loads(await request.read() or b"null")
    except (ValueError, UnicodeDecodeError) as e:
        raise ApiError(400, "invalid_json") from e
    try:
        parsed = model.model_validate(data)
    except ValidationError as e:
        errors = field_errors_from_pydantic(e)
        for error in errors:
            error.module = module
        raise ApiError(422, "validation_failed", errors=errors) from e
    return parsed.model_dump(mode="json", exclude_unset=True)


@api.put("/applications/{application_id}/modules/{module}", summary="Save one module of a draft",
         body=ModuleContent, response=ModuleOut, roles=APPLICANT)
async def save_module(request: web.Request) -> web.Response:
    caller = principal(request)
    application_id = path_id(request, "application_id", "application.not_found")
    module = request.match_info["module"]
    content = await parse_module(request, module)
    expected = expected_version(request)

    async with pool(request).acquire() as c, c.transaction():
        application = await load_own_application(c, caller, application_id, for_update=True)
        if not is_editable(application["status"]):
            raise ApiError(409, "application.not_editable",
                           status_label=status_label(application["status"], preferred_language(request)))
        current = await repository.module_version(c, application_id, module)
        if expected is not None and expected != current:
            raise ApiError(409, "application.module_version_conflict", current_version=current,
                           headers={"ETag": f'"{current}"'}, extra={"current_version": current})
        if module == "basic_info":
            content = await fill_read_only(c, application, caller, content)
        saved = await repository.save_module(c, application_id, module, content)

    return json_response(ModuleOut(content=content, **saved), headers={"ETag": f'"{saved["version"]}"'})


async def fill_read_only(c: asyncpg.Connection, application: asyncpg.Record, caller: Principal,
                         content: dict[str, Any]) -> dict[str, Any]:
    """Set 姓名 from the token and 单位性质 from the unit's latest profile, whatever the body sent."""
    unit = await repository.get_unit(c, application["uscc"])
    unit_nature = unit["unit_nature"] if unit else application["unit_nature"]
    if unit_nature != application["unit_nature"]:
        await repository.set_unit_nature(c, application["application_id"], unit_nature)
    return {**content, "real_name": caller.name or application["person_name"], "unit_nature": unit_nature}

