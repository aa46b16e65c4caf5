"""File names: read as the client sent them, checked for disguised extensions, written back safely."""

import re
import unicodedata
from urllib.parse import quote, unquote

from services.common.errors import ApiError, FieldError

from .formats import FileFormat
from .rules import KindRule

MAX_FILE_NAME_LENGTH = 255
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_ASCII_NAME = re.compile(r"^[\x20-\x7e]+$")
# Bidirectional overrides can disguise an extension ("photo\u202egpj.exe"), so they are dropped.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# Extensions under which an accepted file is usually saved.
ACCEPTED_EXTENSIONS = frozenset((".pdf", ".jpg", ".jpeg", ".jpe", ".jfif", ".png"))
# Extensions of documents, images and archives, which as the inner one of two extensions mark a file
# that pretends to be something else ("证书.pdf.zip").
DOCUMENT_EXTENSIONS = ACCEPTED_EXTENSIONS | frozenset((
    ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".wps", ".et", ".txt", ".rtf", ".ofd", ".heic", ".heif",
    ".gif", ".bmp", ".tif", ".tiff", ".webp", ".zip", ".rar", ".7z", ".mp4", ".mov"))
# Extensions that Windows, macOS, Linux or Android run as a program or script when opened.
EXECUTABLE_EXTENSIONS = frozenset((
    ".exe", ".com", ".bat", ".cmd", ".scr", ".pif", ".msi", ".msp", ".cpl", ".dll", ".sys", ".js", ".jse",
    ".vbs", ".vbe", ".wsf", ".wsh", ".hta", ".ps1", ".psm1", ".lnk", ".reg", ".jar", ".sh", ".bash", ".py",
    ".pl", ".app", ".command", ".apk", ".dmg", ".pkg", ".deb", ".rpm", ".iso", ".url", ".chm"))


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


def check_file_name(rule: KindRule, file_name: str) -> None:
    """Reject a name that ends in a program's extension or hides one type behind another."""
    # Windows drops trailing dots and spaces, so "a.pdf.exe. " opens as "a.pdf.exe".
    parts = [part.strip().lower() for part in file_name.rstrip(". ").split(".")]
    if len(parts) < 2:
        return
    last = "." + parts[-1]
    inner = "." + parts[-2] if len(parts) >= 3 else None
    if inner in DOCUMENT_EXTENSIONS and last not in ACCEPTED_EXTENSIONS:
        params = {"file_name": file_name, "extensions": f"{inner}{last}"}
        raise ApiError(422, "files.double_extension", errors=[FieldError("file", "files.double_extension", params)],
                       **params)
    if last in EXECUTABLE_EXTENSIONS:
        params = {"file_name": file_name, "extension": last, "allowed": rule.format_labels()}
        raise ApiError(422, "files.executable_extension",
                       errors=[FieldError("file", "files.executable_extension", params)], **params)


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
