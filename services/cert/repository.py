"""SQL of the cert service (schema `cert`)."""

from dataclasses import asdict, dataclass
from datetime import date, datetime
from uuid import UUID

import asyncpg

_COLUMNS = """id, application_id, result_id, person_id, serial, certificate_number, identifier,
    verification_code, holder_name, id_number_masked, talent_class, class_label, level, issuer_name,
    issued_on, issued_at, status, pdf_key, pdf_sha256, pdf_size"""


@dataclass(frozen=True)
class NewCertificate:
    id: UUID
    application_id: UUID
    result_id: UUID
    person_id: str
    serial: int
    certificate_number: str
    identifier: str
    verification_code: str
    holder_name: str
    id_number_masked: str
    talent_class: str
    class_label: str
    level: int
    issuer_name: str
    issued_on: date
    issued_at: datetime
    pdf_key: str
    pdf_sha256: str
    pdf_size: int


async def lock_application(connection: asyncpg.Connection, application_id: UUID) -> None:
    """Serialize issuing for one application until the end of the transaction."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtext('cert:' || $1::uuid::text))",
                             application_id)


async def next_serial(connection: asyncpg.Connection) -> int:
    return await connection.fetchval("SELECT nextval('certificate_serial')")


async def insert_certificate(connection: asyncpg.Connection, certificate: NewCertificate) -> None:
    fields = asdict(certificate)
    columns = ", ".join(fields)
    placeholders = ", ".join(f"${index}" for index in range(1, len(fields) + 1))
    await connection.execute(f"INSERT INTO certificates ({columns}) VALUES ({placeholders})",
                             *fields.values())


async def of_application(connection: asyncpg.Connection, application_id: UUID) -> asyncpg.Record | None:
    return await connection.fetchrow(f"SELECT {_COLUMNS} FROM certificates WHERE application_id = $1",
                                     application_id)


async def of_person(connection: asyncpg.Connection, person_id: str) -> list[asyncpg.Record]:
    return await connection.fetch(
        f"SELECT {_COLUMNS} FROM certificates WHERE person_id = $1 ORDER BY issued_at DESC", person_id)


async def get(connection: asyncpg.Connection, certificate_id: UUID) -> asyncpg.Record | None:
    return await connection.fetchrow(f"SELECT {_COLUMNS} FROM certificates WHERE id = $1", certificate_id)


async def by_verification_code(connection: asyncpg.Connection, code: str) -> asyncpg.Record | None:
    return await connection.fetchrow(f"SELECT {_COLUMNS} FROM certificates WHERE verification_code = $1",
                                     code)
