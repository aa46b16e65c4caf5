"""Request, response and event payload models of the review service."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from .domain import OPINION_MAX_LENGTH, RETURNABLE_MODULES

TalentClass = Literal["A", "B", "C", "D", "E"]
Stage = Literal["unit", "department"]


class TaskQuery(BaseModel):
    stage: Stage | None = None
    status: Literal["pending", "done"] = "pending"
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0)


class DecisionRequest(BaseModel):
    """A reviewer's decision (办件意见); `opinion` is required to return or terminate."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "return", "terminate"]
    opinion: str | None = Field(default=None, max_length=OPINION_MAX_LENGTH, validate_default=True)
    modules: list[str] | None = Field(default=None, validate_default=True)

    @field_validator("opinion")
    @classmethod
    def _opinion_for_decision(cls, value: str | None, info: ValidationInfo) -> str | None:
        text = value.strip() if value else None
        if not text and info.data.get("decision") in ("return", "terminate"):
            raise PydanticCustomError("review.opinion_required", "opinion required")
        return text or None

    @field_validator("modules")
    @classmethod
    def _modules_for_decision(cls, value: list[str] | None, info: ValidationInfo) -> list[str]:
        decision = info.data.get("decision")
        if decision == "return" and not value:
            raise PydanticCustomError("review.modules_required", "modules required")
        if decision != "return" and value:
            raise PydanticCustomError("review.modules_not_allowed", "modules not allowed")
        for module in value or []:
            if module not in RETURNABLE_MODULES:
                raise PydanticCustomError("review.unknown_module", "unknown module",
                                          {"input": module, "expected": ", ".join(RETURNABLE_MODULES)})
        return list(dict.fromkeys(value or []))


class ResultRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_id: UUID
    result: str = Field(min_length=1, max_length=50)
    talent_class: TalentClass
    level: int = Field(ge=1, le=3)


class TaskView(BaseModel):
    task_id: UUID
    application_id: UUID
    stage: Stage
    status: Literal["pending", "done"]
    person_name: str
    id_number_masked: str
    uscc: str
    unit_name: str
    talent_class: TalentClass
    level: int
    snapshot_version: int
    submitted_at: datetime
    created_at: datetime
    decision: Literal["approve", "return", "terminate"] | None = None
    opinion: str | None = None
    modules: list[str] = []
    reviewer_name: str | None = None
    decided_at: datetime | None = None
    # Modules changed since the previous snapshot version; empty for a first submission.
    changed_modules: list[str] = []


class Change(BaseModel):
    """One changed field or attachment slot of a resubmission (see `application.resubmitted`)."""

    module: str
    field_path: str
    entry_id: str | None = None
    before: Any
    after: Any


class TaskDetail(TaskView):
    snapshot: dict[str, Any]
    # Field-level changes against the previous snapshot version, shown on a task a resubmission reopened.
    changes: list[Change]


class TaskList(BaseModel):
    items: list[TaskView]
    limit: int
    offset: int


class ResultTypeView(BaseModel):
    code: str
    label: str
    label_zh: str
    label_en: str
    passing: bool


class ResultView(BaseModel):
    result_id: UUID
    application_id: UUID
    result: str
    result_label: str
    passing: bool
    talent_class: TalentClass
    level: int
    recorded_at: datetime


class ApplicationSubmitted(BaseModel):
    """Payload of `application.submitted` and `application.resubmitted`."""

    application_id: UUID
    call_id: str | None = None
    person_id: str
    person_name: str
    id_number_masked: str
    uscc: str
    unit_name: str
    talent_class: TalentClass
    level: int = Field(ge=1, le=3)
    snapshot_version: int
    snapshot: dict[str, Any]
    submitted_at: datetime
    changed_modules: list[str] = []
    changes: list[dict[str, Any]] = []
