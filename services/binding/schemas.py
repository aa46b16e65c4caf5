"""Request and response bodies of the binding service."""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError

from services.common.validators import is_valid_mobile, is_valid_uscc, normalize_uscc

from .domain import UNIT_NATURES, BindingStatus

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


class UnitProfileRequest(Request):
    """人才分类定级报送信息; every field may be saved empty and filled in later."""

    unit_name: OptionalText = None
    unit_nature: Annotated[Literal[UNIT_NATURES] | None, BeforeValidator(_blank_to_none)] = None
    region: OptionalText = None
    # 主管部门
    supervisor: OptionalText = None
    industry: OptionalText = None
    contact_name: OptionalText = None
    contact_phone: Annotated[OptionalText, AfterValidator(_check_phone)] = None
    address: OptionalText = None


class RequestListQuery(BaseModel):
    status: BindingStatus | None = None


class Unit(BaseModel):
    uscc: str
    unit_name: str


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


class BindingRequestList(BaseModel):
    items: list[BindingRequest]


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
    complete: bool
    missing_fields: list[str]
    unit_nature_options: list[str]
    # Version of the saved profile, 0 before the first save. Send it in If-Match to save only over it.
    version: int
    updated_at: datetime | None
