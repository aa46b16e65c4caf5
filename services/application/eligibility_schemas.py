"""Request and response bodies of eligibility (条件自检), promotion requests and grading imports."""

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

TalentClass = Literal["A", "B", "C", "D", "E"]
Opinion = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


OptionalOpinion = Annotated[Opinion | None, BeforeValidator(_blank_to_none)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Eligibility

class EligibilityQuery(BaseModel):
    call_id: UUID


class ConditionOut(BaseModel):
    code: Literal["call_open", "unit_bound", "unit_profile_complete", "not_recently_graded"]
    passed: bool
    reason: str
    # The next step; None when the condition passed.
    next_step: str | None


class Eligibility(BaseModel):
    call_id: UUID
    eligible: bool
    conditions: list[ConditionOut]


# Promotion requests (晋级申报申请)

class PromotionCreate(Strict):
    talent_class: TalentClass
    level: int = Field(ge=1, le=3)
    # 申请理由: the person's reason for a new grading within three years of the last one.
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class ForwardRequest(Strict):
    opinion: OptionalOpinion = None


class ApproveRequest(Strict):
    opinion: OptionalOpinion = None


class RejectRequest(Strict):
    # Required, so that the person learns why.
    opinion: Opinion


class PromotionQuery(Strict):
    status: Literal["pending_unit", "pending_department", "approved", "rejected"] | None = None
    limit: int = Field(default=20, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None


class PromotionOut(BaseModel):
    request_id: UUID
    status: str
    status_label: str
    person_id: str
    person_name: str
    id_number_masked: str | None
    uscc: str
    unit_name: str
    graded_on: date
    current_class: str | None
    current_level: int | None
    talent_class: str
    level: int
    reason: str
    requested_at: datetime
    unit_opinion: str | None
    forwarded_at: datetime | None
    department_opinion: str | None
    decided_at: datetime | None
    rejected_stage: Literal["unit", "department"] | None


class PromotionList(BaseModel):
    items: list[PromotionOut]
    next_cursor: str | None


# Imported historical gradings

class RowProblem(BaseModel):
    # Line of the file, counting the header as line 1; 0 for a problem with the whole file.
    row: int
    # The column's header, empty when the problem concerns the whole row or file.
    field: str
    code: str
    message: str


class GradingImport(BaseModel):
    import_id: UUID
    rows: int
    imported: int
    # Gradings that an earlier import already contained.
    already_known: int
    imported_at: datetime


class GradingImportList(BaseModel):
    items: list[GradingImport]
