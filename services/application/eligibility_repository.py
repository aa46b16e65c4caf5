"""SQL of promotion requests (晋级申报申请) and of imported historical gradings."""

import uuid
from datetime import date, datetime

import asyncpg

from .eligibility import Promotion
from .gradings import ImportedGrading

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
Record = asyncpg.Record


# Promotion requests

async def insert_promotion(c: Connection, *, person_id: str, person_name: str, id_number_masked: str | None,
                           uscc: str, unit_name: str, graded_on: date, current_class: str | None,
                           current_level: int | None, talent_class: str, level: int, reason: str) -> Record | None:
    """Insert a request pending at the unit; None when the person already has an open one."""
    return await c.fetchrow(
        "INSERT INTO promotion_requests (request_id, person_id, person_name, id_number_masked, uscc, unit_name,"
        " graded_on, current_class, current_level, talent_class, level, reason, status)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending_unit')"
        " ON CONFLICT (person_id) WHERE status IN ('pending_unit', 'pending_department') DO NOTHING"
        " RETURNING *",
        uuid.uuid4(), person_id, person_name, id_number_masked, uscc, unit_name, graded_on, current_class,
        current_level, talent_class, level, reason)


async def find_open_promotion(c: Connection, person_id: str) -> Record | None:
    return await c.fetchrow(
        "SELECT * FROM promotion_requests WHERE person_id = $1"
        " AND status IN ('pending_unit', 'pending_department')", person_id)


async def get_promotion(c: Connection, request_id: uuid.UUID, *, for_update: bool = False) -> Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await c.fetchrow(f"SELECT * FROM promotion_requests WHERE request_id = $1{lock}", request_id)


async def list_promotions(c: Connection, *, person_id: str | None = None, uscc: str | None = None,
                          status: str | None = None, after: tuple[datetime, uuid.UUID] | None = None,
                          limit: int = 20) -> list[Record]:
    """Return one page of requests, newest first, of a person, of a unit, or of everyone."""
    after_time, after_id = after if after else (None, None)
    return await c.fetch(
        "SELECT * FROM promotion_requests WHERE ($1::text IS NULL OR person_id = $1)"
        " AND ($2::text IS NULL OR uscc = $2) AND ($3::text IS NULL OR status = $3)"
        " AND ($4::timestamptz IS NULL OR (requested_at, request_id) < ($4, $5::uuid))"
        " ORDER BY requested_at DESC, request_id DESC LIMIT $6",
        person_id, uscc, status, after_time, after_id, limit)


async def forward_promotion(c: Connection, request_id: uuid.UUID, opinion: str | None, by: str) -> Record:
    return await c.fetchrow(
        "UPDATE promotion_requests SET status = 'pending_department', unit_opinion = $2, forwarded_at = now(),"
        " forwarded_by = $3 WHERE request_id = $1 RETURNING *", request_id, opinion, by)


async def reject_promotion_at_unit(c: Connection, request_id: uuid.UUID, opinion: str, by: str) -> Record:
    return await c.fetchrow(
        "UPDATE promotion_requests SET status = 'rejected', rejected_stage = 'unit', unit_opinion = $2,"
        " decided_at = now(), decided_by = $3 WHERE request_id = $1 RETURNING *", request_id, opinion, by)


async def decide_promotion(c: Connection, request_id: uuid.UUID, status: str, opinion: str | None,
                           by: str) -> Record:
    """Record the department's approval or rejection."""
    return await c.fetchrow(
        "UPDATE promotion_requests SET status = $2, department_opinion = $3, decided_at = now(), decided_by = $4,"
        " rejected_stage = CASE WHEN $2 = 'rejected' THEN 'department' END"
        " WHERE request_id = $1 RETURNING *", request_id, status, opinion, by)


async def relevant_promotion(c: Connection, person_id: str, graded_on: date) -> Promotion | None:
    """Return the request about a grading on or after `graded_on`: an approved one, else an open one,
    else the latest rejected one."""
    row = await c.fetchrow(
        "SELECT status, coalesce(department_opinion, unit_opinion) AS opinion FROM promotion_requests"
        " WHERE person_id = $1 AND graded_on >= $2"
        " ORDER BY status = 'approved' DESC, status IN ('pending_unit', 'pending_department') DESC,"
        " requested_at DESC LIMIT 1", person_id, graded_on)
    return Promotion(row["status"], row["opinion"]) if row else None


# Imported gradings

async def insert_grading_import(c: Connection, import_id: uuid.UUID, imported_by: str,
                                gradings: list[ImportedGrading], rows: int) -> Record:
    """Store an import and its gradings; a grading already known is skipped and counted."""
    await c.execute(
        "INSERT INTO grading_imports (import_id, imported_by, rows, imported, already_known)"
        " VALUES ($1, $2, $3, 0, 0)", import_id, imported_by, rows)
    inserted = await c.fetchval(
        "WITH added AS ("
        " INSERT INTO historical_gradings (import_id, row_number, real_name, id_number_hash, id_number_masked,"
        " talent_class, level, graded_on)"
        " SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],"
        " $8::date[])"
        " ON CONFLICT (id_number_hash, graded_on, talent_class, level) DO NOTHING RETURNING 1)"
        " SELECT count(*) FROM added",
        import_id, [g.row for g in gradings], [g.real_name for g in gradings],
        [g.id_number_hash for g in gradings], [g.id_number_masked for g in gradings],
        [g.talent_class for g in gradings], [g.level for g in gradings], [g.graded_on for g in gradings])
    return await c.fetchrow(
        "UPDATE grading_imports SET imported = $2, already_known = $3 WHERE import_id = $1 RETURNING *",
        import_id, inserted, len(gradings) - inserted)


async def list_grading_imports(c: Connection, limit: int = 50) -> list[Record]:
    return await c.fetch("SELECT * FROM grading_imports ORDER BY imported_at DESC LIMIT $1", limit)
