"""SQL of the review service (schema `review`)."""

import json
import uuid
from uuid import UUID

import asyncpg

from .schemas import ApplicationSubmitted

_TASK_COLUMNS = """id, application_id, stage, status, call_id, person_id, person_name, id_number_masked,
    uscc, unit_name, talent_class, level, snapshot_version, submitted_at, created_at, decision, opinion,
    modules, reviewer_id, reviewer_name, decided_at, changed_modules"""


async def open_task(connection: asyncpg.Connection, application: ApplicationSubmitted, stage: str
                    ) -> UUID | None:
    """Insert a pending task; return its id, or None when the application already has one pending."""
    return await connection.fetchval(
        """INSERT INTO tasks (id, application_id, stage, call_id, person_id, person_name, id_number_masked,
                uscc, unit_name, talent_class, level, snapshot_version, snapshot, submitted_at, changed_modules,
                changes)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15, $16::jsonb)
            ON CONFLICT (application_id) WHERE status = 'pending' DO NOTHING
            RETURNING id""",
        uuid.uuid4(), application.application_id, stage, application.call_id, application.person_id,
        application.person_name, application.id_number_masked, application.uscc, application.unit_name,
        application.talent_class, application.level, application.snapshot_version,
        json.dumps(application.snapshot, ensure_ascii=False), application.submitted_at,
        application.changed_modules, json.dumps(application.changes, ensure_ascii=False))


async def open_next_task(connection: asyncpg.Connection, previous: UUID, stage: str) -> UUID:
    """Insert a pending task at `stage` that carries over the application data of task `previous`, including
    the changes of the snapshot against its previous version."""
    return await connection.fetchval(
        """INSERT INTO tasks (id, application_id, stage, call_id, person_id, person_name, id_number_masked,
                uscc, unit_name, talent_class, level, snapshot_version, snapshot, submitted_at, changed_modules,
                changes)
           SELECT $1, application_id, $2, call_id, person_id, person_name, id_number_masked, uscc,
                  unit_name, talent_class, level, snapshot_version, snapshot, submitted_at, changed_modules,
                  changes
           FROM tasks WHERE id = $3
           RETURNING id""",
        uuid.uuid4(), stage, previous)


async def latest_task(connection: asyncpg.Connection, application_id: UUID) -> asyncpg.Record | None:
    return await connection.fetchrow(
        f"SELECT {_TASK_COLUMNS} FROM tasks WHERE application_id = $1 ORDER BY created_at DESC LIMIT 1",
        application_id)


async def list_tasks(connection: asyncpg.Connection, stage: str, status: str, uscc: str | None,
                     limit: int, offset: int) -> list[asyncpg.Record]:
    """List tasks of one stage and status, oldest first; `uscc` narrows to one unit when given."""
    return await connection.fetch(
        f"""SELECT {_TASK_COLUMNS} FROM tasks
            WHERE stage = $1 AND status = $2 AND ($3::text IS NULL OR uscc = $3)
            ORDER BY created_at, id LIMIT $4 OFFSET $5""",
        stage, status, uscc, limit, offset)


async def get_task(connection: asyncpg.Connection, task_id: UUID, *, for_update: bool = False
                   ) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await connection.fetchrow(f"SELECT {_TASK_COLUMNS}, snapshot::text AS snapshot, changes::text AS changes"
                                    f" FROM tasks WHERE id = $1{lock}", task_id)
    return row


async def decide_task(connection: asyncpg.Connection, task_id: UUID, decision: str, opinion: str | None,
                      modules: list[str], reviewer_id: str, reviewer_name: str) -> asyncpg.Record:
    return await connection.fetchrow(
        f"""UPDATE tasks SET status = 'done', decision = $2, opinion = $3, modules = $4, reviewer_id = $5,
                reviewer_name = $6, decided_at = now()
            WHERE id = $1 AND status = 'pending'
            RETURNING {_TASK_COLUMNS}""",
        task_id, decision, opinion, modules, reviewer_id, reviewer_name)


async def material_approval(connection: asyncpg.Connection, application_id: UUID) -> asyncpg.Record | None:
    """Return the approved department task of an application, if its material was approved."""
    return await connection.fetchrow(
        f"""SELECT {_TASK_COLUMNS} FROM tasks
            WHERE application_id = $1 AND stage = 'department' AND decision = 'approve'
            ORDER BY decided_at DESC LIMIT 1""",
        application_id)


async def result_types(connection: asyncpg.Connection) -> list[asyncpg.Record]:
    return await connection.fetch(
        "SELECT code, label_zh, label_en, passing, grade_rule FROM result_types ORDER BY position")


async def result_type(connection: asyncpg.Connection, code: str) -> asyncpg.Record | None:
    return await connection.fetchrow(
        "SELECT code, label_zh, label_en, passing, grade_rule FROM result_types WHERE code = $1", code)


async def result_of(connection: asyncpg.Connection, application_id: UUID) -> asyncpg.Record | None:
    return await connection.fetchrow(
        "SELECT id, recorded_at FROM results WHERE application_id = $1", application_id)


async def insert_result(connection: asyncpg.Connection, application_id: UUID, result: str, talent_class: str,
                        level: int, recorded_by: str, recorder_name: str) -> asyncpg.Record | None:
    """Insert the result of an application; return None when it already has one."""
    return await connection.fetchrow(
        """INSERT INTO results (id, application_id, result, talent_class, level, recorded_by, recorder_name)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (application_id) DO NOTHING
           RETURNING id, recorded_at""",
        uuid.uuid4(), application_id, result, talent_class, level, recorded_by, recorder_name)


async def lock_application(connection: asyncpg.Connection, application_id: UUID) -> None:
    """Serialize writers of one application until the end of the transaction."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtext('review:' || $1::uuid::text))",
                             application_id)

