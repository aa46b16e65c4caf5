"""Captchas, SMS codes, the development SMS sink and the queue of SMS deliveries."""

import uuid
from datetime import datetime

import asyncpg

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

async def lock_sms_requests(connection: asyncpg.Connection, key_hash: bytes) -> None:
    """Serialise code requests for one mobile or one client address (`key_hash`) until the transaction ends."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                             "identity.sms:" + key_hash.hex())


async def recent_sms_times(connection: asyncpg.Connection, mobile_hash: bytes, since: datetime,
                           limit: int) -> list[datetime]:
    """Times of the codes for a mobile since `since`, newest first, at most `limit`."""
    rows = await connection.fetch(
        "SELECT created_at FROM sms_codes WHERE mobile_hash = $1 AND created_at > $2"
        " ORDER BY created_at DESC LIMIT $3", mobile_hash, since, limit)
    return [row["created_at"] for row in rows]


async def recent_sms_times_for_mobile_from_address(connection: asyncpg.Connection, mobile_hash: bytes,
                                                   address_hash: bytes, since: datetime,
                                                   limit: int) -> list[datetime]:
    """Times of the codes for a mobile requested from one client address since `since`, newest first."""
    rows = await connection.fetch(
        "SELECT created_at FROM sms_codes WHERE mobile_hash = $1 AND address_hash = $2 AND created_at > $3"
        " ORDER BY created_at DESC LIMIT $4", mobile_hash, address_hash, since, limit)
    return [row["created_at"] for row in rows]


async def recent_sms_times_from_address(connection: asyncpg.Connection, address_hash: bytes, since: datetime,
                                        limit: int) -> list[datetime]:
    """Times of the codes requested from a client address since `since`, newest first, at most `limit`."""
    rows = await connection.fetch(
        "SELECT created_at FROM sms_codes WHERE address_hash = $1 AND created_at > $2"
        " ORDER BY created_at DESC LIMIT $3", address_hash, since, limit)
    return [row["created_at"] for row in rows]


async def insert_sms_code(connection: asyncpg.Connection, mobile_hash: bytes, purpose: str, code_hash: bytes,
                          address_hash: bytes | None, now: datetime, expires_at: datetime) -> None:
    await connection.execute(
        "INSERT INTO sms_codes (id, mobile_hash, purpose, code_hash, address_hash, created_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        uuid.uuid4(), mobile_hash, purpose, code_hash, address_hash, now, expires_at)


async def delete_sms_codes_before(connection: asyncpg.Connection, before: datetime) -> None:
    await connection.execute("DELETE FROM sms_codes WHERE created_at < $1", before)


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


# Development SMS sink

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


# Deliveries through the HTTP SMS provider

SMS_DELIVERY_CHANNEL = "identity_sms_deliveries"


async def insert_sms_delivery(connection: asyncpg.Connection, delivery_id: uuid.UUID, mobile_encrypted: bytes,
                              code_encrypted: bytes, data_key_id: str, purpose: str, now: datetime,
                              expires_at: datetime) -> None:
    await connection.execute(
        "INSERT INTO sms_deliveries (id, mobile_encrypted, code_encrypted, data_key_id, purpose, created_at,"
        " expires_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $6)",
        delivery_id, mobile_encrypted, code_encrypted, data_key_id, purpose, now, expires_at)
    await connection.execute("SELECT pg_notify($1, '')", SMS_DELIVERY_CHANNEL)


async def due_sms_deliveries(connection: asyncpg.Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Deliveries whose next attempt is due, locked so that another process skips them."""
    return await connection.fetch(
        "SELECT id, mobile_encrypted, code_encrypted, data_key_id, purpose, created_at, expires_at, attempts"
        " FROM sms_deliveries WHERE next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2"
        " FOR UPDATE SKIP LOCKED", now, limit)


async def delete_sms_delivery(connection: asyncpg.Connection, delivery_id: uuid.UUID) -> None:
    await connection.execute("DELETE FROM sms_deliveries WHERE id = $1", delivery_id)


async def postpone_sms_delivery(connection: asyncpg.Connection, delivery_id: uuid.UUID,
                                next_attempt_at: datetime) -> None:
    await connection.execute(
        "UPDATE sms_deliveries SET attempts = attempts + 1, next_attempt_at = $2 WHERE id = $1",
        delivery_id, next_attempt_at)
