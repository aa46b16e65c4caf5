"""Endpoints of sign-in sessions (登录, 安全退出), the public keys and the revocation list."""

import uuid

from aiohttp import web

from services.common.internal import require_internal_token
from services.common.service import pool_key
from services.common.web import Api, json_response

from .. import audit, repository, sessions, sign_in
from ..audit import AuditType
from ..resources import active_caller, client, identity_of, now
from ..schemas import Jwks, RefreshRequest, RevokedSession, RevokedSessions, SignIn, TokenPair
from ..verification import committing_rejections, use_captcha

api = Api("identity")

NO_STORE = {"Cache-Control": "no-store"}


@api.post("/sessions", summary="Sign in (登录) with account, password and captcha; the mobile app sends"
          " channel \"app\". Failures are throttled per account and per client address (429 with Retry-After)",
          body=SignIn, response=TokenPair, status=201, public=True)
async def create_session(request: web.Request, body: SignIn) -> web.Response:
    identity = identity_of(request)
    caller = client(request)
    at = now()

    async with request.app[pool_key].acquire() as connection, committing_rejections(connection):
        await use_captcha(connection, identity, body.captcha_id, body.captcha_answer, at)
        account = await sign_in.check_password(connection, identity, body.account, body.password, caller, at)
        _, tokens = await sessions.open_session(connection, identity, account, caller, "password", at,
                                                body.channel)

    return json_response(tokens, status=201, headers=NO_STORE)


@api.post("/sessions/refresh", summary="Exchange a refresh token for a new token pair; reusing an exchanged"
          " refresh token ends the session", body=RefreshRequest, response=TokenPair, public=True)
async def refresh(request: web.Request, body: RefreshRequest) -> web.Response:
    identity = identity_of(request)

    async with request.app[pool_key].acquire() as connection, committing_rejections(connection):
        tokens = await sessions.refresh_session(connection, identity, body.refresh_token, client(request), now())

    return json_response(tokens, headers=NO_STORE)


@api.delete("/sessions/current", summary="Sign out (安全退出): revoke the caller's session", status=204)
async def sign_out(request: web.Request) -> web.Response:
    caller = await active_caller(request)
    at = now()

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        await sessions.end_session(connection, uuid.UUID(caller.session_id), "logout", at)
        await audit.record(connection, AuditType.SIGNED_OUT, client(request), at, user_id=caller.user_id,
                           session_id=caller.session_id)

    return web.Response(status=204)


@api.get("/.well-known/jwks.json", summary="Public keys that verify access tokens: the signing key and the keys"
         " it replaced that are not retired yet", response=Jwks, public=True)
async def show_jwks(request: web.Request) -> web.Response:
    async with request.app[pool_key].acquire() as connection:
        keys = await repository.keys.public_jwks(connection)
    return json_response(Jwks(keys=keys), headers={"Cache-Control": "max-age=60"})


@api.get("/internal/revoked-sessions", summary="Revoked sessions whose access tokens may not have expired yet"
         " (service-to-service, X-Internal-Token)", response=RevokedSessions, public=True)
async def list_revoked_sessions(request: web.Request) -> web.Response:
    require_internal_token(request, identity_of(request).settings.internal_token)

    async with request.app[pool_key].acquire() as connection:
        rows = await repository.sessions.revoked_sessions(connection, now())
    revoked = [RevokedSession(session_id=str(row["id"]), expires_at=row["access_expires_at"]) for row in rows]
    return json_response(RevokedSessions(sessions=revoked))
