"""Events published by the files service, which consumes none.

`file.uploaded` data is `{"file_id", "application_id", "kind", "entry_id", "size", "sha256"}` and
`file.deleted` data is `{"file_id", "application_id", "kind", "entry_id"}`. Both are written to the
outbox in the transaction that inserts or deletes the metadata row.
"""

import asyncpg

from services.common.events import Event, record_event

SERVICE = "files"


async def record_file_uploaded(connection: asyncpg.Connection, row: asyncpg.Record) -> Event:
    data = {"file_id": str(row["id"]), "application_id": str(row["application_id"]), "kind": row["kind"],
            "entry_id": row["entry_id"], "size": row["size"], "sha256": row["sha256"]}
    return await record_event(connection, SERVICE, "file.uploaded", data, subject=f"files/{row['id']}")


async def record_file_deleted(connection: asyncpg.Connection, row: asyncpg.Record) -> Event:
    data = {"file_id": str(row["id"]), "application_id": str(row["application_id"]), "kind": row["kind"],
            "entry_id": row["entry_id"]}
    return await record_event(connection, SERVICE, "file.deleted", data, subject=f"files/{row['id']}")
