"""Ended sessions are rejected at the gateway within a second, fed by identity.session_revoked.

The probe is GET /api/v1/binding/bindings: the binding service verifies only the token's signature
and expiry, so the 401 `auth.session_revoked` can come from nothing but the gateway's revocation set.
"""

import asyncio
import time

import aiohttp
import asyncpg
import pytest

from tests.support import Portal, new_person

pytestmark = pytest.mark.e2e

DEADLINE = 1.0


async def seconds_until_rejected(signed_in: Portal) -> tuple[float, dict]:
    """Poll a protected endpoint through the gateway until it responds with 401; return the time taken and the body."""
    started = time.monotonic()
    while True:
        status, body = await signed_in.request("GET", "binding", "/bindings")
        elapsed = time.monotonic() - started
        if status == 401:
            return elapsed, body
        assert status == 200, body
        assert elapsed < DEADLINE * 5, f"ended session still accepted after {elapsed:.2f}s"
        await asyncio.sleep(0.01)


@pytest.fixture
async def gateway_portal(launched):
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        yield Portal.through_gateway(http, launched["gateway"])


async def signed_in_person(portal: Portal) -> tuple[dict, Portal]:
    person = new_person()
    await portal.register_person(person)
    signed_in = await portal.login(person["mobile"], person["password"])
    await signed_in.get("binding", "/bindings")
    return person, signed_in


async def pass_sms_resend_interval(database_url: str) -> None:
    """Move every stored SMS code 61 seconds into the past, as if the resend interval had passed."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("UPDATE identity.sms_codes SET created_at = created_at - interval '61 seconds',"
                                 " expires_at = expires_at - interval '61 seconds'")
    finally:
        await connection.close()


async def test_signed_out_token_rejected_within_one_second(gateway_portal):
    _, signed_in = await signed_in_person(gateway_portal)

    await signed_in.delete("identity", "/sessions/current", expect=204)
    elapsed, problem = await seconds_until_rejected(signed_in)

    assert problem["code"] == "auth.session_revoked"
    assert elapsed < DEADLINE, f"rejected after {elapsed:.3f}s"


async def test_password_reset_token_rejected_within_one_second(gateway_portal, launched):
    person, signed_in = await signed_in_person(gateway_portal)
    await pass_sms_resend_interval(launched["ports"]["TALENT_DATABASE_URL"])
    code = await gateway_portal.sms_code(person["mobile"], purpose="reset_password")

    await gateway_portal.post("identity", "/password-resets", {"mobile": person["mobile"], "sms_code": code,
                                                               "new_password": "Fresh#2026reset"}, expect=204)
    elapsed, problem = await seconds_until_rejected(signed_in)

    assert problem["code"] == "auth.session_revoked"
    assert elapsed < DEADLINE, f"rejected after {elapsed:.3f}s"
    await gateway_portal.login(person["mobile"], "Fresh#2026reset")


async def test_refresh_reuse_token_rejected_within_one_second(gateway_portal):
    _, signed_in = await signed_in_person(gateway_portal)
    first_refresh = signed_in.refresh_token
    await gateway_portal.post("identity", "/sessions/refresh", {"refresh_token": first_refresh}, expect=200)

    await gateway_portal.post("identity", "/sessions/refresh", {"refresh_token": first_refresh}, expect=401)
    elapsed, problem = await seconds_until_rejected(signed_in)

    assert problem["code"] == "auth.session_revoked"
    assert elapsed < DEADLINE, f"rejected after {elapsed:.3f}s"
