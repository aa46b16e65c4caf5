"""Security audit trail: sign-ins, failures, throttling, sign-outs, resets and admin actions.

Each entry names the user when known, the account as typed (masked by `domain.mask_account`), the
client address and the user agent. Entries are written in the transaction of the action they
record, so a rejected sign-in is recorded together with its counted failure.
"""

import enum
import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg

from . import repository
from .clients import Client
from .domain import mask_account
from .schemas import AuditEvent, AuditEvents


class AuditType(enum.StrEnum):
    SIGN_IN_SUCCEEDED = "sign_in_succeeded"
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_IN_THROTTLED = "sign_in_throttled"
    SIGNED_OUT = "signed_out"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"
    PASSWORD_RESET = "password_reset"
    STAFF_CREATED = "staff_created"
    ROLE_CHANGED = "role_changed"
    SESSIONS_ENDED = "sessions_ended"
    UNIT_HANDED_OVER = "unit_handed_over"
    SIGNING_KEY_ROTATED = "signing_key_rotated"
    SIGNING_KEY_RETIRED = "signing_key_retired"


async def record(connection: asyncpg.Connection, type: AuditType, client: Client | None, now: datetime, *,
                 user_id: uuid.UUID | str | None = None, account: str | None = None, **details: Any) -> None:
    await repository.audit.insert_audit_event(
        connection, type, now, uuid.UUID(str(user_id)) if user_id else None,
        mask_account(account) if account is not None else None,
        client.address if client else None, client.user_agent if client else None, details)


async def list_events(connection: asyncpg.Connection, cursor: str | None, limit: int, user_id: uuid.UUID | None,
                      type: str | None) -> AuditEvents:
    """Return one page of audit events, newest first; `next_cursor` continues after the page's last entry."""
    before_id = int(cursor) if cursor else None
    rows = await repository.audit.list_audit_events(connection, before_id, limit + 1, user_id, type)
    page = rows[:limit]
    items = [AuditEvent(id=row["id"], type=row["type"], occurred_at=row["occurred_at"],
                        user_id=str(row["user_id"]) if row["user_id"] else None, account=row["account"],
                        client_address=row["client_address"], user_agent=row["user_agent"],
                        details=json.loads(row["details"])) for row in page]
    next_cursor = str(page[-1]["id"]) if len(rows) > limit else None
    return AuditEvents(items=items, next_cursor=next_cursor)
