"""HTTP endpoints of the unit's side: its profile (报送信息) and the binding requests it reviews.

The unit is the one the caller's token acts for (`Principal.unit_uscc`). A request to another unit
gets a 404 response, as if it did not exist.
"""

import logging

from aiohttp import web

from services.common.errors import ApiError
from services.common.events import record_event
from services.common.service import pool_key
from services.common.web import json_response, parse_query, principal

from . import domain, repository
from .domain import BindingStatus
from .routes import api, parse_binding_id
from .schemas import (
    ApproveRequest,
    BindingRequest,
    BindingRequestList,
    RejectRequest,
    RequestListQuery,
    UnitProfile,
    UnitProfileRequest,
)

log = logging.getLogger(__name__)

UNIT_ROLES = ("unit_reviewer",)


def caller_unit(request: web.Request) -> str:
    uscc = principal(request).unit_uscc
    if not uscc:
        raise ApiError(403, "binding.no_unit")
    return uscc


def request_view(row) -> BindingRequest:
    return BindingRequest(
        binding_id=str(row["id"]), status=row["status"], status_label=domain.status_label(row["status"]),
        person_id=row["person_id"], person_name=row["person_name"], id_number_masked=row["id_number_masked"],
        opinion=row["opinion"], requested_at=row["requested_at"], decided_at=row["decided_at"],
        unbound_at=row["unbound_at"])


@api.get("/unit/binding-requests", summary="List this unit's binding requests, newest first",
         response=BindingRequestList, roles=UNIT_ROLES)
async def list_binding_requests(request: web.Request) -> web.Response:
    uscc = caller_unit(request)
    query = parse_query(request, RequestListQuery)

    async with request.app[pool_key].acquire() as connection:
        rows = await repository.list_unit_requests(connection, uscc, query.status)

    return json_response(BindingRequestList(items=[request_view(row) for row in rows]))


@api.post("/unit/binding-requests/{binding_id}/approve", summary="Approve a binding request",
          body=ApproveRequest, response=BindingRequest, roles=UNIT_ROLES)
async def approve_binding(request: web.Request, body: ApproveRequest) -> web.Response:
    return await _decide(request, BindingStatus.APPROVED, body.opinion)


@api.post("/unit/binding-requests/{binding_id}/reject", summary="Reject a binding request with an opinion",
          body=RejectRequest, response=BindingRequest, roles=UNIT_ROLES)
async def reject_binding(request: web.Request, body: RejectRequest) -> web.Response:
    return await _decide(request, BindingStatus.REJECTED, body.opinion)


async def _decide(request: web.Request, status: BindingStatus, opinion: str | None) -> web.Response:
    # NOTE: a retried approval returns 409 binding.not_pending because Idempotency-Key is not supported yet.
    caller = principal(request)
    uscc = caller_unit(request)
    binding_id = parse_binding_id(request)

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        current = await repository.find_binding(connection, binding_id, for_update=True)
        if current is None or current["uscc"] != uscc:
            log.info("unit %s may not decide binding %s: not found or another unit's", uscc, binding_id)
            raise ApiError(404, "binding.not_found")
        domain.check_decidable(current)
        row = await repository.decide_binding(connection, binding_id, status=status, opinion=opinion,
                                              decided_by=caller.user_id)
        data = {"binding_id": str(row["id"]), "person_id": row["person_id"], "uscc": row["uscc"],
                "opinion": row["opinion"], "decided_at": row["decided_at"].isoformat()}
        if status is BindingStatus.APPROVED:
            data["unit_name"] = row["unit_name"]
        await record_event(connection, "binding", f"binding.{status}", data, subject=f"bindings/{row['id']}")

    log.info("unit %s %s binding %s of person %s", uscc, status, row["id"], row["person_id"])
    return json_response(request_view(row))


@api.get("/unit/profile", summary="Read this unit's 人才分类定级报送信息", response=UnitProfile,
         roles=UNIT_ROLES)
async def get_profile(request: web.Request) -> web.Response:
    uscc = caller_unit(request)

    async with request.app[pool_key].acquire() as connection:
        profile = await repository.find_profile(connection, uscc)
        unit = await repository.find_unit(connection, uscc) if profile is None else None

    view = profile_view(uscc, profile, registered_name=unit["unit_name"] if unit else None)
    return json_response(view, headers={"ETag": f'"{view.version}"'})


@api.put("/unit/profile", summary="Save this unit's 人才分类定级报送信息; If-Match guards against overwrites",
         body=UnitProfileRequest, response=UnitProfile, roles=UNIT_ROLES)
async def save_profile(request: web.Request, body: UnitProfileRequest) -> web.Response:
    caller = principal(request)
    uscc = caller_unit(request)
    fields = body.model_dump()
    complete = not domain.missing_profile_fields(fields)

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        before = await repository.find_profile(connection, uscc, for_update=True)
        check_if_match(request, before["version"] if before else 0)
        saved = await repository.save_profile(connection, uscc, fields, complete=complete,
                                              updated_by=caller.user_id)
        if complete or (before is not None and before["complete"]):
            await record_event(connection, "binding", "unit.profile_completed", {
                "uscc": uscc, "unit_name": saved["unit_name"], "unit_nature": saved["unit_nature"],
                "complete": complete, "updated_at": saved["updated_at"].isoformat()}, subject=f"units/{uscc}")

    log.info("unit %s saved its profile (version %d, complete %s)", uscc, saved["version"], complete)
    view = profile_view(uscc, saved)
    return json_response(view, headers={"ETag": f'"{view.version}"'})


def check_if_match(request: web.Request, version: int) -> None:
    expected = request.headers.get("If-Match")
    if expected is None or expected.strip() == "*":
        return
    if expected.strip().removeprefix("W/").strip('"') != str(version):
        raise ApiError(412, "binding.profile_changed", extra={"version": version})


def profile_view(uscc: str, profile, registered_name: str | None = None) -> UnitProfile:
    fields = {name: profile[name] if profile else None for name in domain.PROFILE_FIELDS}
    if profile is None:
        fields["unit_name"] = registered_name
    missing = domain.missing_profile_fields(fields)
    return UnitProfile(uscc=uscc, **fields, complete=profile is not None and profile["complete"],
                       missing_fields=missing, unit_nature_options=list(domain.UNIT_NATURES),
                       version=profile["version"] if profile else 0,
                       updated_at=profile["updated_at"] if profile else None)
