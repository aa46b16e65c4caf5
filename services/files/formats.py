"""File formats recognised by their first bytes (magic numbers); file names and declared types are never trusted.

Only JPEG, PNG and PDF are ever accepted. The other formats are recognised so that a rejection can
name what the file really is and how to convert it, above all the HEIC photos of iPhones.
"""

from dataclasses import dataclass
from enum import StrEnum


class Family(StrEnum):
    """What a recognised format is, which decides the advice given when it is rejected."""

    ACCEPTED = "accepted"
    HEIF = "heif"
    IMAGE = "image"
    DOCUMENT = "document"
    OTHER = "other"


@dataclass(frozen=True)
class FileFormat:
    code: str
    # A technical name, the same in Chinese and English messages.
    label: str
    content_type: str
    extension: str
    family: Family = Family.ACCEPTED


JPEG = FileFormat("jpeg", "JPEG", "image/jpeg", ".jpg")
PNG = FileFormat("png", "PNG", "image/png", ".png")
PDF = FileFormat("pdf", "PDF", "application/pdf", ".pdf")
ACCEPTED_FORMATS = (JPEG, PNG, PDF)
# Formats a browser shows itself, so `?disposition=inline` may serve them for preview.
PREVIEWABLE = frozenset((JPEG, PNG, PDF))

HEIC = FileFormat("heic", "HEIC/HEIF", "image/heic", ".heic", Family.HEIF)
AVIF = FileFormat("avif", "AVIF", "image/avif", ".avif", Family.HEIF)
WEBP = FileFormat("webp", "WebP", "image/webp", ".webp", Family.IMAGE)
GIF = FileFormat("gif", "GIF", "image/gif", ".gif", Family.IMAGE)
BMP = FileFormat("bmp", "BMP", "image/bmp", ".bmp", Family.IMAGE)
TIFF = FileFormat("tiff", "TIFF", "image/tiff", ".tif", Family.IMAGE)
ZIP = FileFormat("zip", "ZIP (DOCX/XLSX/OFD)", "application/zip", ".zip", Family.DOCUMENT)
OLE = FileFormat("ole", "DOC/XLS/WPS (OLE)", "application/x-ole-storage", ".doc", Family.DOCUMENT)
RAR = FileFormat("rar", "RAR", "application/vnd.rar", ".rar", Family.DOCUMENT)
SEVEN_ZIP = FileFormat("7z", "7z", "application/x-7z-compressed", ".7z", Family.DOCUMENT)
GZIP = FileFormat("gzip", "gzip", "application/gzip", ".gz", Family.DOCUMENT)
VIDEO = FileFormat("video", "MP4/MOV", "video/mp4", ".mp4", Family.OTHER)
EXE = FileFormat("exe", "EXE", "application/x-msdownload", ".exe", Family.OTHER)
ELF = FileFormat("elf", "ELF", "application/x-elf", "", Family.OTHER)

_SIGNATURES: tuple[tuple[bytes, FileFormat], ...] = (
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"%PDF-", PDF),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"PK\x03\x04", ZIP),
    (b"PK\x05\x06", ZIP),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE),
    (b"Rar!\x1a\x07", RAR),
    (b"7z\xbc\xaf\x27\x1c", SEVEN_ZIP),
    (b"\x1f\x8b", GZIP),
    (b"\x7fELF", ELF),
    (b"MZ", EXE),
)
# Brands of the ISO base media file format (the `ftyp` box) that mark HEIF and AVIF images.
_HEIF_BRANDS = frozenset((b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1",
                          b"msf1", b"mif2"))
_AVIF_BRANDS = frozenset((b"avif", b"avis"))
# Bytes read before the format is decided: enough for an `ftyp` box with a few compatible brands.
SIGNATURE_BYTES = 64


def detect_format(head: bytes) -> FileFormat | None:
    """Return the format whose signature starts `head`, or None when no known format matches."""
    if head[4:8] == b"ftyp":
        return _media_format(head)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    # BMP has only two magic bytes, so its four reserved bytes must be zero as well.
    if head[:2] == b"BM" and len(head) >= 10 and head[6:10] == bytes(4):
        return BMP
    for signature, fmt in _SIGNATURES:
        if head.startswith(signature):
            return fmt
    return None


def format_for_content_type(content_type: str) -> FileFormat | None:
    for fmt in ACCEPTED_FORMATS:
        if fmt.content_type == content_type:
            return fmt
    return None


def _media_format(head: bytes) -> FileFormat:
    box_size = int.from_bytes(head[:4], "big")
    box = head[8:min(max(box_size, 16), len(head))]
    # The major brand, then (after four bytes of minor version) the compatible brands.
    brands = {box[:4]} | {box[index:index + 4] for index in range(8, len(box) - 3, 4)}
    if brands & _AVIF_BRANDS:
        return AVIF
    if brands & _HEIF_BRANDS:
        return HEIC
    return VIDEO
