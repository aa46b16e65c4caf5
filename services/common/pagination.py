"""Opaque keyset-pagination cursors: the (time, id) of the last row of a page, newest first."""

import base64
import binascii
import json
import uuid
from datetime import datetime

from .errors import ApiError, FieldError, Message, register_messages

register_messages({
    "pagination.cursor_invalid": Message(
        "分页参数 cursor 无效，请从第一页重新读取", "Invalid cursor; read again from the first page"),
})


def encode_cursor(moment: datetime, row_id: uuid.UUID | str) -> str:
    key = json.dumps({"t": moment.isoformat(), "id": str(row_id)})
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """Return the (time, id) a cursor names, None without one; a malformed cursor is a 422 naming `cursor`."""
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(key["t"]), uuid.UUID(key["id"])
    except (binascii.Error, ValueError, TypeError, KeyError) as e:
        raise ApiError(422, "validation_failed", errors=[FieldError("cursor", "pagination.cursor_invalid")]) from e
