"""The security audit trail."""

import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg


async def insert_audit_event(connection: asyncpg.Connection, type: str, now: datetime, user_id: uuid.UUID | None,
                             account: str | None, client_address: str | None, user_agent: str | None,
                             details: dict[str, Any]) -> None:
    await connection.execute(
        "INSERT INTO audit_events (occurred_at, type, user_id, account, client_address, user_agent, details)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
        now, type, user_id, account, client_address, user_agent, json.dumps(details, ensure_ascii=False))


async def list_audit_events(connection: asyncpg.Connection, before_id: int | None, limit: int,
                            user_id: uuid.UUID | None, type: str | None) -> list[asyncpg.Record]:
    """Audit events newest first, only those with an id below `before_id` when it is given."""
    return await connection.fetch(
        "SELECT id, occurred_at, type, user_id, account, client_address, user_agent, details::text AS details"
        " FROM audit_events WHERE ($1::bigint IS NULL OR id < $1) AND ($2::uuid IS NULL OR user_id = $2)"
        " AND ($3::text IS NULL OR type = $3) ORDER BY id DESC LIMIT $4",
        before_id, user_id, type, limit)
