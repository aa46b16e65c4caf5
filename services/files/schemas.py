"""Request and response models of the files service."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .rules import RULES, KindRule

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


class KindRuleOut(BaseModel):
    code: str
    label: str
    formats: list[str]
    content_types: list[str]
    max_bytes: int
    min_count: int
    max_count: int
    entry_required: bool

    @classmethod
    def from_rule(cls, rule: KindRule) -> "KindRuleOut":
        return cls(code=rule.code, label=rule.label, formats=[fmt.label for fmt in rule.formats],
                   content_types=[fmt.content_type for fmt in rule.formats], max_bytes=rule.max_bytes,
                   min_count=rule.min_count, max_count=rule.max_count, entry_required=rule.entry_required)


class RulesOut(BaseModel):
    kinds: list[KindRuleOut]
