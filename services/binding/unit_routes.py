"""HTTP endpoints of the unit's side: the queue of binding requests it reviews and its decisions.

The unit is the one the caller's token acts for (`Principal.unit_uscc`). A request to another unit
gets a 404 response, as if it did not exist.
"""

import logging
import uuid

import asyncpg
from aiohttp import web

from services.common.auth import Principal
from services.common.errors import ApiError, preferred_language
from services.common.events import record_event
from services.common.idempotency import find_response, idempotency_key, request_hash, save_response
from services.common.pagination import decode_cursor, encode_cursor
from services.common.service import pool_key
from services.common.web import json_response, parse_query, principal

from . import domain, repository
from .domain import DECISION_STATUS, BindingStatus, Decision
from .routes import api, history_view, parse_binding_id
from .schemas import (
    ApproveRequest,
    BindingRequest,
    BindingRequestList,
    DecisionBatch,
    DecisionResult,
    DecisionResults,
    RejectRequest,
    RequestListQuery,
)

log = logging.getLogger(__name__)

UNIT_ROLES = ("unit_reviewer",)


def caller_unit(request: web.Request) -> str:
    uscc = principal(request).unit_uscc
    if not uscc:
        raise ApiError(403, "binding.no_unit")
    return uscc


def request_view(row, language: str = "zh") -> BindingRequest:
    return BindingRequest(
        binding_id=str(row["id"]), status=row["status"], status_label=domain.status_label(row["status"], language),
        person_id=row["person_id"], person_name=row["person_name"], id_number_masked=row["id_number_masked"],
        opinion=row["opinion"], requested_at=row["requested_at"], decided_at=row["decided_at"],
        unbound_at=row["unbound_at"], history=history_view(row, language))


# The queue

@api.get("/unit/binding-requests",
         summary="Page through this unit's binding requests, newest first; filter by status, search by name",
         response=BindingRequestList, roles=UNIT_ROLES, query=RequestListQuery)
async def list_binding_requests(request: web.Request) -> web.Response:
    uscc = caller_unit(request)
    query = parse_query(request, RequestListQuery)
    after = decode_cursor(query.cursor)

    async with request.app[pool_key].acquire() as connection:
        rows = await repository.list_unit_requests(connection, uscc, status=query.status, name=query.q,
                                                   after=after, limit=query.limit + 1)

    page = rows[:query.limit]
    next_cursor = encode_cursor(page[-1]["requested_at"], page[-1]["id"]) if len(rows) > query.limit else None
    language = preferred_language(request)
    return json_response(BindingRequestList(items=[request_view(row, language) for row in page],
                                            next_cursor=next_cursor))


async def load_unit_request(connection: asyncpg.Connection, uscc: str, binding_id: uuid.UUID, *,
                            for_update: bool = False) -> repository.Record:
    row = await repository.find_binding(connection, binding_id, for_update=for_update)
    if row is None or row["uscc"] != uscc:
        log.info("unit %s may not see binding %s: not found or another unit's", uscc, binding_id)
        raise ApiError(404, "binding.not_found")
    return row


@api.get("/unit/binding-requests/{binding_id}", summary="Read one of this unit's binding requests",
         response=BindingRequest, roles=UNIT_ROLES)
async def get_binding_request(request: web.Request) -> web.Response:
    uscc = caller_unit(request)
    binding_id = parse_binding_id(request)

    async with request.app[pool_key].acquire() as connection:
        row = await load_unit_request(connection, uscc, binding_id)

    return json_response(request_view(row, preferred_language(request)))


# Decisions

async def decide_locked(connection: asyncpg.Connection, caller: Principal, current: repository.Record,
                        decision: Decision, opinion: str | None) -> repository.Record:
    """Decide a request whose row the transaction has locked, and write the event."""
    domain.check_decidable(current)
    status = DECISION_STATUS[decision]
    row = await repository.decide_binding(connection, current["id"], status=status, opinion=opinion,
                                          decided_by=caller.user_id)
    data = {"binding_id": str(row["id"]), "person_id": row["person_id"], "uscc": row["uscc"],
            "opinion": row["opinion"], "decided_at": row["decided_at"].isoformat()}
    if status is BindingStatus.APPROVED:
        data["unit_name"] = row["unit_name"]
    await record_event(connection, "binding", f"binding.{status}", data, subject=f"bindings/{row['id']}")
    log.info("unit %s %s binding %s of person %s", row["uscc"], status, row["id"], row["person_id"])
    return row


@api.post("/unit/binding-requests/{binding_id}/approve",
          summary="Approve a binding request; Idempotency-Key replays a retry",
          body=ApproveRequest, response=BindingRequest, roles=UNIT_ROLES)
async def approve_binding(request: web.Request, body: ApproveRequest) -> web.Response:
    return await _decide(request, Decision.APPROVE, body.opinion, request_hash(body))


@api.post("/unit/binding-requests/{binding_id}/reject",
          summary="Reject a binding request with an opinion; Idempotency-Key replays a retry",
          body=RejectRequest, response=BindingRequest, roles=UNIT_ROLES)
async def reject_binding(request: web.Request, body: RejectRequest) -> web.Response:
    return await _decide(request, Decision.REJECT, body.opinion, request_hash(body))


async def _decide(request: web.Request, decision: Decision, opinion: str | None, body_hash: str) -> web.Response:
    caller = principal(request)
    uscc = caller_unit(request)
    binding_id = parse_binding_id(request)
    key = idempotency_key(request)
    scope = f"{decision}:{binding_id}"

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        current = await load_unit_request(connection, uscc, binding_id, for_update=True)
        replay = await find_response(connection, caller.user_id, key, scope, body_hash)
        if replay is not None:
            return replay
        row = await decide_locked(connection, caller, current, decision, opinion)
        view = request_view(row, preferred_language(request))
        await save_response(connection, caller.user_id, key, scope, body_hash, 200, view.model_dump(mode="json"))

    return json_response(view)


@api.post("/unit/binding-requests/decisions",
          summary="Approve or reject several binding requests; each entry gets its own result",
          body=DecisionBatch, response=DecisionResults, roles=UNIT_ROLES)
async def decide_many(request: web.Request, body: DecisionBatch) -> web.Response:
    caller = principal(request)
    uscc = caller_unit(request)
    language = preferred_language(request)

    results = []
    for item in body.decisions:
        try:
            row = await _decide_one(request, caller, uscc, item.binding_id, item.decision, item.opinion)
        except ApiError as e:
            problem = e.to_problem(language)
            results.append(DecisionResult(binding_id=item.binding_id, status=e.status, code=e.code,
                                          message=problem["detail"], binding=None))
            continue
        results.append(DecisionResult(binding_id=item.binding_id, status=200, code=None, message=None,
                                      binding=request_view(row, language)))

    decided = sum(result.status == 200 for result in results)
    log.info("unit %s decided %d of %d binding requests in one batch", uscc, decided, len(results))
    return json_response(DecisionResults(results=results))


async def _decide_one(request: web.Request, caller: Principal, uscc: str, binding_id: str, decision: Decision,
                      opinion: str | None) -> repository.Record:
    """Decide one entry of a batch in its own transaction, so that a failure leaves the others standing."""
    try:
        parsed_id = uuid.UUID(binding_id)
    except ValueError as e:
        raise ApiError(404, "binding.not_found") from e
    domain.check_opinion(decision, opinion)

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        current = await load_unit_request(connection, uscc, parsed_id, for_update=True)
        return await decide_locked(connection, caller, current, decision, opinion)
