"""Helpers shared by the identity tests (test_identity*.py); this module contains no tests.

Each test gets its own client address. The tests call identity from 127.0.0.1, which is a trusted
proxy by default, so the X-Forwarded-For header they send takes the place of the gateway's. It names the
address that the per-address limits and the audit trail see.
"""

import ipaddress
import json
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date

import aio_pika
import jwt
from aiohttp import web

from services.common.broker_cleanup import delete_broker_objects
from services.common.db import drop_database, ensure_database
from services.common.events import EXCHANGE
from services.common.service import pool_key
from services.common.settings import Settings
from services.common.validators import id_number_check_char
from services.identity.app import create_app
from services.identity.crypto import hash_token
from services.identity.resources import identity_key
from tests.conftest import eventually, free_port
from tests.support import Portal

# 198.18.0.0/15 is reserved for benchmarking (RFC 2544), so no real client has these addresses.
_TEST_NETWORK = ipaddress.ip_network("198.18.0.0/15")


# Addresses for tests that use up a per-address limit (SMS codes, sign-in failures, captcha budgets).
# They come from the documentation networks of RFC 5737, which random_address never returns, and each
# is handed out once per run, so no other test can draw an address whose limit is used up.
_EXHAUSTED_NETWORKS = (ipaddress.ip_network("198.51.100.0/24"), ipaddress.ip_network("203.0.113.0/24"))
_exhausted_addresses = [str(address) for network in _EXHAUSTED_NETWORKS for address in network.hosts()]
random.shuffle(_exhausted_addresses)


def random_address() -> str:
    return str(_TEST_NETWORK[random.randrange(1, _TEST_NETWORK.num_addresses - 1)])


def address_to_exhaust() -> str:
    """Return an address of its own for a test that uses up a per-address limit."""
    return _exhausted_addresses.pop()


def portal_at(http, url: str, address: str | None = None, language: str = "zh-CN") -> Portal:
    """A client of identity at `url` whose requests come from `address` (a fresh one by default)."""
    return Portal(http, {"identity": url}, language=language,
                  headers={"X-Forwarded-For": address or random_address(), "User-Agent": "talent-tests/1.0"})


def english(portal: Portal) -> Portal:
    return Portal(portal.http, portal.bases, portal.token, language="en", headers=dict(portal.headers))


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def without_request(problem: dict) -> dict:
    """A problem body without the fields that differ between any two requests."""
    return {key: value for key, value in problem.items() if key not in ("request_id", "instance")}


def id_number_ending_in_x() -> str:
    for _ in range(1000):
        birth = date(1985, random.randint(1, 12), random.randint(1, 28))
        first17 = f"220104{birth:%Y%m%d}{random.randint(0, 999):03d}"
        if id_number_check_char(first17) == "X":
            return first17 + "X"
    raise AssertionError("no ID number with check character X found in 1000 tries")


def registration_body(person: dict, code: str) -> dict:
    return {**{key: person[key] for key in ("mobile", "real_name", "id_number", "password")}, "sms_code": code}


async def sign_in_attempt(portal: Portal, account: str, password: str) -> tuple[int, dict, dict]:
    """One password sign-in with a solved captcha; return the status, body and response headers."""
    body = {"account": account, "password": password, **await portal.solve_captcha()}
    url = portal.url("identity", "/sessions")
    async with portal.http.post(url, json=body, headers=portal._headers(None)) as response:
        return response.status, await response.json(content_type=None), dict(response.headers)


# Moving stored time instead of sleeping


def mobile_hash(app: web.Application, mobile: str) -> bytes:
    return app[identity_key].cipher.lookup_hash("mobile", mobile)


async def age_sms_codes(app: web.Application, mobile: str, seconds: int) -> None:
    """Move a mobile's SMS codes `seconds` into the past, as if that much time had passed."""
    await app[pool_key].execute(
        "UPDATE sms_codes SET created_at = created_at - make_interval(secs => $2),"
        " expires_at = expires_at - make_interval(secs => $2) WHERE mobile_hash = $1",
        mobile_hash(app, mobile), seconds)


async def expire_registration_token(app: web.Application, token: str) -> None:
    """Move a registration token's expiry one second into the past."""
    await app[pool_key].execute(
        "UPDATE registration_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1",
        hash_token(token))


async def lift_sign_in_blocks(app: web.Application) -> None:
    """End every sign-in wait now, as if it had passed; the failure counts stay."""
    await app[pool_key].execute("UPDATE sign_in_throttles SET blocked_until = now() - interval '1 second'"
                                " WHERE blocked_until > now()")


async def audit_events(app: web.Application, user_id: str, type: str | None = None) -> list[dict]:
    rows = await app[pool_key].fetch(
        "SELECT type, user_id, account, client_address, user_agent, details::text AS details FROM audit_events"
        " WHERE user_id = $1 AND ($2::text IS NULL OR type = $2) ORDER BY id", uuid.UUID(user_id), type)
    return [{**dict(row), "user_id": str(row["user_id"]), "details": json.loads(row["details"])} for row in rows]


# Events


class Capture:
    """Events of some types published on the suite's exchange after the capture started."""

    def __init__(self, queue: aio_pika.abc.AbstractQueue) -> None:
        self.queue = queue
        self.seen: list[dict] = []

    async def _drain(self) -> None:
        while (message := await self.queue.get(fail=False)) is not None:
            await message.ack()
            self.seen.append(json.loads(message.body))

    def _matching(self, event_type: str, data: dict) -> list[dict]:
        return [envelope for envelope in self.seen if envelope["type"] == event_type
                and all(envelope["data"].get(key) == value for key, value in data.items())]

    async def wait_for(self, event_type: str, **data) -> dict:
        return (await self.wait_for_all(event_type, 1, **data))[0]

    async def wait_for_all(self, event_type: str, count: int, **data) -> list[dict]:
        """Wait until at least `count` events of `event_type` with the given data fields arrived."""
        async def arrived():
            await self._drain()
            found = self._matching(event_type, data)
            return found if len(found) >= count else None

        return await eventually(arrived, timeout=10)


@asynccontextmanager
async def captured_events(settings: Settings, *event_types: str) -> AsyncIterator[Capture]:
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for event_type in event_types:
            await queue.bind(settings.broker_name(EXCHANGE), routing_key=event_type)
        yield Capture(queue)
    finally:
        await connection.close()


# Identity instances beside the suite's


@dataclass
class RunningIdentity:
    url: str
    app: web.Application
    settings: Settings


@asynccontextmanager
async def running_identity(settings: Settings) -> AsyncIterator[RunningIdentity]:
    """Another identity process, in this process, on `settings.identity_port`."""
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", settings.identity_port).start()
        yield RunningIdentity(f"http://127.0.0.1:{settings.identity_port}", app, settings)
    finally:
        await runner.cleanup()


def on_new_port(settings: Settings, **overrides) -> Settings:
    """`settings` for an identity instance on a new port that verifies tokens against its own JWKS."""
    port = free_port()
    return settings.model_copy(update={"identity_port": port, "identity_url": f"http://127.0.0.1:{port}",
                                       **overrides})


@asynccontextmanager
async def own_database(test_settings: Settings) -> AsyncIterator[Settings]:
    """Settings for identity instances on a database and broker names of their own, dropped afterwards."""
    run = uuid.uuid4().hex[:10]
    database_url = test_settings.database_url.rsplit("/", 1)[0] + f"/talent_test_identity_{run}"
    await ensure_database(database_url)
    settings = on_new_port(test_settings, database_url=database_url, broker_prefix=f"test-identity-{run}.")
    try:
        yield settings
    finally:
        await drop_database(database_url)
        await delete_broker_objects(settings.amqp_url, settings.broker_prefix)
