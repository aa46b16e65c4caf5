"""ES256 signing keys: the active one signs, deactivated ones stay in the JWKS until retired."""

import json
from datetime import datetime
from typing import Any

import asyncpg


async def active_signing_key(connection: asyncpg.Connection) -> asyncpg.Record | None:
    return await connection.fetchrow(
        "SELECT kid, private_key_encrypted, data_key_id FROM signing_keys"
        " WHERE retired_at IS NULL AND deactivated_at IS NULL ORDER BY created_at DESC LIMIT 1")


async def active_kid(connection: asyncpg.Connection) -> str | None:
    return await connection.fetchval(
        "SELECT kid FROM signing_keys WHERE retired_at IS NULL AND deactivated_at IS NULL"
        " ORDER BY created_at DESC LIMIT 1")


async def signing_key_for_update(connection: asyncpg.Connection, kid: str) -> asyncpg.Record | None:
    return await connection.fetchrow(
        "SELECT kid, created_at, deactivated_at, retired_at FROM signing_keys WHERE kid = $1 FOR UPDATE", kid)


async def insert_signing_key(connection: asyncpg.Connection, kid: str, public_jwk: dict[str, Any],
                             private_key_encrypted: bytes, data_key_id: str, now: datetime) -> None:
    await connection.execute(
        "INSERT INTO signing_keys (kid, public_jwk, private_key_encrypted, data_key_id, created_at)"
        " VALUES ($1, $2::jsonb, $3, $4, $5)",
        kid, json.dumps(public_jwk), private_key_encrypted, data_key_id, now)


async def deactivate_signing_keys(connection: asyncpg.Connection, except_kid: str, now: datetime) -> None:
    """Stop every active key but `except_kid` from signing; they stay published until retired."""
    await connection.execute(
        "UPDATE signing_keys SET deactivated_at = $2 WHERE deactivated_at IS NULL AND kid <> $1", except_kid, now)


async def retire_signing_key(connection: asyncpg.Connection, kid: str, now: datetime) -> None:
    await connection.execute("UPDATE signing_keys SET retired_at = $2 WHERE kid = $1", kid, now)


async def list_signing_keys(connection: asyncpg.Connection) -> list[asyncpg.Record]:
    return await connection.fetch(
        "SELECT kid, created_at, deactivated_at, retired_at FROM signing_keys ORDER BY created_at DESC")


async def public_jwks(connection: asyncpg.Connection) -> list[dict[str, Any]]:
    """Public keys of every key not retired, the signing one first."""
    rows = await connection.fetch(
        "SELECT public_jwk::text AS jwk FROM signing_keys WHERE retired_at IS NULL"
        " ORDER BY deactivated_at IS NOT NULL, created_at DESC")
    return [json.loads(row["jwk"]) for row in rows]


async def keys_under_data_keys(connection: asyncpg.Connection, key_ids: list[str]) -> list[asyncpg.Record]:
    """Signing keys not retired whose private key is sealed under one of the data keys `key_ids`, locked."""
    return await connection.fetch(
        "SELECT kid, private_key_encrypted, data_key_id FROM signing_keys WHERE data_key_id = ANY($1::text[])"
        " AND retired_at IS NULL FOR UPDATE", key_ids)


async def update_sealed_key(connection: asyncpg.Connection, kid: str, sealed: bytes, data_key_id: str) -> None:
    await connection.execute(
        "UPDATE signing_keys SET private_key_encrypted = $2, data_key_id = $3 WHERE kid = $1",
        kid, sealed, data_key_id)


# Data keys


async def register_data_key(connection: asyncpg.Connection, key_id: str, now: datetime) -> None:
    await connection.execute(
        "INSERT INTO data_keys (key_id, first_used_at) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING", key_id, now)


async def data_keys_first_used(connection: asyncpg.Connection, key_ids: list[str]) -> dict[str, datetime]:
    rows = await connection.fetch("SELECT key_id, first_used_at FROM data_keys WHERE key_id = ANY($1::text[])",
                                  key_ids)
    return {row["key_id"]: row["first_used_at"] for row in rows}
