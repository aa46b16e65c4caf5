"""Request and response bodies of the binding service."""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from services.common.validators import is_valid_mobile, is_valid_uscc, normalize_uscc

from .domain import BindingStatus, Decision
from .profile import dictionary_label

_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}(-\d{1,6})?")


def check_uscc(value: str) -> str:
    code = normalize_uscc(value)
    if not is_valid_uscc(code):
        raise PydanticCustomError("binding.invalid_uscc", "invalid unified social credit code")
    return code


def _check_phone(value: str | None) -> str | None:
    if value is not None and not (is_valid_mobile(value) or _LANDLINE.fullmatch(value)):
        raise PydanticCustomError("binding.invalid_phone", "invalid contact phone")
    return value


def _blank_to_none(value: object) -> object:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _in_dictionary(field: str):
    """Build a validator that turns a dictionary code or label into the label, or raises."""
    def check(value: str | None) -> str | None:
        if value is None:
            return None
        label = dictionary_label(field, value)
        if label is None:
            raise PydanticCustomError("binding.not_in_dictionary", "value is not in the dictionary")
        return label
    return AfterValidator(check)


Uscc = Annotated[str, AfterValidator(check_uscc)]
Opinion = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
OptionalText = Annotated[Text | None, BeforeValidator(_blank_to_none)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BindRequest(Request):
    uscc: Uscc


class ApproveRequest(Request):
    # 办件意见; optional when approving.
    opinion: Annotated[Opinion | None, BeforeValidator(_blank_to_none)] = None


class RejectRequest(Request):
    # 办件意见; required when rejecting, so the person learns why.
    opinion: Opinion


class DecisionItem(Request):
    # A string, not a UUID, so that one malformed id fails only its own entry with 404.
    binding_id: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
    decision: Decision
    opinion: Annotated[Opinion | None, BeforeValidator(_blank_to_none)] = None


class DecisionBatch(Request):
    decisions: list[DecisionItem] = Field(min_length=1, max_length=50)


class UnitProfileRequest(Request):
    """人才分类定级报送信息; every field may be saved empty and filled in later.

    单位性质, region and industry take a code or a label of their dictionary (GET /dictionaries).
    """

    unit_name: OptionalText = None
    unit_nature: Annotated[OptionalText, _in_dictionary("unit_nature")] = None
    region: Annotated[OptionalText, _in_dictionary("region")] = None
    # 主管部门
    supervisor: OptionalText = None
    industry: Annotated[OptionalText, _in_dictionary("industry")] = None
    contact_name: OptionalText = None
    contact_phone: Annotated[OptionalText, AfterValidator(_check_phone)] = None
    address: OptionalText = None


class RequestListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: BindingStatus | None = None
    # Part of the person's name to search for.
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None = None
    limit: int = Field(default=20, ge=1, le=100)
    # next_cursor of the previous page.
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None


class Unit(BaseModel):
    uscc: str
    unit_name: str


class HistoryStep(BaseModel):
    action: Literal["requested", "approved", "rejected", "unbound"]
    action_label: str
    actor: str
    at: datetime
    opinion: str | None


class Binding(BaseModel):
    """A binding request as shown to the person who made it."""

    binding_id: str
    status: BindingStatus
    status_label: str
    uscc: str
    unit_name: str
    opinion: str | None
    requested_at: datetime
    decided_at: datetime | None
    unbound_at: datetime | None
    # Applications submitted through this approved binding's unit and still under review: while above 0,
    # unbinding is refused. Learned from events, so it can trail a submission by a moment.
    applications_under_review: int = 0
    history: list[HistoryStep]


class BindingList(BaseModel):
    items: list[Binding]


class BindingRequest(BaseModel):
    """A binding request as shown to the unit's reviewer, with the person's ID number masked."""

    binding_id: str
    status: BindingStatus
    status_label: str
    person_id: str
    person_name: str
    id_number_masked: str | None
    opinion: str | None
    requested_at: datetime
    decided_at: datetime | None
    unbound_at: datetime | None
    history: list[HistoryStep]


class BindingRequestList(BaseModel):
    items: list[BindingRequest]
    # Pass as cursor to read the next page; None on the last page.
    next_cursor: str | None


class DecisionResult(BaseModel):
    """The outcome of one entry of a batch: the HTTP status it would have had on its own."""

    binding_id: str
    status: int
    code: str | None
    message: str | None
    binding: BindingRequest | None


class DecisionResults(BaseModel):
    results: list[DecisionResult]


class DictionaryEntry(BaseModel):
    code: str
    label: str


class Dictionaries(BaseModel):
    unit_nature: list[DictionaryEntry]
    region: list[DictionaryEntry]
    industry: list[DictionaryEntry]


class UnitProfile(BaseModel):
    uscc: str
    unit_name: str | None
    unit_nature: str | None
    region: str | None
    supervisor: str | None
    industry: str | None
    contact_name: str | None
    contact_phone: str | None
    address: str | None
    unit_nature_code: str | None
    region_code: str | None
    industry_code: str | None
    complete: bool
    # Required fields that are empty or hold a value outside their dictionary, in form order.
    missing_fields: list[str]
    # 主管部门 is required for 机关 and 事业单位 only.
    supervisor_required: bool
    unit_nature_options: list[str]
    # Version of the saved profile, 0 before the first save. Send it in If-Match to save only over it.
    version: int
    updated_at: datetime | None
