"""Events published by identity, written to the outbox in the caller's transaction.

Identity consumes no events. No payload carries an ID number or a mobile number; a person's
identity.user_registered carries a keyed hash of the ID number (`id_number_hash`).

Example `identity.session_revoked` data, `reason` one of logout, password_reset, refresh_reuse, admin::

    {"session_id": "0b6f…", "user_id": "5c1d…", "expires_at": "2026-12-04T10:15:00+00:00",
     "reason": "logout"}
"""

import hashlib
import hmac
import uuid
from datetime import datetime

import asyncpg

from services.common.bus import Subscription
from services.common.events import record_event
from services.common.validators import normalize_id_number

SUBSCRIPTIONS: list[Subscription] = []


async def record_user_registered(connection: asyncpg.Connection, user_id: uuid.UUID, kind: str, role: str, *,
                                 real_name: str | None = None, uscc: str | None = None,
                                 unit_name: str | None = None, id_number_hash: str | None = None) -> None:
    data = {"user_id": str(user_id), "kind": kind, "role": role}
    optional = {"real_name": real_name, "uscc": uscc, "unit_name": unit_name, "id_number_hash": id_number_hash}
    data.update({name: value for name, value in optional.items() if value is not None})
    await record_event(connection, "identity", "identity.user_registered", data, subject=f"users/{user_id}")


def id_number_pseudonym(key: str, id_number: str) -> str:
    """Return the hex HMAC-SHA256 of the normalized ID number under TALENT_ID_NUMBER_HASH_KEY.

    It is `id_number_hash` of identity.user_registered; the application service computes the same
    value for imported gradings (services/application/gradings.py), so both must stay alike.
    """
    return hmac.new(key.encode(), normalize_id_number(id_number).encode(), hashlib.sha256).hexdigest()


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


async def record_password_reset(connection: asyncpg.Connection, user_id: uuid.UUID, reset_at: datetime) -> None:
    data = {"user_id": str(user_id), "reset_at": reset_at.isoformat()}
    await record_event(connection, "identity", "identity.password_reset", data, subject=f"users/{user_id}")
