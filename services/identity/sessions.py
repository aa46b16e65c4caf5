"""Sign-in sessions: password checks with throttling, token pairs, refresh rotation and revocation.

A session lives until `refresh_token_ttl` after sign-in or until it is revoked. Each refresh token is
exchanged once for a new pair. Presenting an exchanged token again revokes the whole session,
because it means the token was copied.
"""

import logging
import uuid
from datetime import datetime, timedelta

import asyncpg

from services.common.errors import ApiError
from services.common.validators import normalize_id_number, normalize_uscc

from . import domain, messaging, repository
from .accounts import subject_of
from .crypto import hash_token
from .domain import Kind
from .resources import Identity
from .schemas import TokenPair
from .tokens import new_refresh_token
from .verification import CommittedRejection

log = logging.getLogger(__name__)


async def check_password(connection: asyncpg.Connection, identity: Identity, account_name: str, password: str,
                         at: datetime) -> asyncpg.Record:
    """Return the account that `account_name` and `password` sign in to, or raise 401 or 429.

    Failures are counted per account string, and a known and an unknown account get the same response.
    """
    name = account_name.strip()
    account_hash = identity.cipher.lookup_hash("sign_in", name.upper())
    blocked_until = await repository.sign_in_blocked_until(connection, account_hash)
    if blocked_until is not None and blocked_until > at:
        raise _throttled(blocked_until - at)

    id_number_hash = identity.cipher.lookup_hash("id_number", normalize_id_number(name))
    account = await repository.find_account_by_sign_in_name(
        connection, mobile=name, id_number_hash=id_number_hash, uscc=normalize_uscc(name),
        staff_account=name.lower())
    if await identity.passwords.verify(account["password_hash"] if account else None, password):
        await repository.clear_sign_in_failures(connection, account_hash)
        return account

    failures = await repository.count_sign_in_failure(connection, account_hash, at,
                                                      at - domain.SIGN_IN_FAILURE_MEMORY)
    delay = domain.sign_in_delay(failures)
    if delay is not None:
        await repository.block_sign_in(connection, account_hash, at + delay)
    log.info("failed sign-in %d in a row for account key %s", failures, account_hash.hex()[:12])
    raise CommittedRejection(401, "identity.invalid_credentials")


def _throttled(wait: timedelta) -> CommittedRejection:
    seconds = max(1, int(wait.total_seconds() + 0.999))
    wait_zh, wait_en = domain.describe_wait(seconds)
    return CommittedRejection(429, "identity.sign_in_throttled", wait_zh=wait_zh, wait_en=wait_en,
                              headers={"Retry-After": str(seconds)})


async def open_session(connection: asyncpg.Connection, identity: Identity, account: asyncpg.Record,
                       at: datetime) -> TokenPair:
    """Start a session for a signed-in account; a unit's first sign-in is announced."""
    session_id = uuid.uuid4()
    access_token, access_expires_at = identity.issuer.issue(subject_of(account), str(session_id), at)
    refresh_token = new_refresh_token()
    expires_at = at + timedelta(seconds=identity.settings.refresh_token_ttl)
    await repository.insert_session(connection, session_id, account["id"], at, expires_at, access_expires_at)
    await repository.insert_refresh_token(connection, hash_token(refresh_token), session_id, at)

    first_sign_in = await repository.mark_first_sign_in(connection, account["id"], at)
    if first_sign_in and account["kind"] == Kind.UNIT:
        await messaging.record_unit_first_signed_in(connection, account["id"], account["uscc"],
                                                    account["unit_name"], at)
    log.info("user %s signed in with session %s", account["id"], session_id)
    return _token_pair(identity, access_token, refresh_token)


async def refresh_session(connection: asyncpg.Connection, identity: Identity, refresh_token: str,
                          at: datetime) -> TokenPair:
    """Exchange a refresh token for a new pair, revoking the session if the token was used before."""
    token_hash = hash_token(refresh_token)
    row = await repository.refresh_token_for_update(connection, token_hash)
    if row is None or row["revoked_at"] is not None or row["expires_at"] <= at:
        raise ApiError(401, "identity.refresh_token_invalid")
    session_id = row["session_id"]
    if row["used_at"] is not None:
        await end_session(connection, session_id, "refresh_reuse", at)
        log.warning("refresh token of session %s was used twice; session revoked", session_id)
        raise CommittedRejection(401, "identity.refresh_token_invalid")

    account = await repository.account_by_id(connection, row["user_id"])
    access_token, access_expires_at = identity.issuer.issue(subject_of(account), str(session_id), at)
    new_token = new_refresh_token()
    await repository.mark_refresh_token_used(connection, token_hash, at)
    await repository.insert_refresh_token(connection, hash_token(new_token), session_id, at)
    await repository.extend_session_access(connection, session_id, access_expires_at)
    return _token_pair(identity, access_token, new_token)


async def end_session(connection: asyncpg.Connection, session_id: uuid.UUID, reason: str,
                      at: datetime) -> bool:
    """Revoke a session and announce it; False if it was already revoked."""
    revoked = await repository.revoke_session(connection, session_id, reason, at)
    if revoked is None:
        return False
    await messaging.record_session_revoked(connection, session_id, revoked["user_id"],
                                           revoked["access_expires_at"], reason)
    log.info("session %s of user %s revoked: %s", session_id, revoked["user_id"], reason)
    return True


def _token_pair(identity: Identity, access_token: str, refresh_token: str) -> TokenPair:
    return TokenPair(access_token=access_token, refresh_token=refresh_token,
                     expires_in=identity.settings.access_token_ttl)
