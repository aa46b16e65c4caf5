"""HTTP handlers for an admin's import of historical gradings (历史认定名单) as CSV."""

import logging
import uuid

from aiohttp import web

from services.common.errors import ApiError, message_for, preferred_language
from services.common.service import settings_key
from services.common.web import json_response, principal

from . import eligibility_repository as store
from .domain import today_in_china
from .eligibility_schemas import GradingImport, GradingImportList, RowProblem
from .gradings import RowError, parse_gradings
from .routes import ADMIN, api, pool

log = logging.getLogger(__name__)


async def read_csv(request: web.Request) -> bytes:
    """Return the uploaded file: the body of a text/csv request, or the `file` field of a multipart form."""
    if request.content_type == "text/csv":
        return await request.read()
    if request.content_type == "multipart/form-data":
        form = await request.post()
        upload = form.get("file")
        if isinstance(upload, web.FileField):
            return upload.file.read()
    raise ApiError(415, "grading.content_type")


def render(error: RowError, language: str) -> RowProblem:
    message = message_for(error.code)
    text = message.en if language == "en" else message.zh
    return RowProblem(row=error.row, field=error.column, code=error.code, message=text.format(**error.params))


@api.post("/gradings/imports",
          summary="Import historical gradings from a UTF-8 CSV (姓名,公民身份号码,人才类别,层次,认定日期); "
                  "any invalid row imports nothing",
          response=GradingImport, status=201, roles=ADMIN)
async def import_gradings(request: web.Request) -> web.Response:
    caller = principal(request)
    content = await read_csv(request)
    parsed = parse_gradings(content, request.app[settings_key].id_number_hash_key, today_in_china())

    if parsed.errors:
        language = preferred_language(request)
        log.info("grading import by %s rejected: %d problems in %d rows", caller.user_id, len(parsed.errors),
                 parsed.rows)
        problems = [render(error, language).model_dump() for error in parsed.errors]
        raise ApiError(422, "grading.import_failed", extra={"errors": problems})

    async with pool(request).acquire() as c, c.transaction():
        row = await store.insert_grading_import(c, uuid.uuid4(), caller.user_id, parsed.gradings, parsed.rows)

    log.info("grading import %s by %s: %d rows, %d new, %d already known", row["import_id"], caller.user_id,
             row["rows"], row["imported"], row["already_known"])
    return json_response(GradingImport(**{key: row[key] for key in GradingImport.model_fields}), status=201)


@api.get("/gradings/imports", summary="List the latest imports of historical gradings", response=GradingImportList,
         roles=ADMIN)
async def list_imports(request: web.Request) -> web.Response:
    async with pool(request).acquire() as c:
        rows = await store.list_grading_imports(c)

    return json_response(GradingImportList(items=[GradingImport(**{key: row[key] for key in GradingImport.model_fields})
                                                  for row in rows]))
