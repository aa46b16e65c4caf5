"""HTTP endpoints of the binding service: unit look-up, dictionaries and the person's side of binding."""

import logging
import uuid

import asyncpg
from aiohttp import web

from services.common.auth import Principal
from services.common.errors import ApiError, FieldError, preferred_language
from services.common.events import record_event
from services.common.idempotency import find_response, idempotency_key, request_hash, save_response
from services.common.internal import call_internal
from services.common.service import http_key, pool_key, settings_key
from services.common.validators import is_valid_uscc, normalize_uscc
from services.common.web import Api, DependencyUnavailable, json_response, principal

from . import domain, profile, repository
from .schemas import Binding, BindingList, BindRequest, Dictionaries, HistoryStep, Unit

log = logging.getLogger(__name__)

APPLICATION_SERVICE = "申报服务 / application service"

api = Api(title="binding")
APPLICANT = ("applicant",)


def history_view(row, language: str) -> list[HistoryStep]:
    return [HistoryStep(**step, action_label=domain.action_label(step["action"], language))
            for step in domain.history(row)]


def binding_view(row, language: str = "zh", applications_under_review: int = 0) -> Binding:
    return Binding(
        binding_id=str(row["id"]), status=row["status"], status_label=domain.status_label(row["status"], language),
        uscc=row["uscc"], unit_name=row["unit_name"], opinion=row["opinion"],
        requested_at=row["requested_at"], decided_at=row["decided_at"], unbound_at=row["unbound_at"],
        applications_under_review=applications_under_review, history=history_view(row, language))


async def under_review_of(connection: asyncpg.Connection, row) -> int:
    """Count the person's applications under review through an approved binding's unit; 0 for other bindings."""
    if row["status"] != domain.BindingStatus.APPROVED:
        return 0
    return await repository.count_applications_under_review(connection, row["person_id"], row["uscc"])


def parse_binding_id(request: web.Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info["binding_id"])
    except ValueError as e:
        raise ApiError(404, "binding.not_found") from e


@api.get("/dictionaries", summary="Dictionaries of the unit profile: 单位性质, regions, industries",
         response=Dictionaries, public=True)
async def get_dictionaries(request: web.Request) -> web.Response:
    return json_response(Dictionaries(**{field: profile.options(field) for field in profile.DICTIONARIES}))


@api.get("/units/{uscc}", summary="Look up a registered unit by its 统一社会信用代码", response=Unit)
async def get_unit(request: web.Request) -> web.Response:
    uscc = normalize_uscc(request.match_info["uscc"])
    if not is_valid_uscc(uscc):
        raise ApiError(422, "validation_failed", errors=[FieldError("uscc", "binding.invalid_uscc")])

    async with request.app[pool_key].acquire() as connection:
        unit = await repository.find_unit(connection, uscc)
    domain.check_unit_bindable(uscc, unit)

    return json_response(Unit(uscc=uscc, unit_name=unit["unit_name"]))


@api.post("/bindings", summary="Ask to bind a recommending unit; Idempotency-Key replays a retry",
          body=BindRequest, response=Binding, status=201, roles=APPLICANT)
async def request_binding(request: web.Request, body: BindRequest) -> web.Response:
    caller = principal(request)
    key = idempotency_key(request)
    body_hash = request_hash(body)
    language = preferred_language(request)

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        replay = await find_response(connection, caller.user_id, key, "bind", body_hash)
        if replay is not None:
            return replay
        unit = await repository.find_unit(connection, body.uscc)
        domain.check_unit_bindable(body.uscc, unit)
        row = await _insert_pending(connection, caller, unit, key, body_hash)
        if isinstance(row, web.Response):
            return row
        await record_event(connection, "binding", "binding.requested", {
            "binding_id": str(row["id"]), "person_id": caller.user_id, "uscc": row["uscc"],
            "unit_name": row["unit_name"], "requested_at": row["requested_at"].isoformat()},
            subject=f"bindings/{row['id']}")
        view = binding_view(row, language)
        await save_response(connection, caller.user_id, key, "bind", body_hash, 201, view.model_dump(mode="json"))

    log.info("person %s asked to bind unit %s (binding %s)", caller.user_id, row["uscc"], row["id"])
    return json_response(view, status=201)


async def _insert_pending(connection: asyncpg.Connection, caller: Principal, unit, key: str | None,
                          body_hash: str) -> repository.Record | web.Response:
    """Insert the pending request, or raise the 409 naming the person's pending or approved binding.

    A concurrent request with the same Idempotency-Key has committed when the insert conflicts with
    it, so its response is replayed instead of the 409.
    """
    # The conflicting binding may end between the insert and the read that names it, so try again.
    for _ in range(3):
        row = await repository.insert_binding(
            connection, person_id=caller.user_id, person_name=caller.name,
            id_number_masked=caller.id_number_masked, uscc=unit["uscc"], unit_name=unit["unit_name"])
        if row is not None:
            return row
        replay = await find_response(connection, caller.user_id, key, "bind", body_hash)
        if replay is not None:
            return replay
        active = await repository.find_active_binding(connection, caller.user_id)
        if active is not None:
            log.info("person %s may not bind unit %s: binding %s is %s", caller.user_id, unit["uscc"],
                     active["id"], active["status"])
            raise domain.active_binding_conflict(active)
    raise RuntimeError(f"insert of a pending binding for person {caller.user_id} conflicted 3 times, "
                       "but no pending or approved binding was found")


@api.get("/bindings", summary="List my binding requests, newest first, each with its history",
         response=BindingList, roles=APPLICANT)
async def list_bindings(request: web.Request) -> web.Response:
    caller = principal(request)

    language = preferred_language(request)
    async with request.app[pool_key].acquire() as connection:
        rows = await repository.list_person_bindings(connection, caller.user_id)
        items = [binding_view(row, language, await under_review_of(connection, row)) for row in rows]

    return json_response(BindingList(items=items))


async def load_own_binding(connection: asyncpg.Connection, caller: Principal, binding_id: uuid.UUID, *,
                           for_update: bool = False) -> repository.Record:
    """Load the caller's binding; another person's binding raises 404 like a missing one."""
    row = await repository.find_binding(connection, binding_id, for_update=for_update)
    if row is None or row["person_id"] != caller.user_id:
        log.info("person %s may not see binding %s: not found or another person's", caller.user_id, binding_id)
        raise ApiError(404, "binding.not_found")
    return row


@api.get("/bindings/{binding_id}", summary="Read one of my binding requests with its history",
         response=Binding, roles=APPLICANT)
async def get_binding(request: web.Request) -> web.Response:
    caller = principal(request)
    binding_id = parse_binding_id(request)

    async with request.app[pool_key].acquire() as connection:
        row = await load_own_binding(connection, caller, binding_id)
        under_review = await under_review_of(connection, row)

    return json_response(binding_view(row, preferred_language(request), under_review))


async def confirm_with_applications(request: web.Request, binding: repository.Record) -> None:
    """Ask the application service, under the binding's row lock, whether the binding may end.

    The events this service keeps trail a submission by a moment. The application service checks its
    own records and, when the binding may end, stops counting it as bound, so it rejects a submission
    made in that moment.
    """
    settings = request.app[settings_key]
    url = f"{settings.application_url}/internal/bindings/{binding['id']}/unbinding-check"
    status, body = await call_internal(request.app[http_key], request, "POST", url, settings.internal_token,
                                       APPLICATION_SERVICE, json={"person_id": binding["person_id"],
                                                                  "uscc": binding["uscc"]})
    if status == 409:
        count = body.get("applications_under_review", 1) if isinstance(body, dict) else 1
        raise ApiError(409, "binding.application_under_review", unit_name=binding["unit_name"],
                       extra={"applications_under_review": count})
    if status != 204:
        log.warning("unbinding check of binding %s returned status %d", binding["id"], status)
        raise DependencyUnavailable(APPLICATION_SERVICE)


@api.post("/bindings/{binding_id}/unbind",
          summary="Unbind my approved unit; refused while an application through it is under review",
          response=Binding, roles=APPLICANT)
async def unbind(request: web.Request) -> web.Response:
    caller = principal(request)
    binding_id = parse_binding_id(request)

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        current = await load_own_binding(connection, caller, binding_id, for_update=True)
        under_review = await repository.count_applications_under_review(connection, caller.user_id,
                                                                         current["uscc"])
        try:
            domain.check_unbindable(current, under_review)
            await confirm_with_applications(request, current)
        except ApiError as e:
            log.info("person %s may not unbind binding %s: %s", caller.user_id, binding_id, e.code)
            raise
        row = await repository.unbind(connection, binding_id)
        await record_event(connection, "binding", "binding.unbound", {
            "binding_id": str(row["id"]), "person_id": row["person_id"], "uscc": row["uscc"],
            "unbound_at": row["unbound_at"].isoformat()}, subject=f"bindings/{row['id']}")

    log.info("person %s unbound unit %s (binding %s)", caller.user_id, row["uscc"], row["id"])
    return json_response(binding_view(row, preferred_language(request)))

