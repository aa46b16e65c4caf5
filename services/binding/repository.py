"""SQL of the binding service; the pool's search_path is the `binding` schema."""

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from .domain import BindingStatus
from .profile import PROFILE_FIELDS

Record = asyncpg.Record


# Units projected from identity's events. Both upserts only move facts forward, so applying them in
# either order, or one of them twice, gives the same row.

async def record_unit_registered(connection: asyncpg.Connection, *, uscc: str, user_id: str,
                                 unit_name: str, registered_at: datetime) -> None:
    await connection.execute(
        "INSERT INTO units (uscc, user_id, unit_name, registered_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (uscc) DO UPDATE SET user_id = EXCLUDED.user_id, unit_name = EXCLUDED.unit_name,"
        " registered_at = LEAST(units.registered_at, EXCLUDED.registered_at)",
        uscc, user_id, unit_name, registered_at)


async def record_unit_first_sign_in(connection: asyncpg.Connection, *, uscc: str, user_id: str,
                                    unit_name: str, signed_in_at: datetime) -> None:
    await connection.execute(
        "INSERT INTO units (uscc, user_id, unit_name, first_signed_in_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (uscc) DO UPDATE SET user_id = COALESCE(units.user_id, EXCLUDED.user_id),"
        " first_signed_in_at = LEAST(units.first_signed_in_at, EXCLUDED.first_signed_in_at)",
        uscc, user_id, unit_name, signed_in_at)


async def find_unit(connection: asyncpg.Connection, uscc: str) -> Record | None:
    return await connection.fetchrow("SELECT * FROM units WHERE uscc = $1", uscc)


# Bindings

async def insert_binding(connection: asyncpg.Connection, *, person_id: str, person_name: str,
                         id_number_masked: str | None, uscc: str, unit_name: str) -> Record | None:
    """Insert a pending request; None when the person already has a pending or approved one."""
    return await connection.fetchrow(
        "INSERT INTO bindings (id, person_id, person_name, id_number_masked, uscc, unit_name, status)"
        " VALUES ($1, $2, $3, $4, $5, $6, 'pending')"
        " ON CONFLICT (person_id) WHERE status IN ('pending', 'approved') DO NOTHING RETURNING *",
        uuid.uuid4(), person_id, person_name, id_number_masked, uscc, unit_name)


async def find_active_binding(connection: asyncpg.Connection, person_id: str) -> Record | None:
    return await connection.fetchrow(
        "SELECT * FROM bindings WHERE person_id = $1 AND status IN ('pending', 'approved')", person_id)


async def find_binding(connection: asyncpg.Connection, binding_id: uuid.UUID, *,
                       for_update: bool = False) -> Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await connection.fetchrow(f"SELECT * FROM bindings WHERE id = $1{lock}", binding_id)


async def list_person_bindings(connection: asyncpg.Connection, person_id: str) -> list[Record]:
    return await connection.fetch(
        "SELECT * FROM bindings WHERE person_id = $1 ORDER BY requested_at DESC, id", person_id)


async def list_unit_requests(connection: asyncpg.Connection, uscc: str, *, status: BindingStatus | None,
                             name: str | None, after: tuple[datetime, uuid.UUID] | None,
                             limit: int) -> list[Record]:
    """Return one page of the unit's requests, newest first, starting after the (requested_at, id) key."""
    pattern = f"%{_escape_like(name)}%" if name else None
    after_time, after_id = after if after else (None, None)
    return await connection.fetch(
        "SELECT * FROM bindings WHERE uscc = $1 AND ($2::text IS NULL OR status = $2)"
        " AND ($3::text IS NULL OR person_name ILIKE $3)"
        " AND ($4::timestamptz IS NULL OR (requested_at, id) < ($4, $5::uuid))"
        " ORDER BY requested_at DESC, id DESC LIMIT $6",
        uscc, status, pattern, after_time, after_id, limit)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def decide_binding(connection: asyncpg.Connection, binding_id: uuid.UUID, *, status: BindingStatus,
                         opinion: str | None, decided_by: str) -> Record:
    return await connection.fetchrow(
        "UPDATE bindings SET status = $2, opinion = $3, decided_by = $4, decided_at = now()"
        " WHERE id = $1 RETURNING *", binding_id, status, opinion, decided_by)


async def unbind(connection: asyncpg.Connection, binding_id: uuid.UUID) -> Record:
    return await connection.fetchrow(
        "UPDATE bindings SET status = 'unbound', unbound_at = now() WHERE id = $1 RETURNING *", binding_id)


# Applications under review, projected from application and review events. Each upsert only fills a
# column that is still empty, so the events commute and a repeated event changes nothing.

async def record_application_submitted(connection: asyncpg.Connection, application_id: str, person_id: str,
                                       uscc: str, submitted_at: datetime) -> None:
    await connection.execute(
        "INSERT INTO applications (application_id, person_id, uscc, submitted_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (application_id) DO UPDATE SET person_id = EXCLUDED.person_id, uscc = EXCLUDED.uscc,"
        " submitted_at = LEAST(applications.submitted_at, EXCLUDED.submitted_at)",
        application_id, person_id, uscc, submitted_at)


async def record_review_finished(connection: asyncpg.Connection, application_id: str,
                                 finished_at: datetime) -> None:
    await connection.execute(
        "INSERT INTO applications (application_id, finished_at) VALUES ($1, $2)"
        " ON CONFLICT (application_id) DO UPDATE"
        " SET finished_at = COALESCE(applications.finished_at, EXCLUDED.finished_at)",
        application_id, finished_at)


async def count_applications_under_review(connection: asyncpg.Connection, person_id: str, uscc: str) -> int:
    return await connection.fetchval(
        "SELECT count(*) FROM applications WHERE person_id = $1 AND uscc = $2"
        " AND submitted_at IS NOT NULL AND finished_at IS NULL", person_id, uscc)


# Unit profiles

async def find_profile(connection: asyncpg.Connection, uscc: str, *,
                       for_update: bool = False) -> Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await connection.fetchrow(f"SELECT * FROM unit_profiles WHERE uscc = $1{lock}", uscc)


async def save_profile(connection: asyncpg.Connection, uscc: str, fields: dict[str, Any], *,
                       complete: bool, updated_by: str) -> Record:
    """Insert or replace the profile and advance its version."""
    columns = ", ".join(PROFILE_FIELDS)
    values = ", ".join(f"${index}" for index in range(4, 4 + len(PROFILE_FIELDS)))
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in PROFILE_FIELDS)
    return await connection.fetchrow(
        f"INSERT INTO unit_profiles (uscc, complete, updated_by, {columns}) VALUES ($1, $2, $3, {values})"
        f" ON CONFLICT (uscc) DO UPDATE SET {updates}, complete = EXCLUDED.complete,"
        " updated_by = EXCLUDED.updated_by, updated_at = now(), version = unit_profiles.version + 1"
        " RETURNING *",
        uscc, complete, updated_by, *(fields.get(name) for name in PROFILE_FIELDS))
