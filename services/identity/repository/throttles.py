"""Sign-in throttles per account and per client address, and the addresses each account signed in from."""

import uuid
from datetime import datetime

import asyncpg


async def lock_keys(connection: asyncpg.Connection, key_hashes: list[bytes]) -> None:
    """Serialise sign-in attempts on the throttles `key_hashes` until the transaction ends.

    Callers pass the account key before the address key, so two attempts never wait for each other in a cycle.
    """
    for key_hash in key_hashes:
        await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                 "identity.sign_in:" + key_hash.hex())


async def throttle_state(connection: asyncpg.Connection, key_hashes: list[bytes]) -> dict[bytes, datetime | None]:
    """Return the block of each throttle among `key_hashes` that has failures counted (None while not blocked)."""
    rows = await connection.fetch(
        "SELECT key_hash, blocked_until FROM sign_in_throttles WHERE key_hash = ANY($1::bytea[])", key_hashes)
    return {bytes(row["key_hash"]): row["blocked_until"] for row in rows}


async def count_failure(connection: asyncpg.Connection, key_hash: bytes, scope: str, now: datetime,
                        forget_before: datetime) -> int:
    """Add one failure and return the failures in a row, restarting the count if the last one is older
    than `forget_before`."""
    return await connection.fetchval(
        "INSERT INTO sign_in_throttles (key_hash, scope, failures, last_failed_at) VALUES ($1, $2, 1, $3)"
        " ON CONFLICT (key_hash) DO UPDATE SET last_failed_at = excluded.last_failed_at,"
        " failures = CASE WHEN sign_in_throttles.last_failed_at < $4 THEN 1"
        " ELSE sign_in_throttles.failures + 1 END"
        " RETURNING failures", key_hash, scope, now, forget_before)


async def block(connection: asyncpg.Connection, key_hash: bytes, until: datetime) -> None:
    await connection.execute("UPDATE sign_in_throttles SET blocked_until = $2 WHERE key_hash = $1",
                             key_hash, until)


async def clear(connection: asyncpg.Connection, key_hashes: list[bytes]) -> None:
    await connection.execute("DELETE FROM sign_in_throttles WHERE key_hash = ANY($1::bytea[])", key_hashes)


async def address_last_signed_in(connection: asyncpg.Connection, user_id: uuid.UUID,
                                 address_hash: bytes) -> datetime | None:
    """Return when the account last signed in from the address, or None if it never did."""
    return await connection.fetchval(
        "SELECT last_signed_in_at FROM recognised_addresses WHERE user_id = $1 AND address_hash = $2",
        user_id, address_hash)


async def remember_address(connection: asyncpg.Connection, user_id: uuid.UUID, address_hash: bytes,
                           now: datetime) -> None:
    await connection.execute(
        "INSERT INTO recognised_addresses (user_id, address_hash, last_signed_in_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (user_id, address_hash) DO UPDATE SET last_signed_in_at = excluded.last_signed_in_at",
        user_id, address_hash, now)
