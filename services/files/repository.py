"""SQL of the files service (tables `files`, `file_reads` and `submitted_applications`)."""

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from services.common.auth import Principal

from .domain import Submission

FILE_COLUMNS = ("id, application_id, kind, entry_id, person_id, uscc, file_name, content_type, size, sha256,"
                " object_key, uploaded_by, uploaded_at")


async def lock_slot(connection: asyncpg.Connection, application_id: uuid.UUID, kind: str,
                    entry_id: str | None) -> None:
    """Serialise uploads into one slot until the transaction ends, so that count limits hold."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))",
                             f"files:{application_id}:{kind}:{entry_id or ''}")


async def count_files(connection: asyncpg.Connection, application_id: uuid.UUID, kind: str,
                      entry_id: str | None) -> int:
    return await connection.fetchval(
        "SELECT count(*) FROM files WHERE application_id = $1 AND kind = $2"
        " AND entry_id IS NOT DISTINCT FROM $3", application_id, kind, entry_id)


async def insert_file(connection: asyncpg.Connection, row: dict[str, Any]) -> asyncpg.Record:
    return await connection.fetchrow(
        "INSERT INTO files (id, application_id, kind, entry_id, person_id, uscc, file_name, content_type,"
        " size, sha256, object_key, uploaded_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        f" RETURNING {FILE_COLUMNS}",
        row["id"], row["application_id"], row["kind"], row["entry_id"], row["person_id"], row["uscc"],
        row["file_name"], row["content_type"], row["size"], row["sha256"], row["object_key"],
        row["uploaded_by"])


async def get_file(connection: asyncpg.Connection, file_id: uuid.UUID) -> asyncpg.Record | None:
    return await connection.fetchrow(f"SELECT {FILE_COLUMNS} FROM files WHERE id = $1", file_id)


async def list_files(connection: asyncpg.Connection, application_id: uuid.UUID) -> list[asyncpg.Record]:
    return await connection.fetch(
        f"SELECT {FILE_COLUMNS} FROM files WHERE application_id = $1 ORDER BY uploaded_at, id",
        application_id)


async def delete_file(connection: asyncpg.Connection, file_id: uuid.UUID) -> asyncpg.Record | None:
    return await connection.fetchrow(f"DELETE FROM files WHERE id = $1 RETURNING {FILE_COLUMNS}", file_id)


async def find_same_content(connection: asyncpg.Connection, application_id: uuid.UUID, kind: str,
                            entry_id: str | None, sha256: str) -> asyncpg.Record | None:
    """Return a file of the slot with the same SHA-256, or None."""
    return await connection.fetchrow(
        "SELECT id, file_name FROM files WHERE application_id = $1 AND kind = $2"
        " AND entry_id IS NOT DISTINCT FROM $3 AND sha256 = $4 ORDER BY uploaded_at LIMIT 1",
        application_id, kind, entry_id, sha256)


async def record_reads(connection: asyncpg.Connection, rows: list[asyncpg.Record], caller: Principal,
                       access: str) -> None:
    """Record that `caller` read each file of `rows` (access: list, metadata, download or preview)."""
    if not rows:
        return
    await connection.execute(
        "INSERT INTO file_reads (file_id, application_id, file_name, kind, user_id, user_name, role, unit_uscc,"
        " access) SELECT file_id, application_id, file_name, kind, $5, $6, $7, $8, $9"
        " FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) AS f(file_id, application_id, file_name, kind)",
        [row["id"] for row in rows], [row["application_id"] for row in rows], [row["file_name"] for row in rows],
        [row["kind"] for row in rows], caller.user_id, caller.name, caller.role, caller.unit_uscc, access)


async def list_reads(connection: asyncpg.Connection, application_id: uuid.UUID, *, file_id: uuid.UUID | None,
                     exclude_user: str | None, limit: int) -> list[asyncpg.Record]:
    """Return the newest reads of an application's files (of one file when `file_id` is set)."""
    return await connection.fetch(
        "SELECT file_id, file_name, kind, user_id, user_name, role, unit_uscc, access, read_at FROM file_reads"
        " WHERE application_id = $1 AND ($2::uuid IS NULL OR file_id = $2)"
        " AND ($3::text IS NULL OR user_id <> $3) ORDER BY read_at DESC, id DESC LIMIT $4",
        application_id, file_id, exclude_user, limit)


async def save_submission(connection: asyncpg.Connection, application_id: uuid.UUID, person_id: str, uscc: str,
                          submitted_at: datetime) -> None:
    """Keep the unit of the newest submission of an application; an older or repeated event changes nothing."""
    await connection.execute(
        "INSERT INTO submitted_applications (application_id, person_id, uscc, submitted_at)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT (application_id) DO UPDATE"
        " SET person_id = EXCLUDED.person_id, uscc = EXCLUDED.uscc, submitted_at = EXCLUDED.submitted_at"
        " WHERE submitted_applications.submitted_at < EXCLUDED.submitted_at",
        application_id, person_id, uscc, submitted_at)


async def get_submission(connection: asyncpg.Connection, application_id: uuid.UUID) -> Submission | None:
    row = await connection.fetchrow(
        "SELECT person_id, uscc FROM submitted_applications WHERE application_id = $1", application_id)
    return Submission(row["person_id"], row["uscc"]) if row else None


async def keys_with_rows(connection: asyncpg.Connection, keys: list[str]) -> set[str]:
    """Return which of the object keys have a metadata row."""
    rows = await connection.fetch("SELECT object_key FROM files WHERE object_key = ANY($1::text[])", keys)
    return {row["object_key"] for row in rows}
