"""SQL of the application service; the pool's search_path is the service's schema."""

import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _loads(value: str | None) -> Any:
    return json.loads(value) if value is not None else None


# Calls

async def insert_call(c: Connection, title: str, body: str, classes: list[str], opens_at: datetime,
                      closes_at: datetime, created_by: str) -> asyncpg.Record:
    return await c.fetchrow(
        "INSERT INTO calls (call_id, title, body, classes, opens_at, closes_at, created_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        uuid.uuid4(), title, body, classes, opens_at, closes_at, created_by)


async def get_call(c: Connection, call_id: uuid.UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await c.fetchrow(f"SELECT * FROM calls WHERE call_id = $1{lock}", call_id)


async def set_call_status(c: Connection, call_id: uuid.UUID, status: str) -> asyncpg.Record:
    column = {"published": "published_at", "closed": "closed_at"}[status]
    return await c.fetchrow(
        f"UPDATE calls SET status = $2, {column} = now() WHERE call_id = $1 RETURNING *", call_id, status)


async def list_calls(c: Connection, *, published_only: bool,
                     open_at: datetime | None) -> list[asyncpg.Record]:
    conditions, args = [], []
    if published_only or open_at is not None:
        conditions.append("status = 'published'")
    if open_at is not None:
        args.append(open_at)
        conditions.append("opens_at <= $1 AND closes_at > $1")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return await c.fetch(f"SELECT * FROM calls{where} ORDER BY opens_at DESC, created_at DESC", *args)


# Applications

async def insert_application(c: Connection, call_id: uuid.UUID, person_id: str, person_name: str,
                             id_number_masked: str | None, binding: asyncpg.Record,
                             unit_nature: str | None) -> asyncpg.Record:
    return await c.fetchrow(
        "INSERT INTO applications (application_id, call_id, person_id, person_name, id_number_masked,"
        " uscc, unit_name, unit_nature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
        uuid.uuid4(), call_id, person_id, person_name, id_number_masked, binding["uscc"],
        binding["unit_name"], unit_nature)


async def find_application(c: Connection, person_id: str, call_id: uuid.UUID) -> uuid.UUID | None:
    return await c.fetchval(
        "SELECT application_id FROM applications WHERE person_id = $1 AND call_id = $2", person_id, call_id)


_APPLICATION = ("SELECT a.*, c.title AS call_title, c.classes AS call_classes, c.status AS call_status,"
                " c.opens_at AS call_opens_at, c.closes_at AS call_closes_at"
                " FROM applications a JOIN calls c USING (call_id)")


async def get_application(c: Connection, application_id: uuid.UUID, *,
                          for_update: bool = False) -> asyncpg.Record | None:
    lock = " FOR UPDATE OF a" if for_update else ""
    return await c.fetchrow(f"{_APPLICATION} WHERE a.application_id = $1{lock}", application_id)


async def list_applications(c: Connection, person_id: str) -> list[asyncpg.Record]:
    return await c.fetch(f"{_APPLICATION} WHERE a.person_id = $1 ORDER BY a.created_at DESC", person_id)


async def set_unit_nature(c: Connection, application_id: uuid.UUID, unit_nature: str | None) -> None:
    await c.execute("UPDATE applications SET unit_nature = $2, updated_at = now() WHERE application_id = $1",
                    application_id, unit_nature)


async def lock_person_submissions(c: Connection, person_id: str) -> None:
    """Serialise a person's submissions with the checks that their binding may end, until the transaction ends."""
    await c.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"application.person:{person_id}")


async def count_under_review(c: Connection, person_id: str, uscc: str) -> int:
    """Count the person's applications submitted through the unit and still under review (已申报 or 被退回)."""
    return await c.fetchval(
        "SELECT count(*) FROM applications WHERE person_id = $1 AND uscc = $2 AND status IN ('submitted', 'returned')",
        person_id, uscc)


async def mark_submitted(c: Connection, application_id: uuid.UUID, version: int, submitted_at: datetime,
                         pending_stage: str) -> None:
    """Set the status after a submission; a return notice is cleared, its flow node stays."""
    await c.execute(
        "UPDATE applications SET status = 'submitted', snapshot_version = $2, submitted_at = $3,"
        " pending_stage = $4, returned_stage = NULL, return_opinion = NULL, returned_modules = '{}',"
        " updated_at = now() WHERE application_id = $1",
        application_id, version, submitted_at, pending_stage)


async def apply_review(c: Connection, application_id: uuid.UUID, status: str,
                       pending_stage: str | None) -> None:
    await c.execute(
        "UPDATE applications SET status = $2, pending_stage = $3, updated_at = now()"
        " WHERE application_id = $1",
        application_id, status, pending_stage)


async def mark_returned(c: Connection, application_id: uuid.UUID, stage: str, opinion: str | None,
                        modules: list[str]) -> None:
    await c.execute(
        "UPDATE applications SET returned_stage = $2, return_opinion = $3, returned_modules = $4,"
        " updated_at = now() WHERE application_id = $1",
        application_id, stage, opinion, modules)


async def store_result(c: Connection, application_id: uuid.UUID, result: dict[str, Any]) -> None:
    await c.execute(
        "UPDATE applications SET result = $2::jsonb, pending_stage = NULL, updated_at = now()"
        " WHERE application_id = $1", application_id, _json(result))


# Modules

async def get_modules(c: Connection, application_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await c.fetch(
        "SELECT module, version, content::text AS content, updated_at FROM modules"
        " WHERE application_id = $1 ORDER BY module", application_id)
    return [{**row, "content": _loads(row["content"])} for row in rows]


async def get_module(c: Connection, application_id: uuid.UUID, module: str) -> dict[str, Any] | None:
    row = await c.fetchrow(
        "SELECT module, version, content::text AS content, request_hash, updated_at FROM modules"
        " WHERE application_id = $1 AND module = $2", application_id, module)
    return {**row, "content": _loads(row["content"])} if row else None


async def save_module(c: Connection, application_id: uuid.UUID, module: str, content: Any,
                      request_hash: str | None) -> asyncpg.Record:
    return await c.fetchrow(
        "INSERT INTO modules (application_id, module, content, version, request_hash)"
        " VALUES ($1, $2, $3::jsonb, 1, $4)"
        " ON CONFLICT (application_id, module) DO UPDATE SET content = EXCLUDED.content,"
        " version = modules.version + 1, request_hash = EXCLUDED.request_hash, updated_at = now()"
        " RETURNING module, version, updated_at",
        application_id, module, _json(content), request_hash)


async def replace_module_content(c: Connection, application_id: uuid.UUID, module: str, content: Any) -> None:
    """Overwrite a module's content with server-side values, keeping its version."""
    await c.execute(
        "UPDATE modules SET content = $3::jsonb, request_hash = NULL, updated_at = now()"
        " WHERE application_id = $1 AND module = $2", application_id, module, _json(content))


# Snapshots and flow nodes

async def insert_snapshot(c: Connection, application_id: uuid.UUID, version: int, header: dict[str, Any],
                          modules: dict[str, Any], files: list[dict[str, Any]], changed: list[str] | None,
                          changes: list[dict[str, Any]] | None, submitted_at: datetime) -> None:
    await c.execute(
        "INSERT INTO snapshots (application_id, version, header, modules, files, changed_modules, changes,"
        " submitted_at) VALUES ($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, $6, $7::jsonb, $8)",
        application_id, version, _json(header), _json(modules), _json(files), changed,
        None if changes is None else _json(changes), submitted_at)


async def get_snapshot(c: Connection, application_id: uuid.UUID, version: int) -> dict[str, Any] | None:
    row = await c.fetchrow(
        "SELECT version, header::text AS header, modules::text AS modules, files::text AS files, changed_modules,"
        " changes::text AS changes, submitted_at FROM snapshots WHERE application_id = $1 AND version = $2",
        application_id, version)
    if row is None:
        return None
    return {**row, **{name: _loads(row[name]) for name in ("header", "modules", "files", "changes")}}


async def add_flow_node(c: Connection, application_id: uuid.UUID, node: str, actor: str, action: str,
                        opinion: str | None, at: datetime) -> None:
    await c.execute(
        "INSERT INTO flow_nodes (application_id, node, actor, action, opinion, at)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        application_id, node, actor, action, opinion, at)


async def list_flow_nodes(c: Connection, application_id: uuid.UUID) -> list[asyncpg.Record]:
    return await c.fetch("SELECT * FROM flow_nodes WHERE application_id = $1 ORDER BY at, node_id",
                         application_id)
