"""SQL of the identity schema (the pool's search_path), one function per statement or look-up."""

import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg

# Every account column, whatever the kind; the person, unit or staff columns are NULL for other kinds.
_ACCOUNT = """
    SELECT u.id, u.kind, u.role, u.display_name, u.password_hash, u.created_at, u.first_signed_in_at,
           p.mobile, p.id_number_encrypted, p.id_number_masked,
           n.uscc, n.unit_name, n.contact_name, n.contact_mobile, s.account
    FROM users u
    LEFT JOIN persons p ON p.user_id = u.id
    LEFT JOIN units n ON n.user_id = u.id
    LEFT JOIN staff s ON s.user_id = u.id
"""


# Captchas

async def insert_captcha(connection: asyncpg.Connection, captcha_id: uuid.UUID, answer_hash: bytes,
                         dev_answer: str | None, now: datetime, expires_at: datetime) -> None:
    await connection.execute(
        "INSERT INTO captchas (id, answer_hash, dev_answer, created_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        captcha_id, answer_hash, dev_answer, now, expires_at)


async def delete_captchas_expired_before(connection: asyncpg.Connection, before: datetime) -> None:
    await connection.execute("DELETE FROM captchas WHERE expires_at < $1", before)


async def consume_captcha(connection: asyncpg.Connection, captcha_id: uuid.UUID,
                          now: datetime) -> asyncpg.Record | None:
    """Mark an unused captcha used and return its answer hash and expiry; None if unknown or used."""
    return await connection.fetchrow(
        "UPDATE captchas SET used_at = $2 WHERE id = $1 AND used_at IS NULL"
        " RETURNING answer_hash, expires_at",
        captcha_id, now)


async def dev_captcha_answer(connection: asyncpg.Connection, captcha_id: uuid.UUID) -> str | None:
    return await connection.fetchval("SELECT dev_answer FROM captchas WHERE id = $1", captcha_id)


# SMS codes

async def lock_mobile(connection: asyncpg.Connection, mobile_hash: bytes) -> None:
    """Serialise code requests for one mobile until the transaction ends."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                             "identity.sms:" + mobile_hash.hex())


async def last_sms_sent_at(connection: asyncpg.Connection, mobile_hash: bytes) -> datetime | None:
    return await connection.fetchval("SELECT max(created_at) FROM sms_codes WHERE mobile_hash = $1",
                                     mobile_hash)


async def insert_sms_code(connection: asyncpg.Connection, mobile_hash: bytes, purpose: str, code_hash: bytes,
                          now: datetime, expires_at: datetime) -> None:
    await connection.execute(
        "INSERT INTO sms_codes (id, mobile_hash, purpose, code_hash, created_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)", uuid.uuid4(), mobile_hash, purpose, code_hash, now, expires_at)


async def latest_sms_code(connection: asyncpg.Connection, mobile_hash: bytes,
                          purpose: str) -> asyncpg.Record | None:
    return await connection.fetchrow(
        "SELECT id, code_hash, expires_at, used_at, failed_attempts FROM sms_codes"
        " WHERE mobile_hash = $1 AND purpose = $2 ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
        mobile_hash, purpose)


async def count_sms_code_failure(connection: asyncpg.Connection, code_id: uuid.UUID) -> None:
    await connection.execute("UPDATE sms_codes SET failed_attempts = failed_attempts + 1 WHERE id = $1",
                             code_id)


async def mark_sms_code_used(connection: asyncpg.Connection, code_id: uuid.UUID, now: datetime) -> None:
    await connection.execute("UPDATE sms_codes SET used_at = $2 WHERE id = $1", code_id, now)


async def insert_dev_sms(connection: asyncpg.Connection, mobile: str, code: str, purpose: str,
                         now: datetime) -> None:
    await connection.execute(
        "INSERT INTO dev_sms_messages (mobile, purpose, code, sent_at) VALUES ($1, $2, $3, $4)",
        mobile, purpose, code, now)


async def dev_sms_messages(connection: asyncpg.Connection, mobile: str) -> list[asyncpg.Record]:
    return await connection.fetch(
        "SELECT code, purpose, sent_at FROM dev_sms_messages WHERE mobile = $1"
        " ORDER BY sent_at DESC, id DESC LIMIT 20",
        mobile)


# Accounts

async def mobile_has_account(connection: asyncpg.Connection, mobile: str) -> bool:
    """True if a person signs in with `mobile` or a unit names it as its contact mobile."""
    return await connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM persons WHERE mobile = $1)"
        " OR EXISTS (SELECT 1 FROM units WHERE contact_mobile = $1)", mobile)


async def person_mobile_taken(connection: asyncpg.Connection, mobile: str) -> bool:
    return await connection.fetchval("SELECT EXISTS (SELECT 1 FROM persons WHERE mobile = $1)", mobile)


async def id_number_taken(connection: asyncpg.Connection, id_number_hash: bytes) -> bool:
    return await connection.fetchval("SELECT EXISTS (SELECT 1 FROM persons WHERE id_number_hash = $1)",
                                     id_number_hash)


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


async def insert_staff(connection: asyncpg.Connection, user_id: uuid.UUID, account: str,
                       created_by: uuid.UUID | None) -> None:
    await connection.execute("INSERT INTO staff (user_id, account, created_by) VALUES ($1, $2, $3)",
                             user_id, account, created_by)


async def find_account_by_sign_in_name(connection: asyncpg.Connection, mobile: str, id_number_hash: bytes,
                                       uscc: str, staff_account: str) -> asyncpg.Record | None:
    """Find the account a sign-in name belongs to, trying persons first, then units, then staff."""
    return await connection.fetchrow(_ACCOUNT + """
        WHERE u.id = (
            SELECT user_id FROM (
                SELECT user_id, 0 AS rank FROM persons WHERE mobile = $1
                UNION ALL SELECT user_id, 0 FROM persons WHERE id_number_hash = $2
                UNION ALL SELECT user_id, 1 FROM units WHERE uscc = $3
                UNION ALL SELECT user_id, 2 FROM staff WHERE account = $4
            ) AS matches ORDER BY rank LIMIT 1)
        """, mobile, id_number_hash, uscc, staff_account)


async def account_by_id(connection: asyncpg.Connection, user_id: uuid.UUID) -> asyncpg.Record | None:
    return await connection.fetchrow(_ACCOUNT + " WHERE u.id = $1", user_id)


async def mark_first_sign_in(connection: asyncpg.Connection, user_id: uuid.UUID, now: datetime) -> bool:
    """Record the first sign-in time; False if one was already recorded."""
    updated = await connection.fetchval(
        "UPDATE users SET first_signed_in_at = $2 WHERE id = $1 AND first_signed_in_at IS NULL"
        " RETURNING true",
        user_id, now)
    return bool(updated)


# Sessions and refresh tokens

async def insert_session(connection: asyncpg.Connection, session_id: uuid.UUID, user_id: uuid.UUID,
                         now: datetime, expires_at: datetime, access_expires_at: datetime) -> None:
    await connection.execute(
        "INSERT INTO sessions (id, user_id, created_at, expires_at, access_expires_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        session_id, user_id, now, expires_at, access_expires_at)


async def insert_refresh_token(connection: asyncpg.Connection, token_hash: bytes, session_id: uuid.UUID,
                               now: datetime) -> None:
    await connection.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)",
        token_hash, session_id, now)


async def refresh_token_for_update(connection: asyncpg.Connection,
                                   token_hash: bytes) -> asyncpg.Record | None:
    """Lock a refresh token and its session; return both, or None for an unknown token."""
    return await connection.fetchrow(
        "SELECT t.session_id, t.used_at, s.user_id, s.expires_at, s.revoked_at"
        " FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id"
        " WHERE t.token_hash = $1 FOR UPDATE", token_hash)


async def mark_refresh_token_used(connection: asyncpg.Connection, token_hash: bytes, now: datetime) -> None:
    await connection.execute("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1", token_hash, now)


async def extend_session_access(connection: asyncpg.Connection, session_id: uuid.UUID,
                                access_expires_at: datetime) -> None:
    await connection.execute(
        "UPDATE sessions SET access_expires_at = greatest(access_expires_at, $2) WHERE id = $1",
        session_id, access_expires_at)


async def revoke_session(connection: asyncpg.Connection, session_id: uuid.UUID, reason: str,
                         now: datetime) -> asyncpg.Record | None:
    """Revoke an active session; return its user and access expiry, or None if already revoked."""
    return await connection.fetchrow(
        "UPDATE sessions SET revoked_at = $3, revoke_reason = $2 WHERE id = $1 AND revoked_at IS NULL"
        " RETURNING user_id, access_expires_at", session_id, reason, now)


async def session_is_active(connection: asyncpg.Connection, session_id: uuid.UUID,
                            user_id: uuid.UUID) -> bool:
    """True unless the session was revoked; the access token's own expiry is checked by its verifier."""
    return await connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL)",
        session_id, user_id)


async def revoked_sessions(connection: asyncpg.Connection, now: datetime) -> list[asyncpg.Record]:
    """Revoked sessions that may still have unexpired access tokens."""
    return await connection.fetch(
        "SELECT id, access_expires_at FROM sessions WHERE revoked_at IS NOT NULL AND access_expires_at > $1"
        " ORDER BY access_expires_at", now)


# Sign-in throttling

async def sign_in_blocked_until(connection: asyncpg.Connection, account_hash: bytes) -> datetime | None:
    return await connection.fetchval("SELECT blocked_until FROM sign_in_failures WHERE account_hash = $1",
                                     account_hash)


async def count_sign_in_failure(connection: asyncpg.Connection, account_hash: bytes, now: datetime,
                                forget_before: datetime) -> int:
    """Add one failure and return the failures in a row, restarting the count if the last one is older
    than `forget_before`."""
    return await connection.fetchval(
        "INSERT INTO sign_in_failures (account_hash, failures, last_failed_at) VALUES ($1, 1, $2)"
        " ON CONFLICT (account_hash) DO UPDATE SET last_failed_at = excluded.last_failed_at,"
        " failures = CASE WHEN sign_in_failures.last_failed_at < $3 THEN 1"
        " ELSE sign_in_failures.failures + 1 END"
        " RETURNING failures", account_hash, now, forget_before)


async def block_sign_in(connection: asyncpg.Connection, account_hash: bytes, until: datetime) -> None:
    await connection.execute("UPDATE sign_in_failures SET blocked_until = $2 WHERE account_hash = $1",
                             account_hash, until)


async def clear_sign_in_failures(connection: asyncpg.Connection, account_hash: bytes) -> None:
    await connection.execute("DELETE FROM sign_in_failures WHERE account_hash = $1", account_hash)


# Signing keys

async def lock_for_start_up(connection: asyncpg.Connection, name: str) -> None:
    """Serialise a start-up step (`name`) between identity processes starting at the same time."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"identity.start_up:{name}")


async def newest_signing_key(connection: asyncpg.Connection) -> asyncpg.Record | None:
    return await connection.fetchrow(
        "SELECT kid, private_key_encrypted, data_key_id FROM signing_keys WHERE retired_at IS NULL"
        " ORDER BY created_at DESC LIMIT 1")


async def insert_signing_key(connection: asyncpg.Connection, kid: str, public_jwk: dict[str, Any],
                             private_key_encrypted: bytes, data_key_id: str, now: datetime) -> None:
    await connection.execute(
        "INSERT INTO signing_keys (kid, public_jwk, private_key_encrypted, data_key_id, created_at)"
        " VALUES ($1, $2::jsonb, $3, $4, $5)",
        kid, json.dumps(public_jwk), private_key_encrypted, data_key_id, now)


async def public_jwks(connection: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT public_jwk::text AS jwk FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC")
    return [json.loads(row["jwk"]) for row in rows]
