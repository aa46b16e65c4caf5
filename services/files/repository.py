"""SQL of the files service (tables `files` and `file_reads`)."""

import uuid
from typing import Any

import asyncpg

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


async def record_read(connection: asyncpg.Connection, row: asyncpg.Record, user_id: str, role: str,
                      access: str) -> None:
    await connection.execute(
        "INSERT INTO file_reads (file_id, application_id, user_id, role, access) VALUES ($1, $2, $3, $4, $5)",
        row["id"], row["application_id"], user_id, role, access)
