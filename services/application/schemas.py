"""Request, response and event payload models of the application service."""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

TalentClass = Literal["A", "B", "C", "D", "E"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise PydanticCustomError("validation.datetime", "a time with an offset is required")
    return value


# Calls (通知)

class CallCreate(Strict):
    """A call for applications. The window is kept to the second and is half-open: it accepts from
    opens_at up to, not including, closes_at; so closes_at 2026-07-01T00:00:00+08:00 accepts all of
    30 June, Beijing time. Fractions of a second are dropped."""

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    body: Annotated[str, StringConstraints(max_length=20000)] = ""
    classes: list[TalentClass] = Field(min_length=1, max_length=5)
    opens_at: datetime
    closes_at: datetime

    @field_validator("classes")
    @classmethod
    def _unique_classes(cls, classes: list[str]) -> list[str]:
        return sorted(set(classes))

    @field_validator("opens_at")
    @classmethod
    def _opens_aware(cls, value: datetime) -> datetime:
        return _aware(value).replace(microsecond=0)

    @field_validator("closes_at")
    @classmethod
    def _closes_after_opens(cls, value: datetime, info: ValidationInfo) -> datetime:
        value = _aware(value).replace(microsecond=0)
        opens_at = info.data.get("opens_at")
        if opens_at is not None and value <= opens_at:
            raise PydanticCustomError("application.call_window_invalid", "closes_at must be after opens_at")
        return value


class CallOut(BaseModel):
    call_id: UUID
    title: str
    body: str
    classes: list[str]
    opens_at: datetime
    closes_at: datetime
    status: Literal["draft", "published", "closed"]
    is_open: bool
    # The first and the last accepted second in Beijing time, for display.
    window_label: str
    created_at: datetime
    published_at: datetime | None
    closed_at: datetime | None


class CallList(BaseModel):
    items: list[CallOut]


class CallQuery(BaseModel):
    open: bool = False


# Applications

class ApplicationCreate(Strict):
    call_id: UUID


class ApplicationSummary(BaseModel):
    application_id: UUID
    call_id: UUID
    call_title: str
    uscc: str
    unit_name: str
    status: str
    status_label: str
    snapshot_version: int
    created_at: datetime
    submitted_at: datetime | None


class ApplicationList(BaseModel):
    items: list[ApplicationSummary]


class ModuleOut(BaseModel):
    module: str
    version: int
    content: Any
    updated_at: datetime


class ReturnNotice(BaseModel):
    """Opinion of the reviewer who returned the application, shown on top of the edit page, and the
    modules ticked for change (the only ones the applicant may edit)."""

    opinion: str | None
    modules: list[str]
    module_labels: list[str]
    stage: str | None
    stage_label: str | None


class ApplicationDetail(ApplicationSummary):
    person_id: str
    person_name: str
    unit_nature: str | None
    editable: bool
    # Modules whose content and attachments may change now; "materials" stands for the 材料附件.
    editable_modules: list[str]
    modules: dict[str, ModuleOut]
    returned: ReturnNotice | None
    result: dict[str, Any] | None


# Validation, submission and progress

class ValidationErrorOut(BaseModel):
    module: str
    field: str
    code: str
    message: str


class ValidationResult(BaseModel):
    passed: bool
    errors: list[ValidationErrorOut]


class SubmitRequest(Strict):
    pledge: bool = Field(default=False, validate_default=True)

    @field_validator("pledge")
    @classmethod
    def _pledged(cls, value: bool) -> bool:
        if value is not True:
            raise PydanticCustomError("application.pledge_required", "the pledge must be ticked")
        return value


class SubmitResult(BaseModel):
    application_id: UUID
    snapshot_version: int
    submitted_at: datetime
    status: str
    status_label: str


class FlowNode(BaseModel):
    node: str
    node_label: str
    actor: str
    action: str
    action_label: str
    opinion: str | None
    at: datetime | None


class SummaryQuery(BaseModel):
    disposition: Literal["attachment", "inline"] = "attachment"


# Dictionaries and the form's description

class DictionaryQuery(BaseModel):
    # Start of the labels to list, e.g. 硕; all options without it.
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None


class OptionOut(BaseModel):
    code: str
    label: str
    attributes: dict[str, Any] | None = None


class DictionaryOut(BaseModel):
    name: str
    label: str
    items: list[OptionOut]


class DictionaryInfo(BaseModel):
    name: str
    label: str
    count: int


class DictionaryList(BaseModel):
    items: list[DictionaryInfo]


class FieldOut(BaseModel):
    name: str
    label: str
    kind: str
    dictionary: str | None
    required: bool
    read_only: bool
    # Required only when another field has certain values; the rule, in words.
    required_when: str | None


class ModuleSpecOut(BaseModel):
    module: str
    label: str
    group: str
    group_label: str
    is_list: bool
    required: bool
    max_entries: int | None
    # Files each entry needs, counted by the files service under the module's name as kind.
    min_attachments: int | None
    max_attachments: int | None
    fields: list[FieldOut]


class FormOut(BaseModel):
    modules: list[ModuleSpecOut]
    achievements_max_chars: int


class Progress(BaseModel):
    application_id: UUID
    status: str
    status_label: str
    result: dict[str, Any] | None
    nodes: list[FlowNode]
    next: FlowNode | None


# Event payloads consumed (see docs/events.md); unknown fields are ignored so producers may add some.

class BindingRequested(BaseModel):
    binding_id: str
    person_id: str
    uscc: str
    unit_name: str | None = None
    requested_at: datetime


class BindingApproved(BaseModel):
    binding_id: str
    person_id: str
    uscc: str
    unit_name: str
    decided_at: datetime


class BindingEnded(BaseModel):
    binding_id: str
    person_id: str
    uscc: str
    decided_at: datetime | None = None
    unbound_at: datetime | None = None


class UnitProfileCompleted(BaseModel):
    uscc: str
    unit_name: str
    unit_nature: str | None = None
    complete: bool
    # Absent in events written before versions were announced; updated_at then orders them.
    version: int = 0
    updated_at: datetime


class UserRegistered(BaseModel):
    user_id: str
    kind: str
    real_name: str | None = None
    # HMAC-SHA256 of the person's normalized ID number; absent for units and staff.
    id_number_hash: str | None = None


class ReviewDecided(BaseModel):
    task_id: str
    application_id: UUID
    stage: str
    opinion: str | None = None
    reviewer_name: str | None = None
    decided_at: datetime
    modules: list[str] = Field(default_factory=list)


class ResultRecorded(BaseModel):
    result_id: str
    application_id: UUID
    person_id: str
    result: str
    result_label: str
    passing: bool
    talent_class: str | None = None
    level: int | None = None
    recorded_at: datetime
