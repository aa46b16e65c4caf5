"""The HTTP SMS provider adapter against a provider stub on 127.0.0.1: the signed request of
docs/sms-provider.md, retries of temporary failures, no retry of rejections.

Run with TALENT_TEST_SERVICES=identity.
"""

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from services.common.service import pool_key
from services.common.settings import SettingsError, load_settings
from tests.conftest import eventually, free_port
from tests.integration.identity_support import (
    on_new_port,
    portal_at,
    registration_body,
    running_identity,
)
from tests.support import new_person, random_mobile

PROVIDER_KEY = "provider-shared-secret-for-tests"


@dataclass
class ProviderStub:
    """Responds with `statuses` in turn (200 once they run out) and records every request."""

    statuses: list[int] = field(default_factory=list)
    received: list[dict] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.received.append({"body": body, "headers": dict(request.headers), "at": time.time()})
        status = self.statuses.pop(0) if self.statuses else 200
        return web.json_response({"accepted": status == 200}, status=status)

    def for_mobile(self, mobile: str) -> list[dict]:
        return [json.loads(entry["body"]) for entry in self.received if json.loads(entry["body"])["mobile"] == mobile]


@asynccontextmanager
async def provider_stub(statuses: list[int] | None = None) -> AsyncIterator[tuple[str, ProviderStub]]:
    stub = ProviderStub(list(statuses or []))
    app = web.Application()
    app.router.add_post("/sms", stub.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/sms", stub
    finally:
        await runner.cleanup()


@asynccontextmanager
async def identity_with_provider(test_settings, url: str):
    settings = on_new_port(test_settings, sms_provider_url=url, sms_provider_key=PROVIDER_KEY,
                           sms_provider_timeout=2.0)
    async with running_identity(settings) as instance:
        try:
            yield instance
        finally:
            await instance.app[pool_key].execute("DELETE FROM sms_deliveries")


async def pending_deliveries(app: web.Application) -> int:
    return await app[pool_key].fetchval("SELECT count(*) FROM sms_deliveries")


async def queue_emptied(app: web.Application) -> None:
    async def empty() -> bool:
        return await pending_deliveries(app) == 0

    await eventually(empty)


async def requests_for(stub: ProviderStub, mobile: str, count: int = 1) -> list[dict]:
    async def arrived() -> list[dict] | None:
        found = stub.for_mobile(mobile)
        return found if len(found) >= count else None

    return await eventually(arrived, timeout=15)


async def test_code_delivered_with_signed_request(test_settings, http, suite):
    person = new_person()
    async with provider_stub() as (url, stub), identity_with_provider(test_settings, url) as instance:
        portal = portal_at(http, instance.url)
        await portal.post("identity", "/sms-codes", {"mobile": person["mobile"], "purpose": "register",
                                                     **await portal.solve_captcha()}, expect=202)
        await requests_for(stub, person["mobile"])
        request = stub.received[-1]
        message = json.loads(request["body"])
        await portal.post("identity", "/registrations", registration_body(person, message["params"]["code"]),
                          expect=201)
        dev_sink = await portal.get("identity", "/dev/sms", params={"mobile": person["mobile"]})
        await queue_emptied(instance.app)

    headers = request["headers"]
    expected = hmac.new(PROVIDER_KEY.encode(), headers["X-Talent-Timestamp"].encode() + b"." + request["body"],
                        hashlib.sha256).hexdigest()
    assert headers["X-Talent-Signature"] == f"sha256={expected}"
    assert abs(int(headers["X-Talent-Timestamp"]) - request["at"]) < 5
    assert headers["Idempotency-Key"] == message["message_id"]
    assert headers["Content-Type"] == "application/json"
    assert set(message) == {"message_id", "mobile", "template", "purpose", "params"}
    assert message["template"] == "verification_code"
    assert message["purpose"] == "register"
    assert message["params"]["minutes"] == 5
    assert len(message["params"]["code"]) == 6
    assert dev_sink["messages"] == []


async def test_temporary_failures_retried(test_settings, http, suite):
    mobile = random_mobile()
    async with provider_stub([503, 429]) as (url, stub), identity_with_provider(test_settings, url) as instance:
        portal = portal_at(http, instance.url)
        await portal.post("identity", "/sms-codes", {"mobile": mobile, "purpose": "register",
                                                     **await portal.solve_captcha()}, expect=202)
        await requests_for(stub, mobile, 3)
        await queue_emptied(instance.app)

    attempts = stub.for_mobile(mobile)
    assert len(attempts) == 3
    assert len({attempt["message_id"] for attempt in attempts}) == 1
    assert len({attempt["params"]["code"] for attempt in attempts}) == 1


async def test_rejected_delivery_not_retried(test_settings, http, suite):
    mobile = random_mobile()
    async with provider_stub([400]) as (url, stub), identity_with_provider(test_settings, url) as instance:
        portal = portal_at(http, instance.url)
        await portal.post("identity", "/sms-codes", {"mobile": mobile, "purpose": "register",
                                                     **await portal.solve_captcha()}, expect=202)
        await queue_emptied(instance.app)

    assert len(stub.for_mobile(mobile)) == 1


async def test_unreachable_provider_gives_up_when_code_expires(test_settings, http, suite):
    mobile = random_mobile()
    async with identity_with_provider(test_settings, f"http://127.0.0.1:{free_port()}/sms") as instance:
        portal = portal_at(http, instance.url)
        await portal.post("identity", "/sms-codes", {"mobile": mobile, "purpose": "register",
                                                     **await portal.solve_captcha()}, expect=202)

        async def retried() -> bool:
            return await instance.app[pool_key].fetchval("SELECT max(attempts) FROM sms_deliveries") == 1

        await eventually(retried)
        await instance.app[pool_key].execute(
            "UPDATE sms_deliveries SET expires_at = now() + interval '1 second', next_attempt_at = now()")
        await queue_emptied(instance.app)


async def test_reset_code_for_unknown_mobile_never_reaches_provider(test_settings, http, suite):
    unknown = random_mobile()
    async with provider_stub() as (url, stub), identity_with_provider(test_settings, url) as instance:
        portal = portal_at(http, instance.url)
        answer = await portal.request("POST", "identity", "/sms-codes", json={
            "mobile": unknown, "purpose": "reset_password", **await portal.solve_captcha()})
        queued = await pending_deliveries(instance.app)

    assert answer == (202, {"expires_in": 300, "resend_in": 60})
    assert queued == 0
    assert stub.for_mobile(unknown) == []


async def test_queued_code_encrypted(test_settings, http, suite):
    mobile = random_mobile()
    async with provider_stub([503]) as (url, stub), identity_with_provider(test_settings, url) as instance:
        portal = portal_at(http, instance.url)
        await portal.post("identity", "/sms-codes", {"mobile": mobile, "purpose": "register",
                                                     **await portal.solve_captcha()}, expect=202)
        await requests_for(stub, mobile)
        row = await instance.app[pool_key].fetchrow("SELECT mobile_encrypted, code_encrypted FROM sms_deliveries")
        code = stub.for_mobile(mobile)[0]["params"]["code"]

    assert row is not None
    assert mobile.encode() not in row["mobile_encrypted"]
    assert code.encode() not in row["code_encrypted"]


def test_provider_needs_key():
    with pytest.raises(SettingsError) as refused:
        load_settings(sms_provider_url="https://sms.example.cn/send")
    assert "TALENT_SMS_PROVIDER_KEY" in str(refused.value)
