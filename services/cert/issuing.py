"""Issuing a certificate: number it, render its PDF, store the PDF, then record the row and `cert.issued`.

The PDF is in object storage before the transaction that records the certificate commits, so a
committed certificate always has its file. A transaction that fails after the upload leaves an
unreferenced object behind, and the event's retry uploads a new one under a new id.
"""

import asyncio
import hashlib
import logging
import uuid
from datetime import UTC, datetime

import asyncpg

from services.common.events import record_event
from services.common.storage import ObjectStore

from . import domain, repository
from .pdf import CertificateContent, render_certificate
from .repository import NewCertificate
from .schemas import ResultRecorded

log = logging.getLogger(__name__)


def verify_url(public_base_url: str, code: str) -> str:
    return f"{public_base_url.rstrip('/')}/api/v1/cert/verify/{code}"


class CertificateIssuer:
    def __init__(self, store: ObjectStore, font_path: str, public_base_url: str) -> None:
        self.store = store
        self.font_path = font_path
        self.public_base_url = public_base_url

    async def issue(self, connection: asyncpg.Connection, result: ResultRecorded) -> None:
        """Issue the certificate of a passing result, unless the application already has one."""
        await repository.lock_application(connection, result.application_id)
        existing = await repository.of_application(connection, result.application_id)
        if existing is not None:
            log.info("application %s already has certificate %s; nothing to issue",
                     result.application_id, existing["id"])
            return

        certificate = await self._prepare(connection, result)
        await repository.insert_certificate(connection, certificate)
        await record_event(connection, "cert", "cert.issued", {
            "certificate_id": str(certificate.id), "application_id": str(certificate.application_id),
            "person_id": certificate.person_id, "certificate_number": certificate.certificate_number,
            "issued_at": certificate.issued_at.isoformat(),
        }, subject=f"certificates/{certificate.id}")
        log.info("issued certificate %s (%s) for application %s", certificate.id,
                 certificate.certificate_number, certificate.application_id)

    async def _prepare(self, connection: asyncpg.Connection, result: ResultRecorded) -> NewCertificate:
        """Number the certificate, render its PDF and upload it."""
        serial = await repository.next_serial(connection)
        issued_at = datetime.now(UTC)
        issued_on = domain.issue_date(issued_at)
        certificate_id = uuid.uuid4()
        code = domain.new_verification_code()
        content = CertificateContent(
            holder_name=result.person_name, id_number_masked=result.id_number_masked,
            talent_class=result.talent_class, class_label=domain.class_label(result.talent_class),
            level=result.level, certificate_number=domain.certificate_number(issued_on, serial),
            identifier=domain.licence_identifier(issued_on, serial), issuer_name=domain.ISSUER_NAME,
            issued_on=issued_on, verify_url=verify_url(self.public_base_url, code), verification_code=code)

        # Rendering takes tens of milliseconds of CPU, so it runs off the event loop.
        pdf = await asyncio.to_thread(render_certificate, content, self.font_path)
        key = f"certificates/{certificate_id}.pdf"
        await self.store.put_bytes(key, pdf, "application/pdf")

        return NewCertificate(
            id=certificate_id, application_id=result.application_id, result_id=result.result_id,
            person_id=result.person_id, serial=serial, certificate_number=content.certificate_number,
            identifier=content.identifier, verification_code=code, holder_name=content.holder_name,
            id_number_masked=content.id_number_masked, talent_class=content.talent_class,
            class_label=content.class_label, level=content.level, issuer_name=content.issuer_name,
            issued_on=issued_on, issued_at=issued_at, pdf_key=key,
            pdf_sha256=hashlib.sha256(pdf).hexdigest(), pdf_size=len(pdf))
