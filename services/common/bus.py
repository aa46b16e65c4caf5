"""RabbitMQ connection, topology and consumers with an inbox.

Topology, declared at start by every process that uses the bus:
- `talent.events`, a durable topic exchange; the routing key of an event is its type;
- `talent.events.dlx`, a durable direct exchange receiving rejected messages;
- per consumer a durable queue `<service>.<purpose>` bound to its event types, dead-lettering to
  `<queue>.dead`.

Ack policy, the same for every consumer:
- ack after the handler's transaction committed;
- on a failure, republish to the same queue with an incremented `x-attempts` header and ack the
  original, up to `max_attempts`;
- after that, reject without requeue, so the message lands in `<queue>.dead` and is logged;
- a message that is not a valid envelope is dead-lettered at once.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aio_pika
import asyncpg
from aio_pika.abc import AbstractIncomingMessage
from pydantic import ValidationError

from .events import DEAD_LETTER_EXCHANGE, EXCHANGE, Event
from .logs import event_id_var
from .settings import Settings

log = logging.getLogger(__name__)

Handler = Callable[[asyncpg.Connection, Event], Awaitable[None]]


class BrokerUnavailable(Exception):
    """RabbitMQ cannot be reached."""


@dataclass
class Subscription:
    """A durable queue of one service and the handler of each event type bound to it."""

    queue: str
    handlers: dict[str, Handler] = field(default_factory=dict)
    max_attempts: int = 5
    prefetch: int = 16


class Bus:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.connection: aio_pika.abc.AbstractRobustConnection | None = None
        self.channel: aio_pika.abc.AbstractChannel | None = None
        self.exchange: aio_pika.abc.AbstractExchange | None = None
        self.dead_letter_exchange: aio_pika.abc.AbstractExchange | None = None
        self._consumer_channels: list[aio_pika.abc.AbstractChannel] = []

    async def connect(self, timeout: float = 10.0) -> None:
        try:
            self.connection = await asyncio.wait_for(
                aio_pika.connect_robust(self.settings.amqp_url, client_properties={"connection_name": "talent"}),
                timeout)
        except (OSError, TimeoutError, aio_pika.exceptions.AMQPError) as e:
            raise BrokerUnavailable(f"cannot connect to RabbitMQ: {e}") from e
        self.channel = await self.connection.channel(publisher_confirms=True)
        self.exchange = await self.channel.declare_exchange(
            self.settings.broker_name(EXCHANGE), aio_pika.ExchangeType.TOPIC, durable=True)
        self.dead_letter_exchange = await self.channel.declare_exchange(
            self.settings.broker_name(DEAD_LETTER_EXCHANGE), aio_pika.ExchangeType.DIRECT, durable=True)

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()
            self.connection = None

    def is_connected(self) -> bool:
        return self.connection is not None and not self.connection.is_closed and bool(
            getattr(self.connection, "connected", None) and self.connection.connected.is_set())

    async def declare_queue(self, channel: aio_pika.abc.AbstractChannel, subscription: Subscription):
        name = self.settings.broker_name(subscription.queue)
        dead_name = f"{name}.dead"
        dead_queue = await channel.declare_queue(dead_name, durable=True)
        await dead_queue.bind(self.settings.broker_name(DEAD_LETTER_EXCHANGE), routing_key=name)
        queue = await channel.declare_queue(name, durable=True, arguments={
            "x-dead-letter-exchange": self.settings.broker_name(DEAD_LETTER_EXCHANGE),
            "x-dead-letter-routing-key": name,
        })
        for event_type in subscription.handlers:
            await queue.bind(self.settings.broker_name(EXCHANGE), routing_key=event_type)
        return queue

    async def consume(self, subscription: Subscription, pool: asyncpg.Pool) -> None:
        assert self.connection is not None, "connect() first"
        channel = await self.connection.channel()
        await channel.set_qos(prefetch_count=subscription.prefetch)
        self._consumer_channels.append(channel)
        queue = await self.declare_queue(channel, subscription)
        consumer = _InboxConsumer(subscription, pool, channel, self.settings.broker_name(subscription.queue))
        await queue.consume(consumer.on_message)


class _InboxConsumer:
    def __init__(self, subscription: Subscription, pool: asyncpg.Pool,
                 channel: aio_pika.abc.AbstractChannel, queue_name: str) -> None:
        self.subscription = subscription
        self.pool = pool
        self.channel = channel
        self.queue_name = queue_name

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            event = Event.model_validate_json(message.body)
        except ValidationError as e:
            log.error("dead-lettering malformed message %s on %s: %s", message.message_id, self.queue_name, e)
            await message.reject(requeue=False)
            return
        token = event_id_var.set(event.id)
        try:
            await self._handle(message, event)
        finally:
            event_id_var.reset(token)

    async def _handle(self, message: AbstractIncomingMessage, event: Event) -> None:
        handler = self.subscription.handlers.get(event.type)
        if handler is None:
            log.warning("no handler for %s on %s; acknowledging", event.type, self.queue_name)
            await message.ack()
            return
        try:
            applied = await apply_once(self.pool, self.subscription.queue, event, handler)
        except Exception:  # noqa: BLE001 - every failure follows the ack policy in the module docstring
            await self._retry_or_dead_letter(message, event)
            return
        if not applied:
            log.info("event %s (%s) already applied; skipping", event.id, event.type)
        await message.ack()

    async def _retry_or_dead_letter(self, message: AbstractIncomingMessage, event: Event) -> None:
        attempts = int((message.headers or {}).get("x-attempts", 1))
        if attempts >= self.subscription.max_attempts:
            log.exception("event %s (%s) failed %d times; dead-lettering to %s.dead",
                          event.id, event.type, attempts, self.queue_name)
            await message.reject(requeue=False)
            return
        log.warning("event %s (%s) failed on attempt %d; retrying", event.id, event.type, attempts,
                    exc_info=True)
        await asyncio.sleep(min(0.2 * 2 ** attempts, 5.0))
        retry = aio_pika.Message(
            body=message.body, content_type=message.content_type, message_id=message.message_id,
            type=message.type, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            headers={**(message.headers or {}), "x-attempts": attempts + 1})
        await self.channel.default_exchange.publish(retry, routing_key=self.queue_name)
        await message.ack()


async def apply_once(pool: asyncpg.Pool, consumer: str, event: Event, handler: Handler) -> bool:
    """Run `handler` and record the event in the inbox in one transaction; False if seen before."""
    async with pool.acquire() as connection, connection.transaction():
        inserted = await connection.fetchval(
            "INSERT INTO inbox (event_id, consumer, type) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING RETURNING true", event.id, consumer, event.type)
        if not inserted:
            return False
        await handler(connection, event)
        return True

