"""SQL of the projections kept from other services' events: bindings, units, persons and gradings.

Every write is safe to repeat and to apply out of order. A binding's request, approval and ending
are separate columns that only fill once, so a late event cannot revive an ended binding. A unit keeps
the highest profile version it saw, and a grading is keyed by its result id.
"""

from datetime import datetime

import asyncpg

from .eligibility import BoundUnit, Grading

Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy


# Bindings

async def request_binding(c: Connection, binding_id: str, person_id: str, uscc: str, unit_name: str | None,
                          requested_at: datetime) -> None:
    await c.execute(
        "INSERT INTO bindings (binding_id, person_id, uscc, unit_name, requested_at) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (binding_id) DO UPDATE SET unit_name = coalesce(bindings.unit_name, EXCLUDED.unit_name),"
        " requested_at = coalesce(bindings.requested_at, EXCLUDED.requested_at)",
        binding_id, person_id, uscc, unit_name, requested_at)


async def approve_binding(c: Connection, binding_id: str, person_id: str, uscc: str, unit_name: str,
                          approved_at: datetime) -> None:
    await c.execute(
        "INSERT INTO bindings (binding_id, person_id, uscc, unit_name, approved_at)"
        " VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (binding_id) DO UPDATE SET unit_name = EXCLUDED.unit_name,"
        " approved_at = coalesce(bindings.approved_at, EXCLUDED.approved_at)",
        binding_id, person_id, uscc, unit_name, approved_at)


async def end_binding(c: Connection, binding_id: str, person_id: str, uscc: str, ended_at: datetime) -> None:
    await c.execute(
        "INSERT INTO bindings (binding_id, person_id, uscc, ended_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (binding_id) DO UPDATE SET ended_at = coalesce(bindings.ended_at, EXCLUDED.ended_at)",
        binding_id, person_id, uscc, ended_at)


# How long a binding that the binding service is about to end stops counting as bound. The
# binding.unbound event normally arrives within a second; the binding counts again after this time
# when the unbinding did not happen.
UNBINDING_HOLD = "10 minutes"
_NOT_BEING_UNBOUND = f"(unbinding_checked_at IS NULL OR unbinding_checked_at < now() - interval '{UNBINDING_HOLD}')"


async def mark_unbinding_checked(c: Connection, binding_id: str, person_id: str, uscc: str) -> None:
    await c.execute(
        "INSERT INTO bindings (binding_id, person_id, uscc, unbinding_checked_at) VALUES ($1, $2, $3, now())"
        " ON CONFLICT (binding_id) DO UPDATE SET unbinding_checked_at = now()",
        binding_id, person_id, uscc)


async def current_binding(c: Connection, person_id: str) -> BoundUnit | None:
    """Return the person's approved binding, else their pending request, else None.

    The 统一社会信用代码 is returned in place of a unit name that no event has carried yet.
    """
    row = await c.fetchrow(
        "SELECT uscc, coalesce(unit_name, uscc) AS unit_name, approved_at IS NOT NULL AS approved"
        f" FROM bindings WHERE person_id = $1 AND ended_at IS NULL AND {_NOT_BEING_UNBOUND}"
        " AND (approved_at IS NOT NULL OR requested_at IS NOT NULL)"
        " ORDER BY approved_at IS NOT NULL DESC, coalesce(approved_at, requested_at) DESC LIMIT 1", person_id)
    return BoundUnit(row["uscc"], row["unit_name"], row["approved"]) if row else None


async def repoint_drafts(c: Connection, person_id: str) -> int:
    """Move the person's drafts to the unit of their approved binding; return how many moved.

    A draft is not reviewed yet, so it follows the person's binding until it is submitted.
    """
    result = await c.execute(
        "UPDATE applications a SET uscc = b.uscc, unit_name = b.unit_name, unit_nature = u.unit_nature,"
        " updated_at = now()"
        " FROM (SELECT uscc, unit_name FROM bindings WHERE person_id = $1 AND approved_at IS NOT NULL"
        f"       AND ended_at IS NULL AND {_NOT_BEING_UNBOUND} ORDER BY approved_at DESC LIMIT 1) b"
        " LEFT JOIN units u ON u.uscc = b.uscc"
        " WHERE a.person_id = $1 AND a.status = 'draft'"
        " AND (a.uscc <> b.uscc OR a.unit_nature IS DISTINCT FROM u.unit_nature)",
        person_id)
    return int(result.split()[-1])


# Units (人才分类定级报送信息)

async def save_unit_profile(c: Connection, uscc: str, unit_name: str, unit_nature: str | None, complete: bool,
                            version: int, updated_at: datetime) -> bool:
    """Keep the newest profile by (version, updated_at); return False when the event was older."""
    saved = await c.fetchval(
        "INSERT INTO units (uscc, unit_name, unit_nature, complete, version, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (uscc) DO UPDATE SET unit_name = EXCLUDED.unit_name,"
        " unit_nature = EXCLUDED.unit_nature, complete = EXCLUDED.complete, version = EXCLUDED.version,"
        " updated_at = EXCLUDED.updated_at"
        " WHERE (units.version, units.updated_at) < (EXCLUDED.version, EXCLUDED.updated_at)"
        " RETURNING true",
        uscc, unit_name, unit_nature, complete, version, updated_at)
    return bool(saved)


async def update_draft_unit_nature(c: Connection, uscc: str, unit_nature: str | None) -> None:
    await c.execute(
        "UPDATE applications SET unit_nature = $2, updated_at = now()"
        " WHERE uscc = $1 AND status = 'draft' AND unit_nature IS DISTINCT FROM $2", uscc, unit_nature)


async def get_unit(c: Connection, uscc: str) -> asyncpg.Record | None:
    return await c.fetchrow("SELECT * FROM units WHERE uscc = $1", uscc)


# Persons and gradings

async def record_person(c: Connection, person_id: str, real_name: str | None, id_number_hash: str | None,
                        registered_at: datetime) -> None:
    await c.execute(
        "INSERT INTO persons (person_id, real_name, id_number_hash, registered_at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (person_id) DO UPDATE SET real_name = coalesce(EXCLUDED.real_name, persons.real_name),"
        " id_number_hash = coalesce(EXCLUDED.id_number_hash, persons.id_number_hash)",
        person_id, real_name, id_number_hash, registered_at)


async def record_grading(c: Connection, result_id: str, person_id: str, application_id: str,
                         talent_class: str | None, level: int | None, recorded_at: datetime) -> None:
    await c.execute(
        "INSERT INTO gradings (result_id, person_id, application_id, talent_class, level, recorded_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (result_id) DO NOTHING",
        result_id, person_id, application_id, talent_class, level, recorded_at)


async def last_grading(c: Connection, person_id: str) -> Grading | None:
    """Return the person's latest grading from the platform's results or from imported lists.

    A result's date is its calendar day in Beijing time.
    """
    row = await c.fetchrow(
        "SELECT graded_on, talent_class, level FROM ("
        "  SELECT (recorded_at AT TIME ZONE 'Asia/Shanghai')::date AS graded_on, talent_class, level"
        "  FROM gradings WHERE person_id = $1"
        "  UNION ALL"
        "  SELECT h.graded_on, h.talent_class, h.level FROM historical_gradings h"
        "  JOIN persons p ON p.id_number_hash = h.id_number_hash WHERE p.person_id = $1"
        ") found ORDER BY graded_on DESC, talent_class LIMIT 1", person_id)
    return Grading(row["graded_on"], row["talent_class"], row["level"]) if row else None

