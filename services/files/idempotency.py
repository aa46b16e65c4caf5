"""Idempotency-Key handling of uploads: a retried upload returns the first response.

The key is bound to the form fields and the file name, because the file's hash is known only after
the whole body has been read. A key reused with other fields is rejected with 422.
"""

import hashlib
import json
import re

import asyncpg
from aiohttp import web

from services.common.auth import Principal
from services.common.errors import ApiError
from services.common.web import json_response

from . import repository as repo
from .schemas import UploadForm

SCOPE = "files.upload"
HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


class KeyTaken(Exception):
    """Another request with the same key committed first."""


class IdempotentUpload:
    def __init__(self, user_id: str, key: str | None, request_hash: str) -> None:
        self.user_id = user_id
        self.key = key
        self.request_hash = request_hash
        self.raced = False

    @classmethod
    def from_request(cls, request: web.Request, caller: Principal, form: UploadForm,
                     file_name: str) -> "IdempotentUpload":
        key = request.headers.get(HEADER)
        if key is not None and not _KEY.match(key):
            raise ApiError(400, "files.idempotency_key_invalid")
        fields = {**form.model_dump(mode="json"), "file_name": file_name}
        request_hash = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
        return cls(caller.user_id, key, request_hash)

    async def replay(self, pool: asyncpg.Pool) -> web.Response | None:
        """Return the stored response of this key, None when there is none."""
        if self.key is None:
            return None
        async with pool.acquire() as connection:
            stored = await repo.find_idempotent(connection, self.user_id, self.key, SCOPE)
        if stored is None:
            return None
        if stored["request_hash"] != self.request_hash:
            raise ApiError(422, "idempotency.conflict")
        return json_response(json.loads(stored["body"]), status=stored["status"],
                             headers={"Idempotent-Replayed": "true"})

    async def save(self, connection: asyncpg.Connection, body: dict) -> None:
        """Store the 201 body in the upload's transaction; raise KeyTaken when another request won."""
        if self.key is None:
            return
        saved = await repo.save_idempotent(connection, self.user_id, self.key, SCOPE, self.request_hash,
                                           201, body)
        if not saved:
            self.raced = True
            raise KeyTaken(self.key)

    async def replay_after_race(self, pool: asyncpg.Pool) -> web.Response | None:
        return await self.replay(pool) if self.raced else None
