"""Admin endpoints: staff roles, ending a user's sessions, unit account handover, the audit trail and signing
key rotation."""

import uuid

from aiohttp import web

from services.common.errors import ApiError
from services.common.service import pool_key
from services.common.web import Api, json_response, parse_query

from .. import admin, audit, repository
from ..audit import AuditType
from ..resources import active_caller, client, identity_of, now
from ..schemas import (
    AuditEvents,
    AuditQuery,
    RoleChange,
    SessionsEnded,
    SigningKeyInfo,
    SigningKeys,
    StaffList,
    StaffMember,
    UnitHandedOver,
    UnitHandover,
)

api = Api("identity")

ADMIN = ("admin",)


@api.get("/staff", summary="List staff accounts (admins only)", response=StaffList, roles=ADMIN)
async def list_staff(request: web.Request) -> web.Response:
    await active_caller(request)

    async with request.app[pool_key].acquire() as connection:
        rows = await repository.accounts.list_staff(connection)

    items = [StaffMember(user_id=str(row["id"]), account=row["account"], name=row["display_name"], role=row["role"],
                         created_at=row["created_at"]) for row in rows]
    return json_response(StaffList(items=items))


@api.put("/staff/{user_id}/role", summary="Change a staff member's role (admins only); their sessions end",
         body=RoleChange, response=SessionsEnded, roles=ADMIN)
async def change_role(request: web.Request, body: RoleChange) -> web.Response:
    caller = await active_caller(request)
    user_id = _user_id(request)

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        ended = await admin.change_staff_role(connection, caller.user_id, user_id, body.role, client(request), now())

    return json_response(SessionsEnded(sessions_ended=ended))


@api.delete("/users/{user_id}/sessions", summary="End every session of a user (admins only)",
            response=SessionsEnded, roles=ADMIN)
async def end_user_sessions(request: web.Request) -> web.Response:
    caller = await active_caller(request)
    user_id = _user_id(request)

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        ended = await admin.end_sessions_of(connection, caller.user_id, user_id, client(request), now())

    return json_response(SessionsEnded(sessions_ended=ended))


@api.post("/units/{uscc}/handover", summary="Hand a unit account (推荐单位) over to the unit's real contact (admins"
          " only): new contact, unknown password, sessions ended; the unit then resets the password by SMS",
          body=UnitHandover, response=UnitHandedOver, roles=ADMIN)
async def hand_over_unit(request: web.Request, body: UnitHandover) -> web.Response:
    caller = await active_caller(request)
    uscc = request.match_info["uscc"].upper()

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        handed_over = await admin.hand_over_unit(connection, identity_of(request), caller.user_id, uscc, body,
                                                 client(request), now())

    return json_response(handed_over)


@api.get("/audit-events", summary="Security audit trail, newest first (admins only); pass next_cursor as cursor"
         " for older entries", response=AuditEvents, roles=ADMIN, query=AuditQuery)
async def list_audit_events(request: web.Request) -> web.Response:
    await active_caller(request)
    query = parse_query(request, AuditQuery)

    async with request.app[pool_key].acquire() as connection:
        page = await audit.list_events(connection, query.cursor, query.limit, query.user_id, query.type)

    return json_response(page, headers={"Cache-Control": "no-store"})


@api.get("/signing-keys", summary="Access token signing keys and their state (admins only)", response=SigningKeys,
         roles=ADMIN)
async def list_signing_keys(request: web.Request) -> web.Response:
    await active_caller(request)

    async with request.app[pool_key].acquire() as connection:
        rows = await repository.keys.list_signing_keys(connection)

    return json_response(SigningKeys(items=[_key_info(row) for row in rows]))


@api.post("/signing-keys", summary="Rotate: a new key signs from now on, the old one stays in the JWKS until"
          " retired (admins only)", response=SigningKeyInfo, status=201, roles=ADMIN)
async def rotate_signing_key(request: web.Request) -> web.Response:
    caller = await active_caller(request)
    identity = identity_of(request)
    at = now()

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        key = await identity.keys.rotate(connection, at)
        await audit.record(connection, AuditType.SIGNING_KEY_ROTATED, client(request), at, user_id=caller.user_id,
                           kid=key.kid)
        rows = await repository.keys.list_signing_keys(connection)

    row = next(row for row in rows if row["kid"] == key.kid)
    return json_response(_key_info(row), status=201)


@api.post("/signing-keys/{kid}/retire", summary="Remove a replaced key from the JWKS once the tokens it signed"
          " have expired (admins only)", status=204, roles=ADMIN)
async def retire_signing_key(request: web.Request) -> web.Response:
    caller = await active_caller(request)
    identity = identity_of(request)
    kid = request.match_info["kid"]
    at = now()

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        await identity.keys.retire(connection, kid, identity.issuer.ttl, at)
        await audit.record(connection, AuditType.SIGNING_KEY_RETIRED, client(request), at, user_id=caller.user_id,
                           kid=kid)

    return web.Response(status=204)


def _user_id(request: web.Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info["user_id"])
    except ValueError as e:
        raise ApiError(404, "identity.user_not_found") from e


def _key_info(row) -> SigningKeyInfo:
    status = "active"
    if row["retired_at"] is not None:
        status = "retired"
    elif row["deactivated_at"] is not None:
        status = "published"
    return SigningKeyInfo(kid=row["kid"], status=status, created_at=row["created_at"],
                          deactivated_at=row["deactivated_at"], retired_at=row["retired_at"])
