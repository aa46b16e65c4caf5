"""HTTP API of the cert service: the holder's certificates, their PDFs and public verification."""

import logging
from urllib.parse import quote
from uuid import UUID

import asyncpg
from aiohttp import web

from services.common.auth import Principal
from services.common.errors import ApiError
from services.common.service import pool_key, settings_key, store_key
from services.common.web import Api, json_response, principal

from . import errors as _errors  # noqa: F401 - registers the service's error messages
from . import repository
from .domain import mask_holder_name, normalize_verification_code
from .issuing import verify_url
from .schemas import CertificateList, CertificateView, VerificationView
from .verify_page import not_found_page, verification_page, wants_html

log = logging.getLogger(__name__)

api = Api("电子证书 cert")

# Roles that may read anyone's certificate, besides its holder.
READER_ROLES = ("department_reviewer", "admin")


@api.get("/certificates", summary="List my certificates (我的证照)", response=CertificateList)
async def list_certificates(request: web.Request) -> web.Response:
    caller = principal(request)
    async with request.app[pool_key].acquire() as connection:
        rows = await repository.of_person(connection, caller.user_id)
    base = request.app[settings_key].public_base_url
    return json_response(CertificateList(items=[_certificate_view(row, base) for row in rows]))


@api.get("/certificates/{certificate_id}", summary="Read a certificate", response=CertificateView)
async def get_certificate(request: web.Request) -> web.Response:
    caller = principal(request)
    async with request.app[pool_key].acquire() as connection:
        row = await _load_certificate(connection, request, caller)
    return json_response(_certificate_view(row, request.app[settings_key].public_base_url))


@api.get("/certificates/{certificate_id}/pdf",
         summary="Download the certificate PDF (?disposition=inline to preview)")
async def download_certificate(request: web.Request) -> web.StreamResponse:
    caller = principal(request)
    async with request.app[pool_key].acquire() as connection:
        row = await _load_certificate(connection, request, caller)

    # The first chunk is read before the response starts, so a storage failure still becomes a 503.
    chunks = request.app[store_key].read_stream(row["pdf_key"])
    first = await anext(chunks, b"")
    inline = request.query.get("disposition") == "inline"
    response = web.StreamResponse(headers={
        "Content-Type": "application/pdf",
        "Content-Length": str(row["pdf_size"]),
        "Content-Disposition": _content_disposition(row["certificate_number"], inline),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
        "ETag": f'"{row["pdf_sha256"]}"',
    })
    try:
        await response.prepare(request)
        await response.write(first)
        async for chunk in chunks:
            await response.write(chunk)
    finally:
        await chunks.aclose()
    await response.write_eof()
    return response


@api.get("/verify/{code}", summary="Verify a certificate by its verification code", response=VerificationView,
         public=True)
async def verify_certificate(request: web.Request) -> web.Response:
    code = normalize_verification_code(request.match_info["code"])
    async with request.app[pool_key].acquire() as connection:
        row = await repository.by_verification_code(connection, code)
    if row is None:
        log.info("verification with an unknown code")
        if wants_html(request):
            return not_found_page()
        raise ApiError(404, "cert.verification_not_found")

    view = VerificationView(
        valid=row["status"] == "valid", certificate_number=row["certificate_number"],
        holder_name=mask_holder_name(row["holder_name"]), talent_class=row["talent_class"],
        class_label=row["class_label"], level=row["level"], issued_on=row["issued_on"],
        issuer_name=row["issuer_name"], status=row["status"])
    return verification_page(view) if wants_html(request) else json_response(view)


async def _load_certificate(connection: asyncpg.Connection, request: web.Request, caller: Principal
                            ) -> asyncpg.Record:
    """Load the certificate named in the path; one the caller may not read is reported as not found."""
    try:
        certificate_id = UUID(request.match_info["certificate_id"])
    except ValueError:
        raise ApiError(404, "cert.not_found") from None
    row = await repository.get(connection, certificate_id)
    if row is None or (row["person_id"] != caller.user_id and caller.role not in READER_ROLES):
        raise ApiError(404, "cert.not_found")
    return row


def _content_disposition(certificate_number: str, inline: bool) -> str:
    kind = "inline" if inline else "attachment"
    fallback = f"certificate-{certificate_number}.pdf"
    name = f"人才分类定级证书-{certificate_number}.pdf"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _certificate_view(row: asyncpg.Record, public_base_url: str) -> CertificateView:
    fields = {name: row[name] for name in CertificateView.model_fields
              if name not in ("certificate_id", "verify_url")}
    return CertificateView(certificate_id=row["id"],
                           verify_url=verify_url(public_base_url, row["verification_code"]), **fields)
