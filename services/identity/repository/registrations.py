"""Registration tokens (注册凭证) of two-step personal registration."""

import uuid
from datetime import datetime

import asyncpg


async def insert_token(connection: asyncpg.Connection, token_id: uuid.UUID, token_hash: bytes,
                       mobile_encrypted: bytes, data_key_id: str, now: datetime, expires_at: datetime) -> None:
    await connection.execute(
        "INSERT INTO registration_tokens (id, token_hash, mobile_encrypted, data_key_id, created_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        token_id, token_hash, mobile_encrypted, data_key_id, now, expires_at)


async def delete_tokens_expired_before(connection: asyncpg.Connection, before: datetime) -> None:
    await connection.execute("DELETE FROM registration_tokens WHERE expires_at < $1", before)


async def token_for_update(connection: asyncpg.Connection, token_hash: bytes) -> asyncpg.Record | None:
    return await connection.fetchrow(
        "SELECT id, mobile_encrypted, data_key_id, expires_at, used_at FROM registration_tokens"
        " WHERE token_hash = $1 FOR UPDATE", token_hash)


async def mark_token_used(connection: asyncpg.Connection, token_id: uuid.UUID, now: datetime) -> None:
    await connection.execute("UPDATE registration_tokens SET used_at = $2 WHERE id = $1", token_id, now)
