"""Attachment kinds and their upload rules (format, size, count), kept as data.

Sizes are in bytes. Counts are per application for the material kinds and per entry (one row of a
module such as 继续教育(培训)经历) for the kinds with `entry_required`. Whether a kind is required at all
(引进协议 only for 引进人才 and 柔性引进人才) is decided by the application's validation, not here.
"""

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class FileFormat:
    code: str
    label: str
    content_type: str
    extension: str
    # Leading bytes that identify the format; the declared type and file name are never trusted.
    signature: bytes


JPEG = FileFormat("jpeg", "JPEG", "image/jpeg", ".jpg", b"\xff\xd8\xff")
PNG = FileFormat("png", "PNG", "image/png", ".png", b"\x89PNG\r\n\x1a\n")
PDF = FileFormat("pdf", "PDF", "application/pdf", ".pdf", b"%PDF-")

FORMATS = (JPEG, PNG, PDF)
# Formats a browser can show itself, so `?disposition=inline` may serve them for preview.
PREVIEWABLE = frozenset((JPEG, PNG, PDF))
SIGNATURE_BYTES = max(len(fmt.signature) for fmt in FORMATS)


@dataclass(frozen=True)
class KindRule:
    code: str
    label: str
    formats: tuple[FileFormat, ...]
    max_bytes: int
    min_count: int
    max_count: int
    entry_required: bool = False

    def allows(self, fmt: FileFormat) -> bool:
        return fmt in self.formats

    def format_labels(self) -> str:
        return ", ".join(fmt.label for fmt in self.formats)


_ENTRY_FORMATS = (PDF, JPEG, PNG)

RULES: dict[str, KindRule] = {rule.code: rule for rule in (
    KindRule("photo", "个人照片", (JPEG, PNG), 2 * MIB, 1, 1),
    KindRule("id_card", "身份证正反面", (JPEG, PNG, PDF), 10 * MIB, 1, 2),
    KindRule("employment_contract", "聘用合同", (PDF, JPEG, PNG), 20 * MIB, 1, 3),
    KindRule("diploma", "最高全日制学历证", (PDF, JPEG, PNG), 10 * MIB, 1, 2),
    KindRule("degree", "最高全日制学位证", (PDF, JPEG, PNG), 10 * MIB, 1, 2),
    KindRule("introduction_agreement", "引进协议", (PDF, JPEG, PNG), 20 * MIB, 1, 3),
    KindRule("continuing_education", "继续教育(培训)经历", _ENTRY_FORMATS, 20 * MIB, 1, 3,
             entry_required=True),
    KindRule("part_time_posts", "专业兼职", _ENTRY_FORMATS, 20 * MIB, 1, 3, entry_required=True),
    KindRule("enterprise_performance", "企业人才业绩", _ENTRY_FORMATS, 20 * MIB, 1, 3, entry_required=True),
    KindRule("honors", "人才荣誉表彰", _ENTRY_FORMATS, 20 * MIB, 1, 3, entry_required=True),
    KindRule("awards", "专业获奖", _ENTRY_FORMATS, 20 * MIB, 1, 3, entry_required=True),
    KindRule("publications", "论文著作", _ENTRY_FORMATS, 50 * MIB, 1, 20, entry_required=True),
)}

MAX_FILE_BYTES = max(rule.max_bytes for rule in RULES.values())


def detect_format(head: bytes) -> FileFormat | None:
    """Return the format whose signature starts `head`, or None."""
    for fmt in FORMATS:
        if head.startswith(fmt.signature):
            return fmt
    return None


def format_for_content_type(content_type: str) -> FileFormat | None:
    for fmt in FORMATS:
        if fmt.content_type == content_type:
            return fmt
    return None
