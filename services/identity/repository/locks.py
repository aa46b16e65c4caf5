"""Transaction-scoped advisory locks that serialise work between identity processes."""

import uuid

import asyncpg


async def lock_named(connection: asyncpg.Connection, name: str) -> None:
    """Serialise one kind of work (`name`: a start-up step, role changes) until the transaction ends."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"identity.{name}")


async def lock_user(connection: asyncpg.Connection, user_id: uuid.UUID) -> None:
    """Serialise changes to one account (password, sessions) until the transaction ends."""
    await connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"identity.user:{user_id}")
