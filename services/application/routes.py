"""HTTP handlers for starting, listing and reading applications, and the application's current content.

Module saving, calls, eligibility, submission and the summary table have their own modules.
"""

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp import web

from services.common.auth import Principal
from services.common.errors import ApiError, preferred_language
from services.common.service import pool_key
from services.common.web import Api, json_response, principal

from . import projections, repository
from .domain import NODE_LABELS, editable_modules, is_editable, label, status_label
from .eligibility_checks import enforce_for_draft
from .form import MODULE_NAMES, module_label
from .schemas import (
    ApplicationCreate,
    ApplicationDetail,
    ApplicationList,
    ApplicationSummary,
    ModuleOut,
    ReturnNotice,
)
from .snapshots import present_modules

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


# Applications

async def load_published_call(c: asyncpg.Connection, call_id: uuid.UUID) -> asyncpg.Record:
    """Load a call that was published, and may have closed since; a draft call raises 404."""
    call = await repository.get_call(c, call_id)
    if call is None or call["status"] == "draft":
        raise ApiError(404, "application.call_not_found")
    return call


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
        facts, unit = await enforce_for_draft(c, call, caller.user_id, datetime.now(UTC))
        binding = {"uscc": facts.binding.uscc, "unit_name": facts.binding.unit_name}
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


def application_detail(row: asyncpg.Record, modules: list[dict[str, Any]], language: str,
                       contents: dict[str, Any] | None = None) -> ApplicationDetail:
    """Build the detail; `contents` replace the saved ones, as the form shows them with read-only fields filled."""
    summary = application_summary(row, language)
    returned = None
    if row["returned_stage"] is not None:
        ticked = list(row["returned_modules"])
        returned = ReturnNotice(opinion=row["return_opinion"], modules=ticked,
                                module_labels=[module_label(name, language) for name in ticked
                                               if name in (*MODULE_NAMES, "materials")],
                                stage=row["returned_stage"], stage_label=label(NODE_LABELS, row["returned_stage"],
                                                                               language))
    contents = contents or {}
    return ApplicationDetail(
        **summary.model_dump(), person_id=row["person_id"], person_name=row["person_name"],
        unit_nature=row["unit_nature"], editable=is_editable(row["status"]),
        editable_modules=editable_modules(row["status"], list(row["returned_modules"])),
        modules={module["module"]: ModuleOut(**{**module, "content": contents.get(module["module"], module["content"])})
                 for module in modules},
        returned=returned, result=json.loads(row["result"]) if row["result"] else None)


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
        contents = await current_modules(c, row)

    return json_response(application_detail(row, modules, preferred_language(request), contents))


# The content as the applicant edits it now

async def current_unit_nature(c: asyncpg.Connection, application: asyncpg.Record) -> str | None:
    """Return 单位性质 from the unit's latest profile, else the value copied when the draft started."""
    unit = await projections.get_unit(c, application["uscc"])
    return unit["unit_nature"] if unit else application["unit_nature"]


async def current_modules(c: asyncpg.Connection, application: asyncpg.Record) -> dict[str, Any]:
    """Return the application's content as the applicant edits it now, every module present."""
    saved = {row["module"]: row["content"] for row in await repository.get_modules(c, application["application_id"])}
    if not is_editable(application["status"]):
        return present_modules(saved, application["person_name"], application["unit_nature"])
    return present_modules(saved, application["person_name"], await current_unit_nature(c, application))
