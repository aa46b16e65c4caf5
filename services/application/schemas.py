"""Request, response and event payload models of the application service."""

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

TalentClass = Literal["A", "B", "C", "D", "E"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise PydanticCustomError("validation.datetime", "a time with an offset is required")
    return value


# Calls (通知)

class CallCreate(Strict):
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
        return _aware(value)

    @field_validator("closes_at")
    @classmethod
    def _closes_after_opens(cls, value: datetime, info: ValidationInfo) -> datetime:
        value = _aware(value)
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
    created_at: datetime
    published_at: datetime | None
    closed_at: datetime | None


class CallList(BaseModel):
    items: list[CallOut]


class CallQuery(BaseModel):
    open: bool = False


# Eligibility and applications

class EligibilityQuery(BaseModel):
    call_id: UUID


class ConditionOut(BaseModel):
    code: str
    passed: bool
    reason: str
    next_step: str | None


class Eligibility(BaseModel):
    call_id: UUID
    eligible: bool
    conditions: list[ConditionOut]


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
    """Opinion of the reviewer who returned the application, shown on top of the edit page."""

    opinion: str | None
    modules: list[str]
    stage: str | None


class ApplicationDetail(ApplicationSummary):
    person_id: str
    person_name: str
    unit_nature: str | None
    editable: bool
    modules: dict[str, ModuleOut]
    returned: ReturnNotice | None
    result: dict[str, Any] | None


# Modules. Saving checks types only, so every field may be missing in a draft; 数据验证 checks the rest.

def _yes_no(value: Any) -> Any:
    """Accept the form's 是/否 as well as JSON booleans."""
    return {"是": True, "否": False}.get(value, value) if isinstance(value, str) else value


class BasicInfo(Strict):
    # Read-only: real_name comes from the access token and unit_nature from the unit's profile.
    real_name: str | None = None
    unit_nature: str | None = None
    gender: Literal["男", "女"] | None = None
    ethnicity: Text | None = None
    birth_date: date | None = None
    political_status: Text | None = None
    title: Text | None = None
    talent_source: Literal["引进人才", "柔性引进人才", "现有人才"] | None = None
    introduced_from: Text | None = None
    service_type: Literal["首次认定", "晋升认定"] | None = None
    previous_class: TalentClass | None = None
    previous_graded_on: date | None = None
    long_term_contract: Annotated[bool | None, BeforeValidator(_yes_no)] = None
    contract_end_date: date | None = None
    person_category: Text | None = None
    talent_class: TalentClass | None = None
    level: int | None = Field(default=None, ge=1, le=3)


class EducationEntry(Strict):
    school: Text | None = None
    major: Text | None = None
    degree_level: Text | None = None
    degree: Text | None = None
    study_mode: Text | None = None
    start_date: date | None = None
    end_date: date | None = None


class WorkEntry(Strict):
    employer: Text | None = None
    position: Text | None = None
    start_date: date | None = None
    end_date: date | None = None


class Achievements(Strict):
    # The 300-character limit is checked by 数据验证, so that a longer draft can still be saved.
    text: Annotated[str, StringConstraints(max_length=20000)] | None = None


MODULE_MODELS: dict[str, type[BaseModel]] = {
    "basic_info": BasicInfo,
    "education": RootModel[list[EducationEntry]],
    "work_experience": RootModel[list[WorkEntry]],
    "achievements": Achievements,
}


class ModuleContent(RootModel[BasicInfo | list[EducationEntry] | list[WorkEntry] | Achievements]):
    """Body of PUT /applications/{id}/modules/{module}: the model named by `module`."""


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


class Progress(BaseModel):
    application_id: UUID
    status: str
    status_label: str
    result: dict[str, Any] | None
    nodes: list[FlowNode]
    next: FlowNode | None


# Event payloads consumed (see docs/events.md); unknown fields are ignored so producers may add some.

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
    updated_at: datetime


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
