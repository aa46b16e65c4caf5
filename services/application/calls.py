"""HTTP handlers for calls for applications (通知): an admin creates, publishes and closes them, and
anyone, signed in or not, lists them."""

import logging
from datetime import UTC, datetime

import asyncpg
from aiohttp import web

from services.common.errors import ApiError
from services.common.web import json_response, parse_query, principal

from . import repository
from .domain import CHINA
from .eligibility import display_time, is_call_open, window_params
from .eligibility_checks import call_window
from .routes import ADMIN, api, path_id, pool
from .schemas import CallCreate, CallList, CallOut, CallQuery

log = logging.getLogger(__name__)


def call_out(row: asyncpg.Record, now: datetime) -> CallOut:
    window = call_window(row)
    params = window_params(window)
    fields = {key: row[key] for key in CallOut.model_fields if key not in ("is_open", "window_label")}
    fields.update(opens_at=row["opens_at"].astimezone(CHINA), closes_at=row["closes_at"].astimezone(CHINA))
    return CallOut(**fields, is_open=is_call_open(window, now),
                   window_label=f"{params['opens_at']} 至 {params['closes_at']}（北京时间）")


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
    now = datetime.now(UTC)

    async with pool(request).acquire() as c, c.transaction():
        row = await repository.get_call(c, call_id, for_update=True)
        if row is None:
            raise ApiError(404, "application.call_not_found")
        if row["status"] != target:
            if row["status"] not in allowed_from:
                raise ApiError(409, "application.call_state_conflict", call_status=row["status"],
                               action_zh=action[0], action_en=action[1])
            if target == "published" and row["closes_at"] <= now:
                raise ApiError(409, "application.call_expired", title=row["title"],
                               closes_at=display_time(row["closes_at"]))
            row = await repository.set_call_status(c, call_id, target)
            log.info("call %s is now %s", call_id, target)

    return json_response(call_out(row, now))


@api.post("/calls/{call_id}/publish", summary="Publish a draft call whose window has not ended",
          response=CallOut, roles=ADMIN)
async def publish_call(request: web.Request) -> web.Response:
    return await _change_call(request, "published", ("draft",), ("发布", "published"))


@api.post("/calls/{call_id}/close", summary="Close a call: it accepts no new draft and no submission",
          response=CallOut, roles=ADMIN)
async def close_call(request: web.Request) -> web.Response:
    return await _change_call(request, "closed", ("draft", "published"), ("关闭", "closed"))


@api.get("/calls", summary="List calls; open=true lists the published calls open now", response=CallList,
         public=True, query=CallQuery)
async def list_calls(request: web.Request) -> web.Response:
    caller = request.get("principal")
    query = parse_query(request, CallQuery)
    now = datetime.now(UTC)
    is_admin = caller is not None and caller.has_role("admin")

    async with pool(request).acquire() as c:
        rows = await repository.list_calls(c, published_only=not is_admin, open_at=now if query.open else None)

    return json_response(CallList(items=[call_out(row, now) for row in rows]))


@api.get("/calls/{call_id}", summary="Read one call; drafts only for admins", response=CallOut, public=True)
async def get_call(request: web.Request) -> web.Response:
    caller = request.get("principal")
    call_id = path_id(request, "call_id", "application.call_not_found")

    async with pool(request).acquire() as c:
        row = await repository.get_call(c, call_id)

    if row is None or (row["status"] == "draft" and not (caller and caller.has_role("admin"))):
        raise ApiError(404, "application.call_not_found")
    return json_response(call_out(row, datetime.now(UTC)))
