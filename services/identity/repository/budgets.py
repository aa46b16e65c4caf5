"""Counts of anonymous requests per client address and time window."""

from datetime import datetime

import asyncpg


async def count_request(connection: asyncpg.Connection, action: str, address_hash: bytes,
                        window_start: datetime) -> int:
    """Add one request to the address's count in the window and return the new count."""
    return await connection.fetchval(
        "INSERT INTO address_request_counts (action, address_hash, window_start, requests) VALUES ($1, $2, $3, 1)"
        " ON CONFLICT (action, address_hash, window_start)"
        " DO UPDATE SET requests = address_request_counts.requests + 1"
        " RETURNING requests", action, address_hash, window_start)


async def delete_windows_before(connection: asyncpg.Connection, before: datetime) -> None:
    await connection.execute("DELETE FROM address_request_counts WHERE window_start < $1", before)
