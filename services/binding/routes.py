"""HTTP endpoints of the binding service: unit look-up and the person's side of binding."""

import logging
import uuid

from aiohttp import web

from services.common.auth import Principal
from services.common.errors import ApiError, FieldError
from services.common.events import record_event
from services.common.service import pool_key
from services.common.validators import is_valid_uscc, normalize_uscc
from services.common.web import Api, json_response, principal

from . import domain, repository
from .schemas import Binding, BindingList, BindRequest, Unit

log = logging.getLogger(__name__)

api = Api(title="binding")


def binding_view(row) -> Binding:
    return Binding(
        binding_id=str(row["id"]), status=row["status"], status_label=domain.status_label(row["status"]),
        uscc=row["uscc"], unit_name=row["unit_name"], opinion=row["opinion"],
        requested_at=row["requested_at"], decided_at=row["decided_at"], unbound_at=row["unbound_at"])


def parse_binding_id(request: web.Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info["binding_id"])
    except ValueError as e:
        raise ApiError(404, "binding.not_found") from e


@api.get("/units/{uscc}", summary="Look up a registered unit by its 统一社会信用代码", response=Unit)
async def get_unit(request: web.Request) -> web.Response:
    uscc = normalize_uscc(request.match_info["uscc"])
    if not is_valid_uscc(uscc):
        raise ApiError(422, "validation_failed", errors=[FieldError("uscc", "binding.invalid_uscc")])

    async with request.app[pool_key].acquire() as connection:
        unit = await repository.find_unit(connection, uscc)
    domain.check_unit_bindable(uscc, unit)

    return json_response(Unit(uscc=uscc, unit_name=unit["unit_name"]))


@api.post("/bindings", summary="Ask to bind a recommending unit", body=BindRequest, response=Binding,
          status=201, roles=("applicant",))
async def request_binding(request: web.Request, body: BindRequest) -> web.Response:
    caller = principal(request)

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        unit = await repository.find_unit(connection, body.uscc)
        domain.check_unit_bindable(body.uscc, unit)
        row = await _insert_pending(connection, caller, unit)
        await record_event(connection, "binding", "binding.requested", {
            "binding_id": str(row["id"]), "person_id": caller.user_id, "uscc": row["uscc"],
            "requested_at": row["requested_at"].isoformat()}, subject=f"bindings/{row['id']}")

    log.info("person %s asked to bind unit %s (binding %s)", caller.user_id, row["uscc"], row["id"])
    return json_response(binding_view(row), status=201)


async def _insert_pending(connection, caller: Principal, unit) -> repository.Record:
    """Insert the pending request, or raise the 409 naming the person's pending or approved binding."""
    # The conflicting binding may end between the insert and the read that names it, so try again.
    for _ in range(3):
        row = await repository.insert_binding(
            connection, person_id=caller.user_id, person_name=caller.name,
            id_number_masked=caller.id_number_masked, uscc=unit["uscc"], unit_name=unit["unit_name"])
        if row is not None:
            return row
        active = await repository.find_active_binding(connection, caller.user_id)
        if active is not None:
            log.info("person %s may not bind unit %s: binding %s is %s", caller.user_id, unit["uscc"],
                     active["id"], active["status"])
            raise domain.active_binding_conflict(active)
    raise RuntimeError(f"insert of a pending binding for person {caller.user_id} conflicted 3 times, "
                       "but no pending or approved binding was found")


@api.get("/bindings", summary="List my binding requests, newest first", response=BindingList,
         roles=("applicant",))
async def list_bindings(request: web.Request) -> web.Response:
    caller = principal(request)

    async with request.app[pool_key].acquire() as connection:
        rows = await repository.list_person_bindings(connection, caller.user_id)

    return json_response(BindingList(items=[binding_view(row) for row in rows]))


@api.post("/bindings/{binding_id}/unbind", summary="Unbind my approved unit", response=Binding,
          roles=("applicant",))
async def unbind(request: web.Request) -> web.Response:
    caller = principal(request)
    binding_id = parse_binding_id(request)

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        current = await repository.find_binding(connection, binding_id, for_update=True)
        if current is None or current["person_id"] != caller.user_id:
            log.info("person %s may not unbind binding %s: not found or another person's",
                     caller.user_id, binding_id)
            raise ApiError(404, "binding.not_found")
        domain.check_unbindable(current)
        row = await repository.unbind(connection, binding_id)
        await record_event(connection, "binding", "binding.unbound", {
            "binding_id": str(row["id"]), "person_id": row["person_id"], "uscc": row["uscc"],
            "unbound_at": row["unbound_at"].isoformat()}, subject=f"bindings/{row['id']}")

    log.info("person %s unbound unit %s (binding %s)", caller.user_id, row["uscc"], row["id"])
    return json_response(binding_view(row))
