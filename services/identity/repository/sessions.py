"""Sign-in sessions and their refresh tokens."""

import uuid
from datetime import datetime

import asyncpg


async def insert_session(connection: asyncpg.Connection, session_id: uuid.UUID, user_id: uuid.UUID,
                         now: datetime, expires_at: datetime, access_expires_at: datetime, method: str,
                         channel: str, client_address: str, user_agent: str, refresh_token_hash: bytes) -> None:
    """Insert a session together with its first refresh token."""
    await connection.execute(
        "WITH session AS (INSERT INTO sessions (id, user_id, created_at, expires_at, access_expires_at,"
        " sign_in_method, channel, client_address, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $10, $7, $8)"
        " RETURNING id)"
        " INSERT INTO refresh_tokens (token_hash, session_id, created_at) SELECT $9, id, $3 FROM session",
        session_id, user_id, now, expires_at, access_expires_at, method, client_address, user_agent,
        refresh_token_hash, channel)


async def session_channel(connection: asyncpg.Connection, session_id: uuid.UUID) -> str | None:
    return await connection.fetchval("SELECT channel FROM sessions WHERE id = $1", session_id)


async def insert_refresh_token(connection: asyncpg.Connection, token_hash: bytes, session_id: uuid.UUID,
                               now: datetime) -> None:
    await connection.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)",
        token_hash, session_id, now)


async def refresh_token_for_update(connection: asyncpg.Connection,
                                   token_hash: bytes) -> asyncpg.Record | None:
    """Lock a refresh token and its session; return both, or None for an unknown token."""
    return await connection.fetchrow(
        "SELECT t.session_id, t.used_at, s.user_id, s.expires_at, s.revoked_at"
        " FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id"
        " WHERE t.token_hash = $1 FOR UPDATE", token_hash)


async def mark_refresh_token_used(connection: asyncpg.Connection, token_hash: bytes, now: datetime) -> None:
    await connection.execute("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1", token_hash, now)


async def extend_session_access(connection: asyncpg.Connection, session_id: uuid.UUID,
                                access_expires_at: datetime) -> None:
    await connection.execute(
        "UPDATE sessions SET access_expires_at = greatest(access_expires_at, $2) WHERE id = $1",
        session_id, access_expires_at)


async def revoke_session(connection: asyncpg.Connection, session_id: uuid.UUID, reason: str,
                         now: datetime) -> asyncpg.Record | None:
    """Revoke an active session; return its user and access expiry, or None if already revoked."""
    return await connection.fetchrow(
        "UPDATE sessions SET revoked_at = $3, revoke_reason = $2 WHERE id = $1 AND revoked_at IS NULL"
        " RETURNING user_id, access_expires_at", session_id, reason, now)


async def active_session_ids(connection: asyncpg.Connection, user_id: uuid.UUID,
                             now: datetime) -> list[uuid.UUID]:
    """Sessions of a user not revoked yet whose refresh token or last access token is still valid."""
    rows = await connection.fetch(
        "SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL"
        " AND (expires_at > $2 OR access_expires_at > $2) ORDER BY created_at", user_id, now)
    return [row["id"] for row in rows]


async def session_is_active(connection: asyncpg.Connection, session_id: uuid.UUID,
                            user_id: uuid.UUID) -> bool:
    """True unless the session was revoked; the access token's own expiry is checked by its verifier."""
    return await connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL)",
        session_id, user_id)


async def revoked_sessions(connection: asyncpg.Connection, now: datetime) -> list[asyncpg.Record]:
    """Revoked sessions that may still have unexpired access tokens."""
    return await connection.fetch(
        "SELECT id, access_expires_at FROM sessions WHERE revoked_at IS NOT NULL AND access_expires_at > $1"
        " ORDER BY access_expires_at", now)
