"""Outbox relay: publishes outbox rows to RabbitMQ with publisher confirms.

A row is marked published only after the broker confirmed it, in the same transaction that locked
it (`FOR UPDATE SKIP LOCKED`). Two relays therefore never publish one row twice in normal operation.
A crash between the confirm and the commit republishes the row, and consumers' inboxes absorb it.
"""

import asyncio
import logging
import uuid

import aio_pika
import asyncpg

from .events import OUTBOX_CHANNEL

log = logging.getLogger(__name__)

BATCH_SIZE = 100


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, exchange: aio_pika.abc.AbstractExchange, schema: str,
                 poll_interval: float = 5.0) -> None:
        self.pool = pool
        self.exchange = exchange
        self.schema = schema
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._listener: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self.schema}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self._close_listener()

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            try:
                await self._ensure_listener()
                while await self.publish_pending() == BATCH_SIZE:
                    pass
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - the relay must outlive broker and database outages
                log.warning("outbox relay for %s failed, retrying in %.1fs: %s", self.schema, backoff, e)
                await self._close_listener()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
            except TimeoutError:
                pass
            self._wake.clear()

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows; return how many were published."""
        failure: Exception | None = None
        published: list[uuid.UUID] = []
        async with self.pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(
                "SELECT id, type, envelope::text AS envelope FROM outbox WHERE published_at IS NULL"
                " ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED", BATCH_SIZE)
            for row in rows:
                try:
                    await self.exchange.publish(_message(row), routing_key=row["type"])
                except Exception as e:  # noqa: BLE001 - rows confirmed so far are still marked below
                    failure = e
                    break
                published.append(row["id"])
            if published:
                await connection.execute(
                    "UPDATE outbox SET published_at = now(), attempts = attempts + 1"
                    " WHERE id = ANY($1::uuid[])", published)
        if failure is not None:
            raise failure
        if published:
            log.debug("published %d events from %s", len(published), self.schema)
        return len(published)

    async def _ensure_listener(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            return
        self._listener = await self.pool.acquire()
        await self._listener.add_listener(OUTBOX_CHANNEL, self._on_notify)

    def _on_notify(self, connection, pid, channel, payload: str) -> None:
        if payload == self.schema:
            self._wake.set()

    async def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        try:
            await listener.remove_listener(OUTBOX_CHANNEL, self._on_notify)
        except Exception:  # noqa: BLE001 - the connection may already be broken
            pass
        try:
            await self.pool.release(listener)
        except Exception:  # noqa: BLE001
            listener.terminate()


def _message(row: asyncpg.Record) -> aio_pika.Message:
    return aio_pika.Message(
        body=row["envelope"].encode(),
        content_type="application/cloudevents+json",
        message_id=str(row["id"]),
        type=row["type"],
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )
