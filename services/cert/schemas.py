"""Response and event payload models of the cert service."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

TalentClass = Literal["A", "B", "C", "D", "E"]


class ResultRecorded(BaseModel):
    """Payload of `review.result_recorded`."""

    result_id: UUID
    application_id: UUID
    person_id: str
    person_name: str = Field(min_length=1)
    id_number_masked: str
    result: str
    result_label: str
    passing: bool
    talent_class: TalentClass
    level: int = Field(ge=1, le=3)
    recorded_at: datetime


class CertificateView(BaseModel):
    certificate_id: UUID
    application_id: UUID
    certificate_number: str
    identifier: str
    holder_name: str
    id_number_masked: str
    talent_class: TalentClass
    class_label: str
    level: int
    issuer_name: str
    issued_on: date
    issued_at: datetime
    status: Literal["valid", "revoked"]
    verification_code: str
    verify_url: str
    pdf_sha256: str
    pdf_size: int


class CertificateList(BaseModel):
    items: list[CertificateView]


class VerificationView(BaseModel):
    """Public facts about a certificate, shown to anyone who has its verification code."""

    valid: bool
    certificate_number: str
    holder_name: str = Field(description="masked, first and last character only")
    talent_class: TalentClass
    class_label: str
    level: int
    issued_on: date
    issuer_name: str
    status: Literal["valid", "revoked"]
