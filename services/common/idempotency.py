"""Retried writes that carry an `Idempotency-Key` header return the response of the first request.

Responses are stored in the kit's `idempotency_keys` table of the service's schema, one row per
(user, key, scope). A scope names the operation and usually the record, so one key may be reused on
another record. The row also stores a hash of the request: a key sent again with another request is
rejected with 422 `idempotency.conflict`, as the IETF httpapi Idempotency-Key draft does.

Look the key up after taking the lock that serializes writes to the record, and save the response in
the same transaction as the write, so that two requests with one key never both act. A request
without a key (key None) is neither looked up nor stored.
"""

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel

from .errors import ApiError

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# 1 to 200 visible ASCII characters (0x21-0x7E), so no spaces or control characters.
_KEY = re.compile(r"[\x21-\x7e]{1,200}")


@dataclass(frozen=True)
class StoredResponse:
    """Status and decoded JSON body of the first response to a key."""

    status: int
    body: Any


def idempotency_key(request: web.Request) -> str | None:
    """Return the request's Idempotency-Key or None without one, and raise 400 when it is invalid."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        raise ApiError(400, "idempotency.key_invalid")
    return key


def request_hash(value: BaseModel | Any) -> str:
    """Return the SHA-256 hex digest of the canonical JSON of a pydantic model or a JSON-like value."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def find_stored(connection: asyncpg.Connection, user_id: str, key: str | None, scope: str,
                      request_hash: str) -> StoredResponse | None:
    """Return the key's stored response or None when the key is unknown, and raise 422 for another request."""
    if key is None:
        return None
    row = await connection.fetchrow(
        "SELECT request_hash, status, body::text AS body FROM idempotency_keys"
        " WHERE user_id = $1 AND key = $2 AND scope = $3", user_id, key, scope)
    if row is None:
        return None
    if row["request_hash"] != request_hash:
        log.info("idempotency key of user %s reused with another request in scope %s", user_id, scope)
        raise ApiError(422, "idempotency.conflict")
    return StoredResponse(status=row["status"], body=json.loads(row["body"]))


async def find_response(connection: asyncpg.Connection, user_id: str, key: str | None, scope: str,
                        request_hash: str) -> web.Response | None:
    """Build the replay of the key's stored response, or return None when the key is unknown.

    Like `find_stored`, it raises 422 when the key was used with another request.
    """
    stored = await find_stored(connection, user_id, key, scope, request_hash)
    if stored is None:
        return None
    log.info("replaying the stored %d response of user %s in scope %s", stored.status, user_id, scope)
    return web.Response(text=json.dumps(stored.body, ensure_ascii=False), status=stored.status,
                        content_type="application/json", headers={REPLAYED_HEADER: "true"})


async def save_response(connection: asyncpg.Connection, user_id: str, key: str | None, scope: str,
                        request_hash: str, status: int, body: Any) -> bool:
    """Store the response of a keyed request, or return False when another request stored the key first.

    Without a key it stores nothing and returns True. Call it inside the write's transaction. The
    insert waits for a concurrent insert of the same key, so False means that the other request has
    committed. Roll back and look the key up again.
    """
    if key is None:
        return True
    stored = await connection.fetchval(
        "INSERT INTO idempotency_keys (user_id, key, scope, request_hash, status, body)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT DO NOTHING RETURNING true",
        user_id, key, scope, request_hash, status, json.dumps(body, ensure_ascii=False, default=str))
    return bool(stored)
