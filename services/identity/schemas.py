"""Request and response bodies of the identity API."""

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from services.common.validators import (
    is_valid_id_number,
    is_valid_mobile,
    is_valid_uscc,
    normalize_id_number,
    normalize_uscc,
)

from . import errors  # noqa: F401 - registers the identity.* messages used below
from .domain import Purpose, password_error

_STAFF_ACCOUNT = re.compile(r"[a-z][a-z0-9._-]{2,31}")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def _mobile(value: str) -> str:
    value = value.strip()
    if not is_valid_mobile(value):
        raise PydanticCustomError("identity.mobile_invalid", "invalid mobile number")
    return value


def _id_number(value: str) -> str:
    if not is_valid_id_number(value):
        raise PydanticCustomError("identity.id_number_invalid", "invalid ID number")
    return normalize_id_number(value)


def _uscc(value: str) -> str:
    if not is_valid_uscc(value):
        raise PydanticCustomError("identity.uscc_invalid", "invalid unified social credit code")
    return normalize_uscc(value)


def _real_name(value: str) -> str:
    value = value.strip()
    if not 2 <= len(value) <= 30 or _CONTROL_CHARACTERS.search(value):
        raise PydanticCustomError("identity.real_name_invalid", "invalid name")
    return value


def _staff_account(value: str) -> str:
    value = value.strip().lower()
    if not _STAFF_ACCOUNT.fullmatch(value) or is_valid_uscc(value):
        raise PydanticCustomError("identity.account_invalid", "invalid account")
    return value


def _check_password(password: str, info: ValidationInfo, *identity_fields: str) -> str:
    """Apply the password policy; fields that failed their own validation are absent from info.data."""
    code = password_error(password, *(info.data.get(name) or "" for name in identity_fields))
    if code is not None:
        raise PydanticCustomError(code, "password rejected")
    return password


Mobile = Annotated[str, AfterValidator(_mobile), Field(
    description="手机号码：11 位大陆手机号码 / 11-digit mainland mobile number", examples=["13812345678"])]
IdNumber = Annotated[str, AfterValidator(_id_number), Field(
    description="公民身份号码：18 位，GB 11643 校验位，末位 x 视为 X / 18-character ID number with the GB 11643 check"
                " character; a final x counts as X", examples=["11010519491231002X"])]
Uscc = Annotated[str, AfterValidator(_uscc), Field(
    description="统一社会信用代码：18 位，GB 32100 校验位 / 18-character unified social credit code with the"
                " GB 32100 check character", examples=["91350100M000100Y43"])]
RealName = Annotated[str, AfterValidator(_real_name), Field(
    description="姓名：2 至 30 个字符 / name of 2 to 30 characters", examples=["李晓明"])]
StaffAccount = Annotated[str, AfterValidator(_staff_account), Field(
    description="工作人员账号：3 至 32 位小写字母、数字或 . _ -，以字母开头 / 3 to 32 lower-case letters, digits or"
                " . _ -, starting with a letter", examples=["reviewer.zhang"])]
SmsCode = Annotated[str, Field(min_length=1, max_length=16, description="短信验证码：6 位数字 / 6-digit SMS code",
                               examples=["482913"])]
PASSWORD_RULES = ("密码：8 至 32 位，至少包含大写字母、小写字母、数字、符号中的 3 类，不能包含手机号码、身份证号或"
                  "统一社会信用代码 / 8 to 32 characters with at least 3 of upper case, lower case, digits and"
                  " symbols, not containing the mobile, ID number or credit code")


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaptchaAnswer(Request):
    captcha_id: str = Field(max_length=64)
    captcha_answer: str = Field(max_length=16)


class SmsCodeRequest(CaptchaAnswer):
    mobile: Mobile
    purpose: Purpose


class Registration(Request):
    mobile: Mobile
    sms_code: SmsCode
    real_name: RealName
    # 公民身份号码, GB 11643-1999; a lower-case x check character is accepted.
    id_number: IdNumber
    password: str = Field(description=PASSWORD_RULES)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str, info: ValidationInfo) -> str:
        return _check_password(value, info, "mobile", "id_number")


class MobileVerification(Request):
    """First step of two-step personal registration: the mobile and the register SMS code sent to it."""

    mobile: Mobile
    sms_code: SmsCode


class VerifiedRegistration(Request):
    """Final step of two-step personal registration, with the token that the first step returned."""

    registration_token: str = Field(min_length=1, max_length=128)
    # Optional. When given, it must be the mobile that the token verified, which the account always gets.
    mobile: Mobile | None = None
    real_name: RealName
    id_number: IdNumber
    password: str = Field(description=PASSWORD_RULES)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str, info: ValidationInfo) -> str:
        return _check_password(value, info, "mobile", "id_number")


class RegistrationForm(RootModel[Registration | VerifiedRegistration]):
    """Body of POST /registrations: the one-call `Registration` or the final step `VerifiedRegistration`."""

    @classmethod
    def model_validate(cls, obj: Any, **options: Any) -> "RegistrationForm":
        """Validate `obj` as `VerifiedRegistration` when it has a registration_token, else as `Registration`.

        Choosing the form first keeps validation errors to that form's fields. Validating the union
        would report every field of both forms, each prefixed with the form's name.
        """
        form = VerifiedRegistration if isinstance(obj, dict) and "registration_token" in obj else Registration
        return cls.model_construct(form.model_validate(obj, **options))


class UnitRegistration(Request):
    # 统一社会信用代码, GB 32100-2015; it is also the unit's sign-in account.
    uscc: Uscc
    unit_name: str = Field(min_length=2, max_length=100)
    contact_name: RealName
    contact_mobile: Mobile
    sms_code: SmsCode
    password: str = Field(description=PASSWORD_RULES)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str, info: ValidationInfo) -> str:
        return _check_password(value, info, "uscc", "contact_mobile")


class StaffCreation(Request):
    account: StaffAccount
    name: RealName
    role: Literal["department_reviewer", "admin"]
    password: str = Field(description=PASSWORD_RULES)

    @field_validator("password")
    @classmethod
    def _password(cls, value: str, info: ValidationInfo) -> str:
        return _check_password(value, info)


class SignIn(CaptchaAnswer):
    account: str = Field(min_length=1, max_length=64, description=(
        "账号：个人用手机号码或身份证号，单位用统一社会信用代码，工作人员用账号 / a person's mobile or ID number,"
        " a unit's unified social credit code, or a staff account"))
    password: str = Field(min_length=1, max_length=128)
    # The mobile app signs in with "app": only its sessions may scan QR sign-in tickets (扫码登录).
    channel: Literal["web", "app"] = "web"


class RefreshRequest(Request):
    refresh_token: str = Field(min_length=1, max_length=128)


class PasswordReset(Request):
    mobile: Mobile
    sms_code: SmsCode
    new_password: str = Field(description=PASSWORD_RULES)
    # 统一社会信用代码 of the unit to reset, needed only when the mobile is the contact of several units.
    account: Uscc | None = None

    @field_validator("new_password")
    @classmethod
    def _password(cls, value: str, info: ValidationInfo) -> str:
        return _check_password(value, info, "mobile")


class RoleChange(Request):
    role: Literal["department_reviewer", "admin"]


class UnitHandover(Request):
    """Request body of a unit account handover: the real contact, confirmed outside the system, and the reason."""

    contact_name: RealName
    contact_mobile: Mobile
    reason: str = Field(min_length=2, max_length=200)


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(default=None, pattern=r"^[0-9]{1,18}$")
    limit: int = Field(default=50, ge=1, le=200)
    user_id: uuid.UUID | None = None
    type: str | None = Field(default=None, max_length=40)


class DevSmsQuery(BaseModel):
    mobile: Mobile


class Captcha(BaseModel):
    captcha_id: str
    image: str = Field(description="PNG image as a data URL")
    expires_at: datetime


class SmsCodeSent(BaseModel):
    expires_in: int = Field(description="Seconds the code stays valid")
    resend_in: int = Field(description="Seconds before another code may be requested for this mobile")


class RegistrationToken(BaseModel):
    registration_token: str = Field(description="Send to POST /registrations with the real name, ID number and"
                                                " password; it registers the verified mobile, once")
    expires_at: datetime


class DevCaptchaAnswer(BaseModel):
    answer: str


class DevSmsMessage(BaseModel):
    code: str
    purpose: Purpose
    sent_at: datetime


class DevSmsMessages(BaseModel):
    messages: list[DevSmsMessage]


class Created(BaseModel):
    user_id: str


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class Profile(BaseModel):
    """The caller's own account; fields of other kinds of account are left out."""

    user_id: str
    kind: str
    role: str
    name: str
    created_at: datetime
    mobile: str | None = None
    id_number: str | None = None
    id_number_masked: str | None = None
    uscc: str | None = None
    unit_name: str | None = None
    contact_name: str | None = None
    contact_mobile: str | None = None
    account: str | None = None
    first_signed_in_at: datetime | None = None


class Jwks(BaseModel):
    keys: list[dict[str, Any]]


class QrTicket(BaseModel):
    ticket_id: str
    qr_content: str = Field(description="Text to show as a QR code for the app to scan; it contains the ticket id")
    expires_at: datetime
    poll_secret: str = Field(description="Send as X-QR-Poll-Secret when polling; keep it in the page, not in the QR")


class QrTicketStatus(BaseModel):
    """A ticket's status; the token pair fields appear once, on the first poll after confirmation."""

    status: Literal["waiting", "scanned", "confirmed", "expired"]
    expires_at: datetime
    access_token: str | None = None
    refresh_token: str | None = None
    token_type: Literal["Bearer"] | None = None
    expires_in: int | None = None


class QrScanned(BaseModel):
    """Details the app shows before the person confirms: the address and browser that requested the sign-in."""

    status: Literal["scanned"]
    expires_at: datetime
    requested_at: datetime
    page_client_address: str | None
    page_user_agent: str | None


class StaffMember(BaseModel):
    user_id: str
    account: str
    name: str
    role: str
    created_at: datetime


class StaffList(BaseModel):
    items: list[StaffMember]


class SessionsEnded(BaseModel):
    sessions_ended: int


class UnitHandedOver(BaseModel):
    user_id: str
    uscc: str
    unit_name: str
    contact_name: str
    contact_mobile_masked: str
    sessions_ended: int


class AuditEvent(BaseModel):
    id: int
    type: str
    occurred_at: datetime
    user_id: str | None
    account: str | None = Field(description="The account name as typed, with mobile and ID numbers masked")
    client_address: str | None
    user_agent: str | None
    details: dict[str, Any]


class AuditEvents(BaseModel):
    items: list[AuditEvent]
    next_cursor: str | None = Field(description="Pass as cursor for the next (older) page; null on the last page")


class SigningKeyInfo(BaseModel):
    kid: str
    status: Literal["active", "published", "retired"]
    created_at: datetime
    deactivated_at: datetime | None
    retired_at: datetime | None


class SigningKeys(BaseModel):
    items: list[SigningKeyInfo]


class RevokedSession(BaseModel):
    session_id: str
    expires_at: datetime


class RevokedSessions(BaseModel):
    sessions: list[RevokedSession]
