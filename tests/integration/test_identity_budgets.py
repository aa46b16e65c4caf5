"""Per-address budgets of the anonymous endpoints that store a row: captchas and QR sign-in tickets.

Run with TALENT_TEST_SERVICES=identity.
"""

import asyncio
import time

import pytest

from services.identity import domain
from tests.integration.identity_support import address_to_exhaust, english, portal_at, random_address
from tests.support import Portal

ENDPOINTS = [("captcha", "GET", "/captcha", 200), ("qr_ticket", "POST", "/qr-tickets", 201)]


async def request(portal: Portal, method: str, path: str) -> tuple[int, dict, dict]:
    url = portal.url("identity", path)
    async with portal.http.request(method, url, headers=portal._headers(None)) as response:
        return response.status, await response.json(content_type=None), dict(response.headers)


async def start_of_a_window(seconds_needed: float = 20) -> None:
    """Wait for the next minute when fewer than `seconds_needed` remain, so a loop stays in one window."""
    remaining = 60 - time.time() % 60
    if remaining < seconds_needed:
        await asyncio.sleep(remaining + 0.2)


@pytest.mark.parametrize(("action", "method", "path", "created"), ENDPOINTS)
async def test_budget_spent_then_429(action, method, path, created, suite, http, test_settings):
    budget = domain.ADDRESS_BUDGETS[action].requests
    caller = portal_at(http, test_settings.identity_url, address_to_exhaust())
    neighbour = portal_at(http, test_settings.identity_url, random_address())
    await start_of_a_window()

    statuses = [(await request(caller, method, path))[0] for _ in range(budget)]
    status, problem, headers = await request(caller, method, path)
    neighbour_status, _, _ = await request(neighbour, method, path)

    assert statuses == [created] * budget
    assert status == 429
    assert problem["code"] == "identity.too_many_requests"
    assert "秒后再试" in problem["detail"]
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert neighbour_status == created


async def test_budget_message_in_english(suite, http, test_settings):
    caller = english(portal_at(http, test_settings.identity_url, address_to_exhaust()))
    await start_of_a_window()

    for _ in range(domain.ADDRESS_BUDGETS["qr_ticket"].requests):
        await request(caller, "POST", "/qr-tickets")
    status, problem, _ = await request(caller, "POST", "/qr-tickets")

    assert status == 429
    assert problem["title"] == "Too many requests"
    assert "try again in" in problem["detail"]


async def test_gateway_host_has_no_budget(suite, http, test_settings):
    direct = Portal(http, {"identity": test_settings.identity_url})
    await start_of_a_window()

    statuses = {(await request(direct, "POST", "/qr-tickets"))[0]
                for _ in range(domain.ADDRESS_BUDGETS["qr_ticket"].requests + 1)}

    assert statuses == {201}
