"""HTTP endpoints of the files service: upload rules, listing, metadata, content and delete.

`POST /files` is in `upload_routes` and the read log in `reads_routes`. Callers who may not see a file
or an application get 404, as if it did not exist. Every list, metadata read, download and preview is
recorded in `file_reads`.
"""

import logging
import uuid

import asyncpg
from aiohttp import web

from services.common.auth import Principal
from services.common.errors import ApiError, preferred_language
from services.common.service import pool_key, store_key
from services.common.storage import ObjectStore
from services.common.web import (
    REQUEST_ID_HEADER,
    Api,
    DependencyUnavailable,
    json_response,
    parse_query,
    principal,
)

from . import errors as _errors  # noqa: F401 - registers the error messages
from . import repository as repo
from .applications import load_changeable_slot, load_own_application
from .domain import may_read
from .formats import PREVIEWABLE, format_for_content_type
from .messaging import record_file_deleted
from .names import content_disposition
from .rules import RULES, KindRule
from .schemas import ContentQuery, FileList, FileOut, KindRuleOut, ListQuery, RulesOut

log = logging.getLogger(__name__)

api = Api("files")
rules_key = web.AppKey("kind_rules", dict)


def kind_rules(request: web.Request) -> dict[str, KindRule]:
    """Return the rules of this deployment: the defaults with its configured size limits."""
    return request.app.get(rules_key, RULES)


@api.get("/rules", summary="Upload rules (format, size, count) per attachment kind", response=RulesOut,
         public=True)
async def list_rules(request: web.Request) -> web.Response:
    language = preferred_language(request)
    return json_response(RulesOut(kinds=[KindRuleOut.from_rule(rule, language)
                                         for rule in kind_rules(request).values()]))


@api.get("/files", summary="Files of one application", response=FileList, query=ListQuery)
async def list_application_files(request: web.Request) -> web.Response:
    caller = principal(request)
    query = parse_query(request, ListQuery)

    async with request.app[pool_key].acquire() as connection:
        rows = await repo.list_files(connection, query.application_id)
    await check_application_readable(request, caller, query.application_id, rows)
    async with request.app[pool_key].acquire() as connection:
        await repo.record_reads(connection, rows, caller, "list")

    return json_response(FileList(items=[FileOut.from_row(row) for row in rows]))


@api.get("/files/{file_id}", summary="Metadata of one file", response=FileOut)
async def get_file_metadata(request: web.Request) -> web.Response:
    caller = principal(request)
    row = await load_readable_file(request, caller)

    async with request.app[pool_key].acquire() as connection:
        await repo.record_reads(connection, [row], caller, "metadata")
    return json_response(FileOut.from_row(row))


@api.get("/files/{file_id}/content", summary="Content of one file (?disposition=inline to preview)", query=ContentQuery)
async def download_file(request: web.Request) -> web.StreamResponse:
    caller = principal(request)
    query = parse_query(request, ContentQuery)
    row = await load_readable_file(request, caller)
    previewable = format_for_content_type(row["content_type"]) in PREVIEWABLE
    disposition = "inline" if query.disposition == "inline" and previewable else "attachment"

    chunks = request.app[store_key].read_stream(row["object_key"])
    try:
        first = await anext(chunks)  # opens the object, so that a storage failure is still a 503
        async with request.app[pool_key].acquire() as connection:
            await repo.record_reads(connection, [row], caller, "preview" if disposition == "inline" else "download")
        response = web.StreamResponse(headers=content_headers(request, row, disposition))
        response.content_length = row["size"]
        await response.prepare(request)
        await write_body(response, first, chunks, row)
        return response
    finally:
        await chunks.aclose()


@api.delete("/files/{file_id}", summary="Delete an attachment while its module is editable", status=204,
            roles=("applicant",))
async def delete_file(request: web.Request) -> web.Response:
    caller = principal(request)
    row = await load_file(request)
    if row is None or row["person_id"] != caller.user_id:
        raise ApiError(404, "files.file_not_found")
    await load_changeable_slot(request, caller, row["application_id"], kind_rules(request)[row["kind"]])

    async with request.app[pool_key].acquire() as connection, connection.transaction():
        deleted = await repo.delete_file(connection, row["id"])
        if deleted is None:
            raise ApiError(404, "files.file_not_found")
        await record_file_deleted(connection, deleted)

    await remove_object(request.app[store_key], row["object_key"])
    log.info("file %s of application %s deleted by %s", row["id"], row["application_id"], caller.user_id)
    return web.Response(status=204)


async def check_application_readable(request: web.Request, caller: Principal, application_id: uuid.UUID,
                                     rows: list[asyncpg.Record]) -> None:
    """Raise 404 unless `caller` may read the files of the application (whose files are `rows`)."""
    submission = None
    if not caller.has_role("applicant"):
        async with request.app[pool_key].acquire() as connection:
            submission = await repo.get_submission(connection, application_id)
    owner_id = None
    if rows:
        owner_id = rows[0]["person_id"]
    elif submission is not None:
        owner_id = submission.person_id
    if owner_id is None and caller.has_role("applicant"):
        # A draft without files: only the application service records whose it is.
        await load_own_application(request, caller, application_id)
        return
    if owner_id is None or not may_read(caller, owner_id, submission):
        log.info("user %s (%s) may not read files of application %s", caller.user_id, caller.role, application_id)
        raise ApiError(404, "files.application_not_found", application_id=application_id)


async def load_file(request: web.Request) -> asyncpg.Record | None:
    try:
        file_id = uuid.UUID(request.match_info["file_id"])
    except ValueError:
        return None
    async with request.app[pool_key].acquire() as connection:
        return await repo.get_file(connection, file_id)


async def load_readable_file(request: web.Request, caller: Principal) -> asyncpg.Record:
    row = await load_file(request)
    submission = None
    if row is not None and not caller.has_role("applicant"):
        async with request.app[pool_key].acquire() as connection:
            submission = await repo.get_submission(connection, row["application_id"])
    if row is None or not may_read(caller, row["person_id"], submission):
        log.info("user %s (%s) may not read file %s", caller.user_id, caller.role, request.match_info["file_id"])
        raise ApiError(404, "files.file_not_found")
    return row


def content_headers(request: web.Request, row: asyncpg.Record, disposition: str) -> dict[str, str]:
    fmt = format_for_content_type(row["content_type"])
    return {"Content-Type": row["content_type"], "X-Content-Type-Options": "nosniff",
            "Content-Disposition": content_disposition(disposition, row["file_name"], fmt, row["kind"]),
            "ETag": f'"{row["sha256"]}"', "Cache-Control": "private, no-cache",
            REQUEST_ID_HEADER: request.get("request_id", "")}


async def write_body(response: web.StreamResponse, first: bytes, chunks, row: asyncpg.Record) -> None:
    """Write the object after the headers; a storage failure now can only cut the connection."""
    try:
        await response.write(first)
        async for chunk in chunks:
            await response.write(chunk)
        await response.write_eof()
    except (DependencyUnavailable, ConnectionError) as e:
        log.warning("streaming file %s stopped: %r", row["id"], e)
        response.force_close()


async def remove_object(store: ObjectStore, key: str) -> None:
    try:
        await store.remove(key)
    except DependencyUnavailable:
        log.warning("object %s could not be removed from storage; the sweep removes it later, as it has no row",
                    key)
