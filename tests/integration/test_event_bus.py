"""The shared kit against the real PostgreSQL and RabbitMQ: migrations, outbox relay, inbox."""

import asyncio
import json
import uuid
from pathlib import Path

import aio_pika
import asyncpg
import pytest

from services.common.broker_cleanup import delete_broker_objects
from services.common.bus import Bus, Subscription, apply_once
from services.common.db import apply_migrations, create_pool
from services.common.events import Event, record_event
from services.common.relay import OutboxRelay
from tests.conftest import eventually

MIGRATIONS = Path(__file__).parent / "kit_migrations"


@pytest.fixture
async def schema(test_settings):
    name = f"kit_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(test_settings.database_url)
    await apply_migrations(connection, name, MIGRATIONS)
    await connection.close()
    pool = await create_pool(test_settings.database_url, name)
    yield name, pool
    await pool.close()


async def test_migrations_concurrent_runners_apply_once(test_settings):
    name = f"kit_{uuid.uuid4().hex[:8]}"
    connections = [await asyncpg.connect(test_settings.database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(apply_migrations(c, name, MIGRATIONS) for c in connections))
        rows = await connections[0].fetch(f"SELECT source, version FROM {name}.schema_migrations")
    finally:
        for connection in connections:
            await connection.close()

    applied = [names for names in results if names]
    assert len(applied) == 1
    assert sorted((row["source"], row["version"]) for row in rows) == [("kit", 1), ("service", 1)]


async def _capture_queue(bus: Bus, routing_key: str):
    channel = await bus.connection.channel()
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(bus.exchange, routing_key=routing_key)
    return channel, queue


async def test_event_written_while_relay_stopped_is_published_once(schema, bus):
    name, pool = schema
    event_type = f"kit.note_added.{uuid.uuid4().hex[:6]}"
    channel, queue = await _capture_queue(bus, event_type)
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("INSERT INTO notes (text) VALUES ('written while no relay runs')")
        written = await record_event(connection, "kit", event_type, {"text": "hello"})

    relay = OutboxRelay(pool, bus.exchange, name, poll_interval=0.2)
    await relay.start()
    try:
        message = await eventually(lambda: queue.get(fail=False))
        await message.ack()
        await asyncio.sleep(1.0)  # several relay cycles: the row must not be published again
        duplicate = await queue.get(fail=False)
    finally:
        await relay.stop()
        await channel.close()

    assert json.loads(message.body)["id"] == written.id
    assert message.message_id == written.id
    assert duplicate is None
    published_at = await pool.fetchval("SELECT published_at FROM outbox WHERE id = $1", uuid.UUID(written.id))
    assert published_at is not None


async def test_relay_wakes_on_notify(schema, bus):
    name, pool = schema
    event_type = f"kit.woken.{uuid.uuid4().hex[:6]}"
    channel, queue = await _capture_queue(bus, event_type)
    relay = OutboxRelay(pool, bus.exchange, name, poll_interval=60)
    await relay.start()
    try:
        await asyncio.sleep(0.5)  # let the relay's first cycle pass and start waiting
        async with pool.acquire() as connection, connection.transaction():
            await record_event(connection, "kit", event_type, {})
        message = await eventually(lambda: queue.get(fail=False), timeout=5)
        await message.ack()
    finally:
        await relay.stop()
        await channel.close()
    assert message.type == event_type


async def test_redelivered_event_changes_nothing(schema, bus):
    name, pool = schema
    seen = []

    async def handle_note(connection, event):
        seen.append(event.id)
        await connection.execute("INSERT INTO applied (event_id) VALUES ($1)", event.id)

    event_type = f"kit.redelivered.{uuid.uuid4().hex[:6]}"
    subscription = Subscription(queue=f"kit.{name}", handlers={event_type: handle_note})
    await bus.consume(subscription, pool)
    event = Event(source="/talent/kit", type=event_type, data={"n": 1})
    for _ in range(3):
        await bus.exchange.publish(aio_pika.Message(event.model_dump_json().encode(), message_id=event.id),
                                   routing_key=event_type)

    async def processed():
        return await pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", uuid.UUID(event.id))

    await eventually(processed)
    await asyncio.sleep(0.5)
    assert seen == [event.id]
    assert await pool.fetchval("SELECT count FROM applied WHERE event_id = $1", event.id) == 1
    assert await apply_once(pool, subscription.queue, event, handle_note) is False


async def test_failing_handler_dead_letters(schema, bus, test_settings):
    name, pool = schema
    attempts = []

    async def handle_broken(connection, event):
        attempts.append(event.id)
        raise RuntimeError("handler bug")

    event_type = f"kit.broken.{uuid.uuid4().hex[:6]}"
    subscription = Subscription(queue=f"kit.dead.{name}", handlers={event_type: handle_broken}, max_attempts=3)
    await bus.consume(subscription, pool)
    event = Event(source="/talent/kit", type=event_type)
    await bus.exchange.publish(aio_pika.Message(event.model_dump_json().encode(), message_id=event.id),
                               routing_key=event_type)

    channel = await bus.connection.channel()
    dead = await channel.declare_queue(test_settings.broker_name(f"{subscription.queue}.dead"), durable=True)

    async def dead_lettered():
        return await dead.get(fail=False)

    message = await eventually(dead_lettered, timeout=20)
    await message.ack()
    await channel.close()
    assert json.loads(message.body)["id"] == event.id
    assert len(attempts) == 3
    assert await pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", uuid.UUID(event.id)) == 0


async def test_broker_objects_deleted_by_prefix(test_settings):
    prefix = f"cleanup-{uuid.uuid4().hex[:8]}."
    settings = test_settings.model_copy(update={"broker_prefix": prefix})
    bus = Bus(settings)
    await bus.connect()
    await bus.declare_queue(bus.channel, Subscription(queue="kit.cleanup", handlers={"kit.cleaned": None}))
    await bus.close()

    deleted = await delete_broker_objects(settings.amqp_url, prefix)

    connection = await aio_pika.connect(settings.amqp_url)
    try:
        for name in (f"{prefix}kit.cleanup", f"{prefix}kit.cleanup.dead"):
            channel = await connection.channel()
            with pytest.raises(aio_pika.exceptions.ChannelClosed):
                await channel.declare_queue(name, passive=True)
        channel = await connection.channel()
        with pytest.raises(aio_pika.exceptions.ChannelClosed):
            await channel.declare_exchange(f"{prefix}talent.events", passive=True)
    finally:
        await connection.close()
    assert deleted == 4
