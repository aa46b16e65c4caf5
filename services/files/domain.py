"""Rules of the files service without I/O: who may read a file, file names, Content-Disposition."""

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, unquote

from services.common.auth import Principal

from .rules import FileFormat

MAX_FILE_NAME_LENGTH = 255
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_ASCII_NAME = re.compile(r"^[\x20-\x7e]+$")
# Bidirectional overrides can disguise an extension ("photo\u202egpj.exe"), so they are dropped.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class Owner:
    """Owners of an application: the applicant and the recommending unit (推荐单位) that reviews it."""

    person_id: str
    uscc: str | None


def can_read(caller: Principal, owner: Owner) -> bool:
    """Return whether `caller` may list or read the files of an application owned by `owner`."""
    if caller.has_role("department_reviewer", "admin"):
        return True
    if caller.has_role("unit_reviewer"):
        return caller.unit_uscc is not None and caller.unit_uscc == owner.uscc
    return caller.has_role("applicant") and caller.user_id == owner.person_id


def clean_file_name(raw: str | None, fallback: str) -> str:
    """Return the client's file name without directories or control characters, else `fallback`.

    Browsers send UTF-8 with only `"`, CR and LF percent-encoded, and aiohttp's client percent-encodes
    the whole name. Some Windows clients send GB18030 bytes, which aiohttp passes on as surrogate
    escapes when they are not valid UTF-8; those are decoded as GB18030. `filename*` (RFC 2231) is
    already decoded by aiohttp.
    """
    if not raw:
        return fallback
    name = _decode_surrogates(raw)
    if _PERCENT_ESCAPE.search(name):
        try:
            name = unquote(name, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            pass
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(char for char in name
                   if unicodedata.category(char) not in ("Cc", "Cs") and char not in _BIDI_CONTROLS)
    if not name.strip() or name in (".", ".."):
        return fallback
    return _shorten(name)


def content_disposition(disposition: str, file_name: str, fmt: FileFormat | None, kind: str) -> str:
    """Build a Content-Disposition value with an ASCII fallback and the UTF-8 `filename*` (RFC 6266)."""
    if _ASCII_NAME.match(file_name):
        fallback = file_name.replace("\\", "_").replace('"', "_")
    else:
        fallback = kind + (fmt.extension if fmt else "")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def _decode_surrogates(name: str) -> str:
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def _shorten(name: str) -> str:
    if len(name) <= MAX_FILE_NAME_LENGTH:
        return name
    stem, dot, extension = name.rpartition(".")
    if dot and len(extension) <= 10:
        return stem[: MAX_FILE_NAME_LENGTH - len(extension) - 1] + "." + extension
    return name[:MAX_FILE_NAME_LENGTH]
