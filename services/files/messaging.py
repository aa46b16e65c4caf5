"""Events published and consumed by the files service.

Published: `file.uploaded` data is `{"file_id", "application_id", "kind", "entry_id", "size", "sha256"}`
and `file.deleted` data is `{"file_id", "application_id", "kind", "entry_id"}`. Both are written to the
outbox in the transaction that inserts or deletes the metadata row.

Consumed on `files.application-events`: `application.submitted` and `application.resubmitted` keep the
unit each application was submitted through, which decides the unit reviewers who may read its
files. The kit's inbox applies each event once, and an older submission never replaces a newer one.
"""

import logging
import uuid
from datetime import datetime

import asyncpg
from pydantic import BaseModel

from services.common.bus import Subscription
from services.common.events import Event, record_event

from . import repository

log = logging.getLogger(__name__)

SERVICE = "files"


async def record_file_uploaded(connection: asyncpg.Connection, row: asyncpg.Record) -> Event:
    data = {"file_id": str(row["id"]), "application_id": str(row["application_id"]), "kind": row["kind"],
            "entry_id": row["entry_id"], "size": row["size"], "sha256": row["sha256"]}
    return await record_event(connection, SERVICE, "file.uploaded", data, subject=f"files/{row['id']}")


async def record_file_deleted(connection: asyncpg.Connection, row: asyncpg.Record) -> Event:
    data = {"file_id": str(row["id"]), "application_id": str(row["application_id"]), "kind": row["kind"],
            "entry_id": row["entry_id"]}
    return await record_event(connection, SERVICE, "file.deleted", data, subject=f"files/{row['id']}")


class ApplicationSubmitted(BaseModel):
    """The fields of `application.submitted` and `application.resubmitted` that files keeps."""

    application_id: uuid.UUID
    person_id: str
    uscc: str
    submitted_at: datetime


async def handle_application_submitted(connection: asyncpg.Connection, event: Event) -> None:
    data = ApplicationSubmitted.model_validate(event.data)
    await repository.save_submission(connection, data.application_id, data.person_id, data.uscc, data.submitted_at)
    log.info("application %s was submitted through unit %s (%s %s)", data.application_id, data.uscc, event.type,
             event.id)


SUBSCRIPTIONS = [
    Subscription(queue="files.application-events", handlers={
        "application.submitted": handle_application_submitted,
        "application.resubmitted": handle_application_submitted,
    }),
]
