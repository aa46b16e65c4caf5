"""HTTP handlers for promotion requests (晋级申报申请): the person files one, their unit forwards or
rejects it, and the department approves or rejects it. Each step is announced as an event."""

import logging
import uuid
from typing import Any

import asyncpg
from aiohttp import web

from services.common.auth import Principal
from services.common.errors import ApiError, preferred_language
from services.common.events import record_event
from services.common.pagination import decode_cursor, encode_cursor
from services.common.web import json_response, parse_query, principal

from . import eligibility_repository as store
from . import projections
from .domain import today_in_china
from .eligibility import is_recent
from .eligibility_schemas import (
    ApproveRequest,
    ForwardRequest,
    PromotionCreate,
    PromotionList,
    PromotionOut,
    PromotionQuery,
    RejectRequest,
)
from .promotions import PromotionStatus, check_status, check_target, status_label
from .routes import APPLICANT, api, path_id, pool

log = logging.getLogger(__name__)

UNIT = ("unit_reviewer",)
DEPARTMENT = ("department_reviewer",)
READERS = ("applicant", "department_reviewer")


def promotion_out(row: asyncpg.Record, language: str) -> PromotionOut:
    fields = {key: row[key] for key in PromotionOut.model_fields if key != "status_label"}
    return PromotionOut(**fields, status_label=status_label(row["status"], language))


async def announce(c: asyncpg.Connection, type: str, row: asyncpg.Record, **data: Any) -> None:
    await record_event(c, "application", type, {
        "request_id": str(row["request_id"]), "person_id": row["person_id"], "uscc": row["uscc"],
        "status": row["status"], **data}, subject=f"promotion-requests/{row['request_id']}")


async def page(request: web.Request, **scope: str | None) -> web.Response:
    query = parse_query(request, PromotionQuery)
    after = decode_cursor(query.cursor)

    async with pool(request).acquire() as c:
        rows = await store.list_promotions(c, status=query.status, after=after, limit=query.limit + 1, **scope)

    page_rows = rows[:query.limit]
    next_cursor = None
    if len(rows) > query.limit:
        next_cursor = encode_cursor(page_rows[-1]["requested_at"], page_rows[-1]["request_id"])
    language = preferred_language(request)
    return json_response(PromotionList(items=[promotion_out(row, language) for row in page_rows],
                                       next_cursor=next_cursor))


# The person

@api.post("/promotion-requests", summary="File a promotion request (晋级申报申请) through my unit",
          body=PromotionCreate, response=PromotionOut, status=201, roles=APPLICANT)
async def file_promotion(request: web.Request, body: PromotionCreate) -> web.Response:
    caller = principal(request)

    async with pool(request).acquire() as c, c.transaction():
        grading = await projections.last_grading(c, caller.user_id)
        if not is_recent(grading, today_in_china()):
            raise ApiError(422, "promotion.not_needed")
        relevant = await store.relevant_promotion(c, caller.user_id, grading.graded_on)
        if relevant is not None and relevant.status == PromotionStatus.APPROVED:
            raise ApiError(409, "promotion.already_approved", graded_on=grading.graded_on.isoformat())
        binding = await projections.current_binding(c, caller.user_id)
        if binding is None or not binding.approved:
            raise ApiError(422, "promotion.unit_required")
        check_target(grading.talent_class, grading.level, body.talent_class, body.level)
        row = await store.insert_promotion(
            c, person_id=caller.user_id, person_name=caller.name, id_number_masked=caller.id_number_masked,
            uscc=binding.uscc, unit_name=binding.unit_name, graded_on=grading.graded_on,
            current_class=grading.talent_class, current_level=grading.level, talent_class=body.talent_class,
            level=body.level, reason=body.reason)
        if row is None:
            open_request = await store.find_open_promotion(c, caller.user_id)
            # Named apart from the problem's own request_id, which identifies the HTTP request.
            raise ApiError(409, "promotion.open_exists",
                           extra={"open_request_id": str(open_request["request_id"])} if open_request else None)
        await announce(c, "promotion.requested", row, talent_class=row["talent_class"], level=row["level"],
                       requested_at=row["requested_at"].isoformat())

    log.info("person %s filed promotion request %s through unit %s", caller.user_id, row["request_id"],
             row["uscc"])
    return json_response(promotion_out(row, preferred_language(request)), status=201)


@api.get("/promotion-requests",
         summary="List promotion requests, newest first: my own, or every request for the department",
         response=PromotionList, roles=READERS, query=PromotionQuery)
async def list_promotions(request: web.Request) -> web.Response:
    caller = principal(request)
    person_id = caller.user_id if caller.has_role("applicant") else None
    return await page(request, person_id=person_id)


async def load_visible(c: asyncpg.Connection, caller: Principal, request_id: uuid.UUID, *,
                       for_update: bool = False) -> asyncpg.Record:
    """Load a request the caller may see: their own, their unit's, or any for the department."""
    row = await store.get_promotion(c, request_id, for_update=for_update)
    visible = row is not None and (
        caller.has_role("department_reviewer")
        or (caller.has_role("applicant") and row["person_id"] == caller.user_id)
        or (caller.has_role("unit_reviewer") and row["uscc"] == caller.unit_uscc))
    if not visible:
        log.info("user %s may not see promotion request %s: not found or not theirs", caller.user_id, request_id)
        raise ApiError(404, "promotion.not_found")
    return row


@api.get("/promotion-requests/{request_id}", summary="Read one promotion request: my own, my unit's, or any",
         response=PromotionOut, roles=(*READERS, "unit_reviewer"))
async def get_promotion(request: web.Request) -> web.Response:
    caller = principal(request)
    request_id = path_id(request, "request_id", "promotion.not_found")

    async with pool(request).acquire() as c:
        row = await load_visible(c, caller, request_id)

    return json_response(promotion_out(row, preferred_language(request)))


# The unit

def caller_unit(request: web.Request) -> str:
    uscc = principal(request).unit_uscc
    if not uscc:
        raise ApiError(403, "promotion.no_unit")
    return uscc


@api.get("/unit/promotion-requests", summary="List the promotion requests filed through this unit",
         response=PromotionList, roles=UNIT, query=PromotionQuery)
async def list_unit_promotions(request: web.Request) -> web.Response:
    return await page(request, uscc=caller_unit(request))


@api.post("/unit/promotion-requests/{request_id}/forward",
          summary="Forward a promotion request to the department (报送)", body=ForwardRequest,
          response=PromotionOut, roles=UNIT)
async def forward_promotion(request: web.Request, body: ForwardRequest) -> web.Response:
    caller = principal(request)
    caller_unit(request)
    request_id = path_id(request, "request_id", "promotion.not_found")
    language = preferred_language(request)

    async with pool(request).acquire() as c, c.transaction():
        current = await load_visible(c, caller, request_id, for_update=True)
        check_status(current, PromotionStatus.PENDING_UNIT, language)
        row = await store.forward_promotion(c, request_id, body.opinion, caller.user_id)
        await announce(c, "promotion.forwarded", row, opinion=row["unit_opinion"],
                       forwarded_at=row["forwarded_at"].isoformat())

    log.info("unit %s forwarded promotion request %s", row["uscc"], request_id)
    return json_response(promotion_out(row, language))


@api.post("/unit/promotion-requests/{request_id}/reject",
          summary="Reject a promotion request at the unit, with an opinion", body=RejectRequest,
          response=PromotionOut, roles=UNIT)
async def reject_at_unit(request: web.Request, body: RejectRequest) -> web.Response:
    caller = principal(request)
    caller_unit(request)
    request_id = path_id(request, "request_id", "promotion.not_found")
    language = preferred_language(request)

    async with pool(request).acquire() as c, c.transaction():
        current = await load_visible(c, caller, request_id, for_update=True)
        check_status(current, PromotionStatus.PENDING_UNIT, language)
        row = await store.reject_promotion_at_unit(c, request_id, body.opinion, caller.user_id)
        await announce(c, "promotion.rejected", row, stage="unit", opinion=body.opinion,
                       decided_at=row["decided_at"].isoformat())

    log.info("unit %s rejected promotion request %s", row["uscc"], request_id)
    return json_response(promotion_out(row, language))


# The department

async def _decide(request: web.Request, status: PromotionStatus, opinion: str | None) -> web.Response:
    caller = principal(request)
    request_id = path_id(request, "request_id", "promotion.not_found")
    language = preferred_language(request)

    async with pool(request).acquire() as c, c.transaction():
        current = await load_visible(c, caller, request_id, for_update=True)
        check_status(current, PromotionStatus.PENDING_DEPARTMENT, language)
        row = await store.decide_promotion(c, request_id, status, opinion, caller.user_id)
        extra = {"stage": "department"} if status is PromotionStatus.REJECTED else {}
        await announce(c, f"promotion.{status}", row, **extra, opinion=opinion,
                       decided_at=row["decided_at"].isoformat())

    log.info("department reviewer %s %s promotion request %s", caller.user_id, status, request_id)
    return json_response(promotion_out(row, language))


@api.post("/promotion-requests/{request_id}/approve", summary="Approve a forwarded promotion request",
          body=ApproveRequest, response=PromotionOut, roles=DEPARTMENT)
async def approve_promotion(request: web.Request, body: ApproveRequest) -> web.Response:
    return await _decide(request, PromotionStatus.APPROVED, body.opinion)


@api.post("/promotion-requests/{request_id}/reject", summary="Reject a forwarded promotion request with an opinion",
          body=RejectRequest, response=PromotionOut, roles=DEPARTMENT)
async def reject_promotion(request: web.Request, body: RejectRequest) -> web.Response:
    return await _decide(request, PromotionStatus.REJECTED, body.opinion)
