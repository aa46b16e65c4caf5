"""Replays of retried writes that carry an `Idempotency-Key` header.

Call `replay` after taking the lock that serializes writes to the same record, and `remember` in
the same transaction as the write, so two requests with one key never both act.
"""

import hashlib
import re
from typing import Any

import asyncpg
from aiohttp import web
from pydantic import BaseModel

from services.common.auth import Principal
from services.common.errors import ApiError

from . import repository

HEADER = "Idempotency-Key"
_KEY = re.compile(r"[\x21-\x7e]{1,200}")


def key_from(request: web.Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        raise ApiError(400, "review.invalid_idempotency_key")
    return key


def _request_hash(body: BaseModel) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


async def replay(connection: asyncpg.Connection, caller: Principal, key: str | None, scope: str,
                 body: BaseModel) -> web.Response | None:
    """Return the stored response of an earlier request with this key, or None if there is none."""
    if key is None:
        return None
    stored = await repository.stored_response(connection, caller.user_id, key, scope)
    if stored is None:
        return None
    if stored["request_hash"] != _request_hash(body):
        raise ApiError(422, "idempotency.conflict")
    return web.Response(text=stored["body"], status=stored["status"], content_type="application/json",
                        headers={"Idempotent-Replayed": "true"})


async def remember(connection: asyncpg.Connection, caller: Principal, key: str | None, scope: str,
                   body: BaseModel, status: int, response: dict[str, Any]) -> None:
    if key is not None:
        await repository.store_response(connection, caller.user_id, key, scope, _request_hash(body),
                                        status, response)
