"""`POST /files`: check the slot, stream the file into storage, then commit its row and event.

An upload reads the form fields first and replays a known Idempotency-Key. Then the application
must be the caller's and editable, the slot must have room, and the first bytes must be an allowed
format. The file is streamed to S3 while it is counted and hashed. Last, the row, the idempotency
record and `file.uploaded` are committed in one transaction, and the object is removed again when
that transaction fails.
"""

import logging
import uuid
from typing import Any

import asyncpg
from aiohttp import web

from services.common.auth import Principal
from services.common.errors import ApiError, FieldError
from services.common.service import pool_key, store_key
from services.common.web import json_response, principal

from . import repository as repo
from .applications import load_editable_application
from .domain import clean_file_name
from .idempotency import IdempotentUpload
from .messaging import record_file_uploaded
from .routes import api, remove_object
from .rules import RULES, KindRule
from .schemas import FileOut, UploadForm
from .upload import FilePart, Tally, check_format, file_chunks, read_form, read_head

log = logging.getLogger(__name__)


@api.post("/files", summary="Upload an attachment: multipart kind, application_id, entry_id?, then file",
          response=FileOut, status=201, roles=("applicant",))
async def upload_file(request: web.Request) -> web.Response:
    caller = principal(request)
    incoming = await read_form(request)
    rule = RULES[incoming.form.kind]
    check_entry(rule, incoming.form.entry_id)
    file_name = clean_file_name(incoming.part.filename, fallback=rule.code)
    keyed = IdempotentUpload.from_request(request, caller, incoming.form, file_name)
    if (replay := await keyed.replay(request.app[pool_key])) is not None:
        return replay

    application = await load_editable_application(request, caller, incoming.form.application_id)
    async with request.app[pool_key].acquire() as connection:
        check_count(rule, await count_slot(connection, rule, incoming.form))
    row = await store_file(request, caller, application, rule, incoming, file_name)

    return await commit_upload(request, rule, incoming.form, row, keyed)


def check_entry(rule: KindRule, entry_id: str | None) -> None:
    if rule.entry_required and entry_id is None:
        raise ApiError(422, "validation_failed", errors=[FieldError("entry_id", "files.entry_required")])
    if not rule.entry_required and entry_id is not None:
        raise ApiError(422, "validation_failed", errors=[FieldError("entry_id", "files.entry_not_allowed")])


async def count_slot(connection: asyncpg.Connection, rule: KindRule, form: UploadForm) -> int:
    return await repo.count_files(connection, form.application_id, rule.code, form.entry_id)


def check_count(rule: KindRule, count: int) -> None:
    if count >= rule.max_count:
        raise ApiError(409, "files.too_many", kind=rule.code, label=rule.label, max_count=rule.max_count,
                       count=count)


async def store_file(request: web.Request, caller: Principal, application: dict[str, Any], rule: KindRule,
                     incoming: FilePart, file_name: str) -> dict[str, Any]:
    """Stream the file part into storage and return the row that describes it."""
    head = await read_head(incoming.part)
    fmt = check_format(rule, head)
    file_id = uuid.uuid4()
    object_key = f"applications/{incoming.form.application_id}/{file_id}"
    tally = Tally()

    await request.app[store_key].put_stream(object_key, file_chunks(incoming.part, head, rule, tally),
                                            fmt.content_type)

    return {"id": file_id, "application_id": incoming.form.application_id, "kind": rule.code,
            "entry_id": incoming.form.entry_id, "person_id": caller.user_id, "uscc": application.get("uscc"),
            "file_name": file_name, "content_type": fmt.content_type, "size": tally.size,
            "sha256": tally.digest.hexdigest(), "object_key": object_key, "uploaded_by": caller.user_id}


async def commit_upload(request: web.Request, rule: KindRule, form: UploadForm, row: dict[str, Any],
                        keyed: IdempotentUpload) -> web.Response:
    """Insert the row and its event in one transaction; remove the stored object when that fails."""
    pool: asyncpg.Pool = request.app[pool_key]
    try:
        async with pool.acquire() as connection, connection.transaction():
            await repo.lock_slot(connection, form.application_id, rule.code, form.entry_id)
            check_count(rule, await count_slot(connection, rule, form))
            inserted = await repo.insert_file(connection, row)
            body = FileOut.from_row(inserted)
            await keyed.save(connection, body.model_dump(mode="json"))
            await record_file_uploaded(connection, inserted)
    except BaseException:
        await remove_object(request.app[store_key], row["object_key"])
        if (replay := await keyed.replay_after_race(pool)) is not None:
            return replay
        raise

    log.info("file %s (%s, %d bytes) uploaded to application %s by %s", row["id"], rule.code, row["size"],
             row["application_id"], row["uploaded_by"])
    return json_response(body, status=201)
