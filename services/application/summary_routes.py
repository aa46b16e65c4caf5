"""GET /applications/{id}/summary.pdf: the summary table (人才分类定级认定一览表) as a PDF.

The applicant sees their application as currently saved: the draft while it can be changed, else the
latest submitted snapshot. Reviewers see the latest snapshot: the unit reviewers of the unit it was
submitted through, and department reviewers, once it was submitted. Anyone else gets 404. The photo
is read from the files service with the caller's token, which the files service checks the same way.
"""

import asyncio
import functools
import logging
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import asyncpg
from aiohttp import web

from services.common.auth import Principal
from services.common.errors import ApiError
from services.common.fonts import find_cjk_font
from services.common.service import settings_key
from services.common.web import parse_query, principal

from . import repository
from .domain import is_editable, status_label
from .files_client import fetch_file_content, fetch_files
from .routes import api, current_modules, path_id, pool
from .schemas import SummaryQuery
from .snapshots import attached_files, snapshot_header
from .summary import TITLE, SummarySource, build_summary
from .summary_pdf import render_summary

log = logging.getLogger(__name__)

READERS = ("applicant", "unit_reviewer", "department_reviewer")


@functools.cache
def font_path(explicit: str | None) -> str:
    return find_cjk_font(explicit)


async def load_readable_application(c: asyncpg.Connection, caller: Principal,
                                    application_id: uuid.UUID) -> asyncpg.Record:
    """Load the application when `caller` may read its summary, else raise 404 as if it did not exist."""
    row = await repository.get_application(c, application_id)
    submitted = row is not None and row["snapshot_version"] > 0
    if row is None:
        allowed = False
    elif caller.has_role("applicant"):
        allowed = row["person_id"] == caller.user_id
    elif caller.has_role("unit_reviewer"):
        allowed = submitted and caller.unit_uscc is not None and caller.unit_uscc == row["uscc"]
    else:
        allowed = submitted and caller.has_role("department_reviewer")
    if not allowed:
        log.info("user %s (%s) may not read the summary of application %s", caller.user_id, caller.role,
                 application_id)
        raise ApiError(404, "application.not_found")
    return row


async def summary_source(request: web.Request, c: asyncpg.Connection, caller: Principal,
                         application: asyncpg.Record) -> SummarySource:
    application_id = application["application_id"]
    label = status_label(application["status"], "zh")
    if caller.has_role("applicant") and is_editable(application["status"]):
        modules = await current_modules(c, application)
        files = attached_files(await fetch_files(request, caller, application_id), modules)
        return SummarySource(str(application_id), snapshot_header(application, modules["basic_info"]), modules,
                             files, None, None, label)

    snapshot = await repository.get_snapshot(c, application_id, application["snapshot_version"])
    # Snapshots written before the header was stored take it from the application.
    header = snapshot["header"] or snapshot_header(application, snapshot["modules"].get("basic_info") or {})
    return SummarySource(str(application_id), header, snapshot["modules"], snapshot["files"], snapshot["version"],
                         snapshot["submitted_at"], label)


@api.get("/applications/{application_id}/summary.pdf",
         summary="The summary table (一览表) as a PDF; ?disposition=inline to preview",
         roles=READERS, query=SummaryQuery)
async def get_summary_pdf(request: web.Request) -> web.Response:
    caller = principal(request)
    application_id = path_id(request, "application_id", "application.not_found")
    query = parse_query(request, SummaryQuery)

    async with pool(request).acquire() as c:
        application = await load_readable_application(c, caller, application_id)
        source = await summary_source(request, c, caller, application)
    photo_file = next((item for item in source.files if item.get("kind") == "photo"), None)
    photo = await fetch_file_content(request, caller, str(photo_file["file_id"])) if photo_file else None

    document = build_summary(source, datetime.now(UTC))
    pdf = await asyncio.to_thread(render_summary, document, photo, font_path(request.app[settings_key].cjk_font))

    log.info("summary table of application %s (version %s) rendered for %s", application_id, source.version,
             caller.user_id)
    return web.Response(body=pdf, content_type="application/pdf", headers={
        "Content-Disposition": content_disposition(query.disposition, source),
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


def content_disposition(disposition: str, source: SummarySource) -> str:
    """Name the file after the table and the applicant, with an ASCII fallback (RFC 6266)."""
    version = f"v{source.version}" if source.version else "draft"
    name = f"{TITLE}-{source.header.get('person_name') or ''}-{version}.pdf"
    fallback = f"summary-{source.application_id}-{version}.pdf"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
