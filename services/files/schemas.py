"""Request and response models of the files service."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .rules import MODULE_LABELS, RULES, KindRule

KindCode = Literal.__getitem__(tuple(RULES))  # type: ignore[attr-defined]
# Entry ids are assigned by the application service; files only checks that they are plain tokens.
ENTRY_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class UploadForm(BaseModel):
    """The multipart fields sent before the `file` part of `POST /files`."""

    model_config = ConfigDict(extra="forbid")

    kind: KindCode
    application_id: uuid.UUID
    entry_id: str | None = Field(default=None, pattern=ENTRY_ID_PATTERN)


class ListQuery(BaseModel):
    application_id: uuid.UUID


class ContentQuery(BaseModel):
    disposition: Literal["attachment", "inline"] = "attachment"


class ReadsQuery(BaseModel):
    application_id: uuid.UUID
    # The applicant's own reads are left out unless asked for.
    include_own: bool = False
    limit: int = Field(default=200, ge=1, le=1000)


class FileReadsQuery(BaseModel):
    include_own: bool = False
    limit: int = Field(default=200, ge=1, le=1000)


class FileOut(BaseModel):
    file_id: uuid.UUID
    application_id: uuid.UUID
    kind: str
    entry_id: str | None
    file_name: str
    size: int
    sha256: str
    content_type: str
    uploaded_at: datetime

    @classmethod
    def from_row(cls, row) -> "FileOut":
        return cls(file_id=row["id"], application_id=row["application_id"], kind=row["kind"],
                   entry_id=row["entry_id"], file_name=row["file_name"], size=row["size"],
                   sha256=row["sha256"], content_type=row["content_type"], uploaded_at=row["uploaded_at"])


class FileList(BaseModel):
    items: list[FileOut]


class ReadOut(BaseModel):
    """One read of a file: who read it, how (list, metadata, download, preview) and when."""

    file_id: uuid.UUID
    file_name: str
    kind: str
    reader_id: str
    reader_name: str
    reader_role: str
    # 统一社会信用代码 of the unit a unit reviewer acts for.
    reader_unit_uscc: str | None
    access: str
    read_at: datetime

    @classmethod
    def from_row(cls, row) -> "ReadOut":
        return cls(file_id=row["file_id"], file_name=row["file_name"], kind=row["kind"], reader_id=row["user_id"],
                   reader_name=row["user_name"], reader_role=row["role"], reader_unit_uscc=row["unit_uscc"],
                   access=row["access"], read_at=row["read_at"])


class ReadList(BaseModel):
    items: list[ReadOut]


class Requirements(BaseModel):
    """The 格式要求, 大小要求 and 数量要求 shown beside an upload slot, in the request's language."""

    format: str
    size: str
    count: str
    # 内容要求: what the content must show, for the kinds where the manual says so.
    content: str | None = None


class KindRuleOut(BaseModel):
    code: str
    label: str
    label_en: str
    # The application module whose editability decides whether files of this kind may change.
    module: str
    module_label: str
    formats: list[str]
    content_types: list[str]
    max_bytes: int
    max_mib: float
    min_count: int
    max_count: int
    # "application" for the material kinds, "entry" for kinds counted per entry of a module.
    count_scope: Literal["application", "entry"]
    entry_required: bool
    requirements: Requirements

    @classmethod
    def from_rule(cls, rule: KindRule, language: str) -> "KindRuleOut":
        module_zh, module_en = MODULE_LABELS[rule.module]
        return cls(code=rule.code, label=rule.label, label_en=rule.label_en, module=rule.module,
                   module_label=module_en if language == "en" else module_zh,
                   formats=[fmt.label for fmt in rule.formats],
                   content_types=[fmt.content_type for fmt in rule.formats], max_bytes=rule.max_bytes,
                   max_mib=rule.max_mib, min_count=rule.min_count, max_count=rule.max_count,
                   count_scope=rule.count_scope, entry_required=rule.entry_required,
                   requirements=requirements(rule, language))


def requirements(rule: KindRule, language: str) -> Requirements:
    formats = "、".join(fmt.label for fmt in rule.formats)
    size = f"{rule.max_mib:g}"
    if language == "en":
        per = "per entry" if rule.entry_required else "per application"
        return Requirements(
            format=f"{', '.join(fmt.label for fmt in rule.formats)}, recognised from the content; HEIC photos, "
                   "password-protected PDFs, empty files and names with two extensions are rejected",
            size=f"at most {size} MiB ({rule.max_bytes} bytes) per file",
            count=f"{rule.min_count} to {rule.max_count} files {per}; the same file twice is rejected",
            content=rule.content_guidance[1] if rule.content_guidance else None)
    per = "每条经历" if rule.entry_required else "每份申报"
    return Requirements(
        format=f"{formats}（按文件内容识别）；不接受 HEIC 照片、设有打开密码的 PDF、空文件和双重扩展名的文件",
        size=f"每个文件不超过 {size} MB（{rule.max_bytes} 字节）",
        count=f"{per} {rule.min_count}–{rule.max_count} 个；同一文件不能重复上传",
        content=rule.content_guidance[0] if rule.content_guidance else None)


class RulesOut(BaseModel):
    kinds: list[KindRuleOut]
