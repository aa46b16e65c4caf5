"""QR sign-in tickets (扫码登录)."""

import uuid
from datetime import datetime

import asyncpg

_TICKET = ("SELECT id, poll_secret_hash, created_at, expires_at, page_address, page_user_agent, scanned_by,"
           " scanned_session_id, scanned_at, confirmed_at, collected_at FROM qr_tickets WHERE id = $1")


async def insert_ticket(connection: asyncpg.Connection, ticket_id: uuid.UUID, poll_secret_hash: bytes,
                        now: datetime, expires_at: datetime, page_address: str, page_user_agent: str) -> None:
    await connection.execute(
        "INSERT INTO qr_tickets (id, poll_secret_hash, created_at, expires_at, page_address, page_user_agent)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        ticket_id, poll_secret_hash, now, expires_at, page_address, page_user_agent)


async def delete_tickets_expired_before(connection: asyncpg.Connection, before: datetime) -> None:
    await connection.execute("DELETE FROM qr_tickets WHERE expires_at < $1", before)


async def ticket_for_update(connection: asyncpg.Connection, ticket_id: uuid.UUID) -> asyncpg.Record | None:
    return await connection.fetchrow(_TICKET + " FOR UPDATE", ticket_id)


async def mark_scanned(connection: asyncpg.Connection, ticket_id: uuid.UUID, user_id: uuid.UUID,
                       session_id: uuid.UUID, now: datetime) -> None:
    await connection.execute(
        "UPDATE qr_tickets SET scanned_by = $2, scanned_session_id = $3, scanned_at = coalesce(scanned_at, $4)"
        " WHERE id = $1", ticket_id, user_id, session_id, now)


async def mark_confirmed(connection: asyncpg.Connection, ticket_id: uuid.UUID, now: datetime) -> None:
    await connection.execute("UPDATE qr_tickets SET confirmed_at = $2 WHERE id = $1", ticket_id, now)


async def mark_collected(connection: asyncpg.Connection, ticket_id: uuid.UUID, session_id: uuid.UUID,
                         now: datetime) -> None:
    await connection.execute("UPDATE qr_tickets SET collected_at = $2, session_id = $3 WHERE id = $1",
                             ticket_id, now, session_id)
