"""Sign-in sessions: token pairs, refresh rotation and revocation.

A session lives until `refresh_token_ttl` after sign-in or until it is revoked. Each refresh token is
exchanged once for a new pair. Presenting an exchanged token again revokes the whole session,
because it means the token was copied. Every revocation is announced as `identity.session_revoked`,
which the gateway uses to reject the session's access tokens at once.
"""

import logging
import uuid
from datetime import datetime, timedelta

import asyncpg

from services.common.errors import ApiError

from . import audit, messaging, repository
from .accounts import subject_of
from .audit import AuditType
from .clients import Client
from .crypto import hash_token
from .domain import Kind
from .resources import Identity
from .schemas import TokenPair
from .tokens import new_secret
from .verification import CommittedRejection

log = logging.getLogger(__name__)


async def open_session(connection: asyncpg.Connection, identity: Identity, account: asyncpg.Record,
                       client: Client, method: str, at: datetime,
                       channel: str = "web") -> tuple[uuid.UUID, TokenPair]:
    """Start a session for a signed-in account and return its id and first token pair.

    A unit's first sign-in is announced, because binding to a unit requires it.
    """
    session_id = uuid.uuid4()
    key = await identity.keys.signing_key(connection)
    access_token, access_expires_at = identity.issuer.issue(key, subject_of(account), str(session_id), at)
    refresh_token = new_secret()
    expires_at = at + timedelta(seconds=identity.settings.refresh_token_ttl)
    await repository.sessions.insert_session(connection, session_id, account["id"], at, expires_at,
                                             access_expires_at, method, channel, client.address,
                                             client.user_agent, hash_token(refresh_token))

    first_sign_in = (account["first_signed_in_at"] is None
                     and await repository.accounts.mark_first_sign_in(connection, account["id"], at))
    if first_sign_in and account["kind"] == Kind.UNIT:
        await messaging.record_unit_first_signed_in(connection, account["id"], account["uscc"],
                                                    account["unit_name"], at)
    log.info("user %s signed in with session %s (%s, %s)", account["id"], session_id, method, channel)
    return session_id, _token_pair(identity, access_token, refresh_token)


async def refresh_session(connection: asyncpg.Connection, identity: Identity, refresh_token: str, client: Client,
                          at: datetime) -> TokenPair:
    """Exchange a refresh token for a new pair, revoking the session if the token was used before."""
    token_hash = hash_token(refresh_token)
    row = await repository.sessions.refresh_token_for_update(connection, token_hash)
    if row is None or row["revoked_at"] is not None or row["expires_at"] <= at:
        raise ApiError(401, "identity.refresh_token_invalid")
    session_id = row["session_id"]
    if row["used_at"] is not None:
        await end_session(connection, session_id, "refresh_reuse", at)
        await audit.record(connection, AuditType.REFRESH_TOKEN_REUSED, client, at, user_id=row["user_id"],
                           session_id=str(session_id))
        log.warning("refresh token of session %s was used twice; session revoked", session_id)
        raise CommittedRejection(401, "identity.refresh_token_invalid")

    account = await repository.accounts.account_by_id(connection, row["user_id"])
    key = await identity.keys.signing_key(connection)
    access_token, access_expires_at = identity.issuer.issue(key, subject_of(account), str(session_id), at)
    new_token = new_secret()
    await repository.sessions.mark_refresh_token_used(connection, token_hash, at)
    await repository.sessions.insert_refresh_token(connection, hash_token(new_token), session_id, at)
    await repository.sessions.extend_session_access(connection, session_id, access_expires_at)
    return _token_pair(identity, access_token, new_token)


async def end_session(connection: asyncpg.Connection, session_id: uuid.UUID, reason: str,
                      at: datetime) -> bool:
    """Revoke a session and announce it; False if it was already revoked."""
    revoked = await repository.sessions.revoke_session(connection, session_id, reason, at)
    if revoked is None:
        return False
    await messaging.record_session_revoked(connection, session_id, revoked["user_id"],
                                           revoked["access_expires_at"], reason)
    log.info("session %s of user %s revoked: %s", session_id, revoked["user_id"], reason)
    return True


async def end_user_sessions(connection: asyncpg.Connection, user_id: uuid.UUID, reason: str,
                            at: datetime) -> int:
    """Revoke every active session of a user, announcing each; return how many ended."""
    ended = 0
    for session_id in await repository.sessions.active_session_ids(connection, user_id, at):
        ended += await end_session(connection, session_id, reason, at)
    return ended


def _token_pair(identity: Identity, access_token: str, refresh_token: str) -> TokenPair:
    return TokenPair(access_token=access_token, refresh_token=refresh_token,
                     expires_in=identity.settings.access_token_ttl)
