"""Attachment kinds and their upload rules (format, size, count), kept as data.

Sizes are in bytes. Counts are per application for the material kinds and per entry (one row of a
module such as 继续教育(培训)经历) for the kinds with `entry_required`. Whether a kind is required at all
(引进协议 only for 引进人才 and 柔性引进人才) is decided by the application's validation, not here.
Each kind belongs to one module of the application, and its files may change only while the
application service lists that module in `editable_modules`.
"""

from dataclasses import dataclass, replace

from .formats import JPEG, PDF, PNG, FileFormat

MIB = 1024 * 1024

# The application's modules that own attachments, with their Chinese and English names. "materials"
# is the 材料附件 part of the application, which reviewers can return like a module.
MODULE_LABELS = {
    "basic_info": ("基本信息", "basic information"),
    "materials": ("材料附件", "material attachments"),
    "continuing_education": ("继续教育(培训)经历", "continuing education"),
    "publications": ("论文著作", "publications"),
    "part_time_posts": ("专业兼职", "part-time posts"),
    "enterprise_performance": ("企业人才业绩", "enterprise performance"),
    "honors": ("人才荣誉表彰", "honours"),
    "awards": ("专业获奖", "professional awards"),
}


@dataclass(frozen=True)
class KindRule:
    code: str
    label: str
    label_en: str
    module: str
    formats: tuple[FileFormat, ...]
    max_bytes: int
    min_count: int
    max_count: int
    entry_required: bool = False
    # What the content must show (Chinese, English), where the manual says more than format and size.
    content_guidance: tuple[str, str] | None = None

    def allows(self, fmt: FileFormat) -> bool:
        return fmt in self.formats

    def format_labels(self) -> str:
        return ", ".join(fmt.label for fmt in self.formats)

    @property
    def count_scope(self) -> str:
        return "entry" if self.entry_required else "application"

    @property
    def max_mib(self) -> float:
        return round(self.max_bytes / MIB, 2)


_ENTRY_FORMATS = (PDF, JPEG, PNG)


def _entry_kind(code: str, max_bytes: int = 20 * MIB, max_count: int = 3,
                content_guidance: tuple[str, str] | None = None) -> KindRule:
    label, label_en = MODULE_LABELS[code]
    return KindRule(code, label, label_en, code, _ENTRY_FORMATS, max_bytes, 1, max_count, entry_required=True,
                    content_guidance=content_guidance)


# The manual's advice on the evidence of 企业人才业绩.
PERFORMANCE_EVIDENCE = (
    "佐证材料应与所填报的数据相符；由企业内部单一出具的利润、缴税和用工人数等证明不作为有效佐证材料",
    "The evidence must match the figures entered; a statement of profit, tax or headcount issued by the "
    "enterprise alone is not valid evidence",
)


RULES: dict[str, KindRule] = {rule.code: rule for rule in (
    KindRule("photo", "个人照片", "personal photo", "basic_info", (JPEG, PNG), 2 * MIB, 1, 1),
    KindRule("id_card", "身份证正反面", "both sides of the ID card", "materials", (JPEG, PNG, PDF), 10 * MIB, 1, 2),
    KindRule("employment_contract", "聘用合同", "employment contract", "materials", (PDF, JPEG, PNG), 20 * MIB,
             1, 3),
    KindRule("diploma", "最高全日制学历证", "highest full-time diploma", "materials", (PDF, JPEG, PNG), 10 * MIB,
             1, 2),
    KindRule("degree", "最高全日制学位证", "highest full-time degree certificate", "materials", (PDF, JPEG, PNG),
             10 * MIB, 1, 2),
    KindRule("introduction_agreement", "引进协议", "introduction agreement", "materials", (PDF, JPEG, PNG),
             20 * MIB, 1, 3),
    _entry_kind("continuing_education"),
    _entry_kind("part_time_posts"),
    _entry_kind("enterprise_performance", content_guidance=PERFORMANCE_EVIDENCE),
    _entry_kind("honors"),
    _entry_kind("awards"),
    _entry_kind("publications", max_bytes=50 * MIB, max_count=20),
)}

MAX_FILE_BYTES = max(rule.max_bytes for rule in RULES.values())


def rules_with_limits(max_bytes: dict[str, int]) -> dict[str, KindRule]:
    """Return the rules with the size limits of some kinds replaced, as a deployment configures them."""
    return {code: replace(rule, max_bytes=max_bytes.get(code, rule.max_bytes)) for code, rule in RULES.items()}
