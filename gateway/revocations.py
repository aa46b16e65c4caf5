"""Revoked sessions, kept in memory and fed by identity.

At start the gateway subscribes to `identity.session_revoked` on an exclusive queue, then loads the
sessions identity already revoked, so a revocation published while the gateway was down is not
missed. It loads them again whenever the broker connection is re-established, because an exclusive
queue does not outlive its connection. Entries are dropped once every access token of the session
has expired.
"""

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

import aio_pika
import aiohttp

from services.common.bus import Bus
from services.common.events import EXCHANGE, Event

log = logging.getLogger(__name__)


class Revocations:
    def __init__(self) -> None:
        self._expires: dict[str, float] = {}
        self.loaded = False

    def revoke(self, session_id: str, expires_at: float) -> None:
        self._expires[session_id] = max(expires_at, self._expires.get(session_id, 0.0))

    def is_revoked(self, session_id: str) -> bool:
        expires = self._expires.get(session_id)
        if expires is None:
            return False
        if expires < time.time():
            del self._expires[session_id]
            return False
        return True

    def __len__(self) -> int:
        return len(self._expires)


async def subscribe(bus: Bus, revocations: Revocations) -> None:
    channel = await bus.connection.channel()
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(bus.settings.broker_name(EXCHANGE), routing_key="identity.session_revoked")

    async def handle_session_revoked(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process(requeue=False):
            event = Event.model_validate_json(message.body)
            revocations.revoke(event.data["session_id"], _timestamp(event.data.get("expires_at")))
            log.info("session %s revoked (event %s)", event.data["session_id"], event.id)

    await queue.consume(handle_session_revoked)


def reload_after_reconnect(bus: Bus, load: Callable[[], Awaitable[None]]) -> None:
    """Run `load` again each time the broker connection comes back after a loss."""
    running: set[asyncio.Task] = set()

    def on_reconnect(connection) -> None:
        log.info("broker connection re-established; loading revoked sessions again")
        task = asyncio.ensure_future(load())
        running.add(task)
        task.add_done_callback(running.discard)

    bus.connection.reconnect_callbacks.add(on_reconnect)


async def load_revoked(http: aiohttp.ClientSession, identity_url: str, internal_token: str,
                       revocations: Revocations) -> None:
    """Load revoked sessions from identity, retrying until it responds."""
    delay = 0.5
    while True:
        try:
            async with http.get(f"{identity_url}/internal/revoked-sessions",
                                headers={"X-Internal-Token": internal_token}) as response:
                response.raise_for_status()
                document = json.loads(await response.read())
            for session in document["sessions"]:
                revocations.revoke(session["session_id"], _timestamp(session["expires_at"]))
            revocations.loaded = True
            log.info("loaded %d revoked sessions from identity", len(document["sessions"]))
            return
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as e:
            log.warning("cannot load revoked sessions from identity, retrying in %.1fs: %s", delay, e)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


def _timestamp(value: str | None) -> float:
    if not value:
        return time.time() + 3600
    return datetime.fromisoformat(value).timestamp()
