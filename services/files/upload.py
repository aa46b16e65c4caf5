"""Reading `POST /files` as a stream: the form fields first, then the file part.

The body is never read whole. Fields are small and capped. The file part is read chunk by chunk, and
each chunk is counted against the kind's size limit, added to the SHA-256 and, for a PDF, scanned for
encryption on its way to storage. Every check that needs the whole file runs when the last chunk has
passed but before the object is completed, so a rejected file never becomes an object.
"""

import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError, PayloadEncodingError
from pydantic import ValidationError

from services.common.errors import ApiError, FieldError, field_errors_from_pydantic

from .formats import PDF, SIGNATURE_BYTES, Family, FileFormat, detect_format
from .pdf_password import PdfPasswordCheck
from .rules import KindRule
from .schemas import UploadForm

log = logging.getLogger(__name__)

FILE_FIELD = "file"
CHUNK_BYTES = 256 * 1024
MAX_FIELD_BYTES = 1024
# The form has at most three fields before the file; a few more parts are tolerated, not thousands.
MAX_FIELD_PARTS = 10
_REJECTION_CODES = {
    Family.HEIF: "files.heic_not_accepted",
    Family.IMAGE: "files.image_format_not_accepted",
    Family.DOCUMENT: "files.document_format_not_accepted",
}


@dataclass
class FilePart:
    form: UploadForm
    part: BodyPartReader


@dataclass
class Tally:
    """Bytes seen so far of one upload and their SHA-256."""

    size: int = 0
    digest: "hashlib._Hash" = field(default_factory=hashlib.sha256)


async def read_form(request: web.Request) -> FilePart:
    """Read the fields up to the `file` part and validate them; the file part is left unread."""
    if request.content_type != "multipart/form-data":
        raise ApiError(415, "files.multipart_required")
    try:
        reader = await request.multipart()
    except ValueError as e:
        raise ApiError(400, "files.multipart_invalid") from e

    fields: dict[str, str] = {}
    for _ in range(MAX_FIELD_PARTS + 1):
        part = await _next_part(reader)
        if part is None:
            raise ApiError(422, "validation_failed", errors=[FieldError(FILE_FIELD, "files.file_missing")])
        if part.name == FILE_FIELD:
            return FilePart(_validate(fields), part)
        fields[part.name or ""] = await _read_field(part)
    raise ApiError(400, "files.multipart_invalid")


async def read_head(part: BodyPartReader) -> bytes:
    """Read at least the bytes that identify a format, or the whole part when it is shorter."""
    head = b""
    while len(head) < SIGNATURE_BYTES:
        chunk = await _read_chunk(part)
        if not chunk:
            break
        head += chunk
    return head


def check_format(rule: KindRule, head: bytes, file_name: str) -> FileFormat:
    """Return the format of a file starting with `head`, or raise a rejection that explains how to fix it."""
    if not head:
        raise ApiError(422, "files.empty_file", errors=[FieldError(FILE_FIELD, "files.empty_file")])
    fmt = detect_format(head)
    params = {"kind": rule.code, "label": rule.label, "allowed": rule.format_labels(), "file_name": file_name}
    if fmt is None:
        raise ApiError(415, "files.unknown_format", **params)
    if not rule.allows(fmt):
        raise ApiError(415, _REJECTION_CODES.get(fmt.family, "files.unsupported_format"), detected=fmt.label,
                       **params)
    return fmt


async def file_chunks(part: BodyPartReader, head: bytes, rule: KindRule, fmt: FileFormat, file_name: str,
                      tally: Tally) -> AsyncIterator[bytes]:
    """Yield the file's bytes, raising 413 as soon as they pass the kind's limit.

    After the last chunk a PDF that needs a password raises 422, before the caller completes the object.
    """
    password_check = PdfPasswordCheck() if fmt is PDF else None
    chunk = head
    while chunk:
        tally.size += len(chunk)
        if tally.size > rule.max_bytes:
            raise ApiError(413, "files.too_large", kind=rule.code, label=rule.label, max_bytes=rule.max_bytes,
                           max_mib=f"{rule.max_mib:g}")
        tally.digest.update(chunk)
        if password_check is not None:
            password_check.feed(chunk)
        yield chunk
        chunk = await _read_chunk(part)
    if password_check is not None and password_check.needs_password():
        raise ApiError(422, "files.pdf_encrypted", file_name=file_name,
                       errors=[FieldError(FILE_FIELD, "files.pdf_encrypted", {"file_name": file_name})])


def _validate(fields: dict[str, str]) -> UploadForm:
    if not fields.get("entry_id"):
        fields.pop("entry_id", None)
    try:
        return UploadForm.model_validate(fields)
    except ValidationError as e:
        errors = field_errors_from_pydantic(e)
        for error in errors:
            if error.code == "validation.missing":
                error.code = "files.field_before_file"
        raise ApiError(422, "validation_failed", errors=errors) from e


async def _next_part(reader) -> BodyPartReader | None:
    try:
        part = await reader.next()
    except (ConnectionError, PayloadEncodingError) as e:
        raise ApiError(400, "files.upload_incomplete") from e
    except (ValueError, HttpProcessingError) as e:
        raise ApiError(400, "files.multipart_invalid") from e
    if part is not None and not isinstance(part, BodyPartReader):
        raise ApiError(400, "files.multipart_invalid")
    return part


async def _read_field(part: BodyPartReader) -> str:
    data = b""
    while chunk := await _read_chunk(part):
        data += chunk
        if len(data) > MAX_FIELD_BYTES:
            raise ApiError(422, "validation_failed", errors=[
                FieldError(part.name or "", "validation.too_long", {"max_length": MAX_FIELD_BYTES})])
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError as e:
        error = FieldError(part.name or "", "validation.string")
        raise ApiError(422, "validation_failed", errors=[error]) from e


async def _read_chunk(part: BodyPartReader) -> bytes:
    try:
        return await part.read_chunk(CHUNK_BYTES)
    except (ConnectionError, PayloadEncodingError) as e:
        # The client (or the gateway in front of it) closed the connection before the body ended.
        raise ApiError(400, "files.upload_incomplete") from e
    except (ValueError, HttpProcessingError) as e:
        raise ApiError(400, "files.multipart_invalid") from e
