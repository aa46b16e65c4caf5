"""`POST /files`: check the slot, stream the file into storage, then commit its row and event.

An upload reads the form fields first and replays a known Idempotency-Key. Then the file name must
not hide another type, the application must be the caller's with the kind's module editable, the slot
must have room, and the first bytes must be an allowed format. The file is streamed to S3 while it is
counted, hashed and (a PDF) checked for a password. Last, the module is checked again, and the row,
the idempotency record and `file.uploaded` are committed in one transaction; the object is removed
again when any of that fails.

The same content (same SHA-256) uploaded twice into one slot is rejected with 409
`files.duplicate_file`, whose body names the file already there in `duplicate_of`.
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
from .applications import load_changeable_slot
from .domain import entry_saved
from .idempotency import IdempotentUpload
from .messaging import record_file_uploaded
from .names import check_file_name, clean_file_name
from .routes import api, kind_rules, remove_object
from .rules import KindRule
from .schemas import FileOut, UploadForm
from .upload import FilePart, Tally, check_format, file_chunks, read_form, read_head

log = logging.getLogger(__name__)


@api.post("/files", summary="Upload an attachment: multipart kind, application_id, entry_id (of a saved entry, for"
                            " entry kinds), then file. The same content twice in one slot is 409 with `duplicate_of`.",
          response=FileOut, status=201, roles=("applicant",))
async def upload_file(request: web.Request) -> web.Response:
    caller = principal(request)
    incoming = await read_form(request)
    rule = kind_rules(request)[incoming.form.kind]
    check_entry(rule, incoming.form.entry_id)
    file_name = clean_file_name(incoming.part.filename, fallback=rule.code)
    check_file_name(rule, file_name)
    keyed = IdempotentUpload.from_request(request, caller, incoming.form, file_name)
    if (replay := await keyed.replay(request.app[pool_key])) is not None:
        return replay

    application = await load_changeable_slot(request, caller, incoming.form.application_id, rule)
    if rule.entry_required and not entry_saved(rule, application, incoming.form.entry_id):
        log.info("upload by %s to entry %s of %s in application %s rejected: no such saved entry",
                 caller.user_id, incoming.form.entry_id, rule.module, incoming.form.application_id)
        raise ApiError(422, "validation_failed", errors=[FieldError("entry_id", "files.entry_not_found")])
    async with request.app[pool_key].acquire() as connection:
        check_count(rule, await count_slot(connection, rule, incoming.form))
    row = await store_file(request, caller, application, rule, incoming, file_name)

    return await commit_upload(request, caller, rule, incoming.form, row, keyed)


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
    fmt = check_format(rule, head, file_name)
    file_id = uuid.uuid4()
    object_key = f"applications/{incoming.form.application_id}/{file_id}"
    tally = Tally()

    try:
        await request.app[store_key].put_stream(object_key, file_chunks(incoming.part, head, rule, fmt, file_name,
                                                                        tally), fmt.content_type)
    except ApiError as e:
        log.info("upload of %s %s into application %s by %s stopped after %d bytes: %s", rule.code, file_id,
                 incoming.form.application_id, caller.user_id, tally.size, e.code)
        raise

    return {"id": file_id, "application_id": incoming.form.application_id, "kind": rule.code,
            "entry_id": incoming.form.entry_id, "person_id": caller.user_id, "uscc": application.get("uscc"),
            "file_name": file_name, "content_type": fmt.content_type, "size": tally.size,
            "sha256": tally.digest.hexdigest(), "object_key": object_key, "uploaded_by": caller.user_id}


async def commit_upload(request: web.Request, caller: Principal, rule: KindRule, form: UploadForm,
                        row: dict[str, Any], keyed: IdempotentUpload) -> web.Response:
    """Insert the row and its event in one transaction; remove the stored object when that fails."""
    pool: asyncpg.Pool = request.app[pool_key]
    try:
        # A long upload gives the applicant time to submit in another window, which locks the slot.
        await load_changeable_slot(request, caller, form.application_id, rule)
        async with pool.acquire() as connection, connection.transaction():
            await repo.lock_slot(connection, form.application_id, rule.code, form.entry_id)
            check_count(rule, await count_slot(connection, rule, form))
            await check_not_duplicate(connection, rule, form, row)
            inserted = await repo.insert_file(connection, row)
            body = FileOut.from_row(inserted)
            await keyed.save(connection, body.model_dump(mode="json"))
            await record_file_uploaded(connection, inserted)
    except BaseException:
        await remove_object(request.app[store_key], row["object_key"])
        # A retry racing the first request with the same key fails here (as a duplicate, or on the key
        # itself) once the first one committed, and returns the first response.
        if (replay := await keyed.replay(pool)) is not None:
            return replay
        raise

    log.info("file %s (%s, %d bytes) uploaded to application %s by %s", row["id"], rule.code, row["size"],
             row["application_id"], row["uploaded_by"])
    return json_response(body, status=201)


async def check_not_duplicate(connection: asyncpg.Connection, rule: KindRule, form: UploadForm,
                              row: dict[str, Any]) -> None:
    same = await repo.find_same_content(connection, form.application_id, rule.code, form.entry_id, row["sha256"])
    if same is not None:
        log.info("upload into application %s (%s) repeats file %s; rejected", form.application_id, rule.code,
                 same["id"])
        raise ApiError(409, "files.duplicate_file", existing_name=same["file_name"],
                       extra={"duplicate_of": str(same["id"])})
