"""Events published by identity, written to the outbox in the caller's transaction.

Identity consumes no events. No payload carries an ID number or a mobile number.

Example `identity.session_revoked` data::

    {"session_id": "0b6f…", "user_id": "5c1d…", "expires_at": "2026-12-04T10:15:00+00:00",
     "reason": "logout"}
"""

import uuid
from datetime import datetime

import asyncpg

from services.common.bus import Subscription
from services.common.events import record_event

SUBSCRIPTIONS: list[Subscription] = []


async def record_user_registered(connection: asyncpg.Connection, user_id: uuid.UUID, kind: str, role: str, *,
                                 real_name: str | None = None, uscc: str | None = None,
                                 unit_name: str | None = None) -> None:
    data = {"user_id": str(user_id), "kind": kind, "role": role}
    optional = {"real_name": real_name, "uscc": uscc, "unit_name": unit_name}
    data.update({name: value for name, value in optional.items() if value is not None})
    await record_event(connection, "identity", "identity.user_registered", data, subject=f"users/{user_id}")


async def record_unit_first_signed_in(connection: asyncpg.Connection, user_id: uuid.UUID, uscc: str,
                                      unit_name: str, signed_in_at: datetime) -> None:
    data = {"user_id": str(user_id), "uscc": uscc, "unit_name": unit_name,
            "signed_in_at": signed_in_at.isoformat()}
    await record_event(connection, "identity", "identity.unit_first_signed_in", data,
                       subject=f"users/{user_id}")


async def record_session_revoked(connection: asyncpg.Connection, session_id: uuid.UUID, user_id: uuid.UUID,
                                 expires_at: datetime, reason: str) -> None:
    data = {"session_id": str(session_id), "user_id": str(user_id), "expires_at": expires_at.isoformat(),
            "reason": reason}
    await record_event(connection, "identity", "identity.session_revoked", data,
                       subject=f"sessions/{session_id}")
