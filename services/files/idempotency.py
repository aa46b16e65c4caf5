"""Idempotency-Key handling of uploads: a retried upload returns the first response.

The key is bound to the form fields and the file name, because the file's hash is known only after
the whole body has been read. A key reused with other fields is rejected with 422.
"""

import asyncpg
from aiohttp import web

from services.common.auth import Principal
from services.common.idempotency import find_response, idempotency_key, request_hash, save_response

from .schemas import UploadForm

SCOPE = "files.upload"


class KeyTaken(Exception):
    """Another request with the same key committed first."""


class IdempotentUpload:
    def __init__(self, user_id: str, key: str | None, request_hash: str) -> None:
        self.user_id = user_id
        self.key = key
        self.request_hash = request_hash

    @classmethod
    def from_request(cls, request: web.Request, caller: Principal, form: UploadForm,
                     file_name: str) -> "IdempotentUpload":
        fields = {**form.model_dump(mode="json"), "file_name": file_name}
        return cls(caller.user_id, idempotency_key(request), request_hash(fields))

    async def replay(self, pool: asyncpg.Pool) -> web.Response | None:
        """Return the stored response of this key, None when there is none."""
        if self.key is None:
            return None
        async with pool.acquire() as connection:
            return await find_response(connection, self.user_id, self.key, SCOPE, self.request_hash)

    async def save(self, connection: asyncpg.Connection, body: dict) -> None:
        """Store the 201 body in the upload's transaction; raise KeyTaken when another request won."""
        if not await save_response(connection, self.user_id, self.key, SCOPE, self.request_hash, 201, body):
            raise KeyTaken(self.key)
