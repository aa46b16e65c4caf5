"""The read log shown to applicants: who listed, opened, downloaded or previewed their files, and when.

Only the applicant of the application may read it. Reads of deleted files stay in the log with the
name the file had.
"""

from aiohttp import web

from services.common.errors import ApiError
from services.common.service import pool_key
from services.common.web import json_response, parse_query, principal

from . import repository as repo
from .routes import api, check_application_readable, load_file
from .schemas import FileReadsQuery, ReadList, ReadOut, ReadsQuery


@api.get("/reads", summary="Who read the files of my application, newest first (?include_own=true for mine)",
         response=ReadList, roles=("applicant",), query=ReadsQuery)
async def list_application_reads(request: web.Request) -> web.Response:
    caller = principal(request)
    query = parse_query(request, ReadsQuery)

    async with request.app[pool_key].acquire() as connection:
        files = await repo.list_files(connection, query.application_id)
    await check_application_readable(request, caller, query.application_id, files)
    async with request.app[pool_key].acquire() as connection:
        rows = await repo.list_reads(connection, query.application_id, file_id=None,
                                     exclude_user=None if query.include_own else caller.user_id, limit=query.limit)

    return json_response(ReadList(items=[ReadOut.from_row(row) for row in rows]))


@api.get("/files/{file_id}/reads", summary="Who read one of my files, newest first", response=ReadList,
         roles=("applicant",), query=FileReadsQuery)
async def list_file_reads(request: web.Request) -> web.Response:
    caller = principal(request)
    query = parse_query(request, FileReadsQuery)
    row = await load_file(request)
    if row is None or row["person_id"] != caller.user_id:
        raise ApiError(404, "files.file_not_found")

    async with request.app[pool_key].acquire() as connection:
        rows = await repo.list_reads(connection, row["application_id"], file_id=row["id"],
                                     exclude_user=None if query.include_own else caller.user_id, limit=query.limit)

    return json_response(ReadList(items=[ReadOut.from_row(read) for read in rows]))
