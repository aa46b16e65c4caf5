"""Accounts: users with their person, unit or staff details."""

import uuid
from datetime import datetime

import asyncpg

# Every account column, whatever the kind; the person, unit or staff columns are NULL for other kinds.
_ACCOUNT = """
    SELECT u.id, u.kind, u.role, u.display_name, u.password_hash, u.created_at, u.first_signed_in_at,
           p.mobile, p.id_number_encrypted, p.id_number_masked, p.data_key_id,
           n.uscc, n.unit_name, n.contact_name, n.contact_mobile, s.account
    FROM users u
    LEFT JOIN persons p ON p.user_id = u.id
    LEFT JOIN units n ON n.user_id = u.id
    LEFT JOIN staff s ON s.user_id = u.id
"""


async def mobile_has_account(connection: asyncpg.Connection, mobile: str) -> bool:
    """True if a person signs in with `mobile` or a unit names it as its contact mobile."""
    return await connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM persons WHERE mobile = $1)"
        " OR EXISTS (SELECT 1 FROM units WHERE contact_mobile = $1)", mobile)


async def mobile_recognised_at(connection: asyncpg.Connection, mobile: str, address_hash: bytes,
                                since: datetime) -> bool:
    """True if an account with `mobile` (a person's, or a unit's contact mobile) signed in from the address
    after `since`."""
    return await connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM recognised_addresses r"
        " WHERE r.address_hash = $2 AND r.last_signed_in_at > $3 AND r.user_id IN ("
        "  SELECT user_id FROM persons WHERE mobile = $1"
        "  UNION ALL SELECT user_id FROM units WHERE contact_mobile = $1))",
        mobile, address_hash, since)


async def person_mobile_taken(connection: asyncpg.Connection, mobile: str) -> bool:
    return await connection.fetchval("SELECT EXISTS (SELECT 1 FROM persons WHERE mobile = $1)", mobile)


async def id_number_taken(connection: asyncpg.Connection, id_number_hashes: list[bytes]) -> bool:
    return await connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM persons WHERE id_number_hash = ANY($1::bytea[]))", id_number_hashes)


async def uscc_taken(connection: asyncpg.Connection, uscc: str) -> bool:
    return await connection.fetchval("SELECT EXISTS (SELECT 1 FROM units WHERE uscc = $1)", uscc)


async def staff_account_taken(connection: asyncpg.Connection, account: str) -> bool:
    return await connection.fetchval("SELECT EXISTS (SELECT 1 FROM staff WHERE account = $1)", account)


async def staff_password_hash(connection: asyncpg.Connection, account: str) -> str | None:
    return await connection.fetchval(
        "SELECT u.password_hash FROM staff s JOIN users u ON u.id = s.user_id WHERE s.account = $1", account)


async def set_staff_password_hash(connection: asyncpg.Connection, account: str, password_hash: str) -> None:
    await connection.execute(
        "UPDATE users SET password_hash = $2 FROM staff s WHERE s.user_id = users.id AND s.account = $1",
        account, password_hash)


async def set_password_hash(connection: asyncpg.Connection, user_id: uuid.UUID, password_hash: str) -> None:
    await connection.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)


async def replace_password_hash(connection: asyncpg.Connection, user_id: uuid.UUID, old_hash: str,
                                new_hash: str) -> None:
    """Store a re-hash of the same password, unless the password changed meanwhile."""
    await connection.execute("UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
                             user_id, old_hash, new_hash)


async def insert_user(connection: asyncpg.Connection, user_id: uuid.UUID, kind: str, role: str,
                      display_name: str, password_hash: str, now: datetime) -> None:
    await connection.execute(
        "INSERT INTO users (id, kind, role, display_name, password_hash, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        user_id, kind, role, display_name, password_hash, now)


async def insert_person(connection: asyncpg.Connection, user_id: uuid.UUID, mobile: str,
                        id_number_encrypted: bytes, id_number_hash: bytes, id_number_masked: str,
                        data_key_id: str) -> None:
    await connection.execute(
        "INSERT INTO persons"
        " (user_id, mobile, id_number_encrypted, id_number_hash, id_number_masked, data_key_id)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        user_id, mobile, id_number_encrypted, id_number_hash, id_number_masked, data_key_id)


async def insert_unit(connection: asyncpg.Connection, user_id: uuid.UUID, uscc: str, unit_name: str,
                      contact_name: str, contact_mobile: str) -> None:
    await connection.execute(
        "INSERT INTO units (user_id, uscc, unit_name, contact_name, contact_mobile)"
        " VALUES ($1, $2, $3, $4, $5)",
        user_id, uscc, unit_name, contact_name, contact_mobile)


async def unit_by_uscc(connection: asyncpg.Connection, uscc: str) -> asyncpg.Record | None:
    return await connection.fetchrow(
        "SELECT user_id, uscc, unit_name, contact_name, contact_mobile FROM units WHERE uscc = $1", uscc)


async def set_unit_contact(connection: asyncpg.Connection, user_id: uuid.UUID, contact_name: str,
                           contact_mobile: str) -> None:
    await connection.execute("UPDATE units SET contact_name = $2, contact_mobile = $3 WHERE user_id = $1",
                             user_id, contact_name, contact_mobile)


async def insert_staff(connection: asyncpg.Connection, user_id: uuid.UUID, account: str,
                       created_by: uuid.UUID | None) -> None:
    await connection.execute("INSERT INTO staff (user_id, account, created_by) VALUES ($1, $2, $3)",
                             user_id, account, created_by)


async def find_account_by_sign_in_name(connection: asyncpg.Connection, mobile: str,
                                       id_number_hashes: list[bytes], uscc: str,
                                       staff_account: str) -> asyncpg.Record | None:
    """Find the account a sign-in name belongs to, trying persons first, then units, then staff."""
    return await connection.fetchrow(_ACCOUNT + """
        WHERE u.id = (
            SELECT user_id FROM (
                SELECT user_id, 0 AS rank FROM persons WHERE mobile = $1
                UNION ALL SELECT user_id, 0 FROM persons WHERE id_number_hash = ANY($2::bytea[])
                UNION ALL SELECT user_id, 1 FROM units WHERE uscc = $3
                UNION ALL SELECT user_id, 2 FROM staff WHERE account = $4
            ) AS matches ORDER BY rank LIMIT 1)
        """, mobile, id_number_hashes, uscc, staff_account)


async def account_by_id(connection: asyncpg.Connection, user_id: uuid.UUID) -> asyncpg.Record | None:
    return await connection.fetchrow(_ACCOUNT + " WHERE u.id = $1", user_id)


async def person_by_mobile(connection: asyncpg.Connection, mobile: str) -> asyncpg.Record | None:
    return await connection.fetchrow(_ACCOUNT + " WHERE p.mobile = $1", mobile)


async def units_by_contact_mobile(connection: asyncpg.Connection, mobile: str,
                                  uscc: str | None) -> list[asyncpg.Record]:
    """Units whose contact mobile is `mobile`, only the one with credit code `uscc` when it is given."""
    return await connection.fetch(_ACCOUNT + " WHERE n.contact_mobile = $1 AND ($2::text IS NULL OR n.uscc = $2)"
                                  " ORDER BY n.uscc", mobile, uscc)


async def mark_first_sign_in(connection: asyncpg.Connection, user_id: uuid.UUID, now: datetime) -> bool:
    """Record the first sign-in time; False if one was already recorded."""
    updated = await connection.fetchval(
        "UPDATE users SET first_signed_in_at = $2 WHERE id = $1 AND first_signed_in_at IS NULL"
        " RETURNING true",
        user_id, now)
    return bool(updated)


async def staff_member(connection: asyncpg.Connection, user_id: uuid.UUID) -> asyncpg.Record | None:
    """A staff account with its role, locked until the transaction ends; None for other kinds."""
    return await connection.fetchrow(
        "SELECT u.id, u.role, u.display_name, s.account FROM users u JOIN staff s ON s.user_id = u.id"
        " WHERE u.id = $1 FOR UPDATE OF u", user_id)


async def list_staff(connection: asyncpg.Connection) -> list[asyncpg.Record]:
    return await connection.fetch(
        "SELECT u.id, u.role, u.display_name, u.created_at, s.account FROM users u"
        " JOIN staff s ON s.user_id = u.id ORDER BY s.account")


async def set_role(connection: asyncpg.Connection, user_id: uuid.UUID, role: str) -> None:
    await connection.execute("UPDATE users SET role = $2 WHERE id = $1", user_id, role)


async def count_admins(connection: asyncpg.Connection) -> int:
    return await connection.fetchval("SELECT count(*) FROM users WHERE role = 'admin'")


async def user_exists(connection: asyncpg.Connection, user_id: uuid.UUID) -> bool:
    return await connection.fetchval("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)", user_id)


# Re-encryption under a new data key

async def persons_under_keys(connection: asyncpg.Connection, key_ids: list[str],
                             limit: int) -> list[asyncpg.Record]:
    """Persons whose ID number is encrypted under one of the data keys `key_ids`, locked."""
    return await connection.fetch(
        "SELECT user_id, id_number_encrypted, data_key_id FROM persons WHERE data_key_id = ANY($1::text[])"
        " ORDER BY user_id LIMIT $2 FOR UPDATE SKIP LOCKED", key_ids, limit)


async def count_persons_under_other_keys(connection: asyncpg.Connection, current_key_id: str) -> int:
    return await connection.fetchval("SELECT count(*) FROM persons WHERE data_key_id <> $1", current_key_id)


async def update_person_encryption(connection: asyncpg.Connection, user_id: uuid.UUID, encrypted: bytes,
                                   id_number_hash: bytes, data_key_id: str) -> None:
    await connection.execute(
        "UPDATE persons SET id_number_encrypted = $2, id_number_hash = $3, data_key_id = $4 WHERE user_id = $1",
        user_id, encrypted, id_number_hash, data_key_id)
