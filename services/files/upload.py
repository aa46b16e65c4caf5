"""Reading `POST /files` as a stream: the form fields first, then the file part.

The body is never read whole. Fields are small and capped. The file part is read chunk by chunk, and
each chunk is counted against the kind's size limit and added to the SHA-256 on its way to storage.
"""

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import BodyPartReader, web
from pydantic import ValidationError

from services.common.errors import ApiError, FieldError, field_errors_from_pydantic

from .rules import SIGNATURE_BYTES, FileFormat, KindRule, detect_format
from .schemas import UploadForm

FILE_FIELD = "file"
CHUNK_BYTES = 256 * 1024
MAX_FIELD_BYTES = 1024
# The form has at most three fields before the file; a few more parts are tolerated, not thousands.
MAX_FIELD_PARTS = 10


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


def check_format(rule: KindRule, head: bytes) -> FileFormat:
    if not head:
        raise ApiError(422, "files.empty_file", errors=[FieldError(FILE_FIELD, "files.empty_file")])
    fmt = detect_format(head)
    if fmt is None or not rule.allows(fmt):
        raise ApiError(415, "files.unsupported_format", kind=rule.code, label=rule.label,
                       allowed=rule.format_labels())
    return fmt


async def file_chunks(part: BodyPartReader, head: bytes, rule: KindRule,
                      tally: Tally) -> AsyncIterator[bytes]:
    """Yield the file's bytes, raising 413 as soon as they pass the kind's limit."""
    chunk = head
    while chunk:
        tally.size += len(chunk)
        if tally.size > rule.max_bytes:
            raise ApiError(413, "files.too_large", kind=rule.code, label=rule.label,
                           max_bytes=rule.max_bytes, max_mib=rule.max_bytes // (1024 * 1024))
        tally.digest.update(chunk)
        yield chunk
        chunk = await _read_chunk(part)


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
    except ValueError as e:
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
    except ValueError as e:
        raise ApiError(400, "files.multipart_invalid") from e
