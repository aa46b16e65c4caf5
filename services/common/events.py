"""Events between services: CloudEvents 1.0 envelopes on the topic exchange `talent.events`.

Delivery is at least once and effects are exactly once:
- a state change and its event are written in one transaction (`record_event` into the outbox);
- `OutboxRelay` publishes unpublished rows with publisher confirms, marks them sent, and wakes on
  LISTEN/NOTIFY, polling as a fallback;
- `Consumer` applies each event in a transaction that also records its id in the inbox, so a
  redelivered event changes nothing.

Example envelope::

    {"specversion": "1.0", "id": "5f0c…", "source": "/talent/binding", "type": "binding.approved",
     "subject": "bindings/8d1e…", "time": "2026-12-04T10:00:00+08:00",
     "datacontenttype": "application/json", "data": {"binding_id": "8d1e…", "uscc": "91…"}}
"""

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, Field

EXCHANGE = "talent.events"
DEAD_LETTER_EXCHANGE = "talent.events.dlx"
OUTBOX_CHANNEL = "talent_outbox"


class Event(BaseModel):
    specversion: str = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    subject: str | None = None
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: str = "application/json"
    data: dict[str, Any] = Field(default_factory=dict)


async def record_event(connection: asyncpg.Connection, service: str, type: str, data: dict[str, Any],
                       subject: str | None = None) -> Event:
    """Write an event to the outbox; call inside the transaction of the change it announces."""
    event = Event(source=f"/talent/{service}", type=type, subject=subject, data=data)
    await connection.execute(
        "INSERT INTO outbox (id, type, envelope) VALUES ($1, $2, $3::jsonb)",
        uuid.UUID(event.id), event.type, event.model_dump_json())
    await connection.execute("SELECT pg_notify($1, current_schema())", OUTBOX_CHANNEL)
    return event
