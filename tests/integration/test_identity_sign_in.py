"""Password sign-in: throttling per account and per client address, client addresses, re-hashing, audit.

Run with TALENT_TEST_SERVICES=identity. Waits end by moving `blocked_until` into the past, never by sleeping.
"""

import asyncio
import ipaddress
import uuid

import pytest

from services.common.service import pool_key
from services.identity.clients import TrustedProxies
from tests.integration.identity_support import (
    address_to_exhaust,
    audit_events,
    lift_sign_in_blocks,
    on_new_port,
    portal_at,
    random_address,
    running_identity,
    sign_in_attempt,
    without_request,
)
from tests.support import Portal, new_person, random_mobile

WRONG = "Wrong#2026pass"


@pytest.fixture
def portal(suite, http, test_settings) -> Portal:
    return portal_at(http, test_settings.identity_url)


async def registered(portal: Portal) -> tuple[dict, str]:
    person = new_person()
    return person, await portal.register_person(person)


# Throttling per account


async def test_wait_escalates_to_fifteen_minutes(portal, identity_app):
    person, _ = await registered(portal)
    waits = []
    for _ in range(5):
        status, _, _ = await sign_in_attempt(portal, person["mobile"], WRONG)
        assert status == 401
    for _ in range(10):
        status, problem, headers = await sign_in_attempt(portal, person["mobile"], WRONG)
        assert status == 429
        waits.append(int(headers["Retry-After"]))
        await lift_sign_in_blocks(identity_app)
        status, _, _ = await sign_in_attempt(portal, person["mobile"], WRONG)
        assert status == 401

    assert waits[:5] == [5, 10, 20, 40, 80]
    assert waits[-1] == 900
    assert all(wait <= 900 for wait in waits)
    assert problem["detail"] == "登录失败次数过多，请 15 分钟后再试。"


async def test_throttled_message_says_wait_in_both_languages(portal):
    person, _ = await registered(portal)
    for _ in range(5):
        await sign_in_attempt(portal, person["mobile"], WRONG)

    status, chinese, headers = await sign_in_attempt(portal, person["mobile"], person["password"])
    portal.language = "en"
    _, english, _ = await sign_in_attempt(portal, person["mobile"], person["password"])

    assert status == 429
    assert chinese["code"] == "identity.sign_in_throttled"
    assert chinese["detail"] == f"登录失败次数过多，请 {headers['Retry-After']} 秒后再试。"
    assert english["detail"].startswith("Too many failed sign-ins; try again in ")


async def test_owner_signs_in_after_wait_and_count_restarts(portal, identity_app):
    person, user_id = await registered(portal)
    for _ in range(5):
        await sign_in_attempt(portal, person["mobile"], WRONG)
    blocked, _, _ = await sign_in_attempt(portal, person["mobile"], person["password"])

    await lift_sign_in_blocks(identity_app)
    owner, _, _ = await sign_in_attempt(portal, person["mobile"], person["password"])
    after_success, _, _ = await sign_in_attempt(portal, person["mobile"], WRONG)

    assert blocked == 429
    assert owner == 201
    assert after_success == 401


async def test_failures_forgotten_after_a_day(portal, identity_app):
    person, _ = await registered(portal)
    for _ in range(4):
        await sign_in_attempt(portal, person["mobile"], WRONG)
    await identity_app[pool_key].execute(
        "UPDATE sign_in_throttles SET last_failed_at = last_failed_at - interval '25 hours'")

    fifth, _, _ = await sign_in_attempt(portal, person["mobile"], WRONG)
    sixth, _, _ = await sign_in_attempt(portal, person["mobile"], WRONG)

    assert (fifth, sixth) == (401, 401)


async def test_parallel_guesses_throttled_like_sequential(portal):
    person, _ = await registered(portal)
    captchas = [await portal.solve_captcha() for _ in range(10)]
    url = portal.url("identity", "/sessions")

    async def guess(captcha: dict) -> int:
        body = {"account": person["mobile"], "password": WRONG, **captcha}
        async with portal.http.post(url, json=body, headers=portal._headers(None)) as response:
            return response.status

    statuses = await asyncio.gather(*(guess(captcha) for captcha in captchas))

    assert sorted(statuses) == [401] * 5 + [429] * 5


async def test_mobile_and_id_number_share_account_throttle(portal):
    person, _ = await registered(portal)
    for account in [person["mobile"], person["id_number"]] * 2 + [person["mobile"]]:
        await sign_in_attempt(portal, account, WRONG)

    status, _, _ = await sign_in_attempt(portal, person["id_number"], person["password"])
    assert status == 429


async def test_throttled_known_and_unknown_answer_alike(portal):
    person, _ = await registered(portal)
    unknown = random_mobile()
    answers = {}
    for account in (person["mobile"], unknown):
        for _ in range(5):
            await sign_in_attempt(portal, account, WRONG)
        answers[account] = await sign_in_attempt(portal, account, WRONG)

    known_status, known_problem, known_headers = answers[person["mobile"]]
    unknown_status, unknown_problem, unknown_headers = answers[unknown]
    assert known_status == unknown_status == 429
    assert without_request(known_problem) == without_request(unknown_problem)
    assert known_headers["Retry-After"] == unknown_headers["Retry-After"]


async def test_attacker_cannot_block_owner_at_home(portal, http, test_settings):
    person, _ = await registered(portal)
    home = random_address()
    owner = portal_at(http, test_settings.identity_url, home)
    attacker = portal_at(http, test_settings.identity_url)
    await owner.login(person["mobile"], person["password"])

    for _ in range(5):
        await sign_in_attempt(attacker, person["mobile"], WRONG)
    attacker_with_password, _, _ = await sign_in_attempt(attacker, person["mobile"], person["password"])
    at_home, _, _ = await sign_in_attempt(owner, person["mobile"], person["password"])
    from_new_place, _, _ = await sign_in_attempt(portal_at(http, test_settings.identity_url),
                                                 person["mobile"], person["password"])

    assert attacker_with_password == 429
    assert at_home == 201
    assert from_new_place == 429


async def test_failures_at_own_address_still_throttled(portal, http, test_settings):
    person, _ = await registered(portal)
    home = portal_at(http, test_settings.identity_url, random_address())
    await home.login(person["mobile"], person["password"])

    for _ in range(5):
        await sign_in_attempt(home, person["mobile"], WRONG)
    status, _, _ = await sign_in_attempt(home, person["mobile"], person["password"])

    assert status == 429


async def test_sign_in_needs_captcha_before_password(portal, identity_app):
    person, user_id = await registered(portal)

    missing = await portal.post("identity", "/sessions", {"account": person["mobile"], "password": WRONG},
                                expect=422)
    wrong = await portal.post("identity", "/sessions", {"account": person["mobile"], "password": WRONG,
                                                        "captcha_id": (await portal.solve_captcha())["captcha_id"],
                                                        "captcha_answer": "0000"}, expect=422)

    assert {error["field"] for error in missing["errors"]} == {"captcha_id", "captcha_answer"}
    assert wrong["code"] == "identity.captcha_invalid"
    assert await audit_events(identity_app, user_id) == []


# Throttling per client address


async def test_address_throttled_after_twenty_failures(portal, http, test_settings, identity_app):
    address = address_to_exhaust()
    guesser = portal_at(http, test_settings.identity_url, address)
    person, _ = await registered(portal)

    for _ in range(20):
        status, _, _ = await sign_in_attempt(guesser, random_mobile(), WRONG)
        assert status == 401
    status, problem, headers = await sign_in_attempt(guesser, person["mobile"], person["password"])
    elsewhere, _, _ = await sign_in_attempt(portal, person["mobile"], person["password"])

    assert status == 429
    assert problem["code"] == "identity.sign_in_throttled"
    assert headers["Retry-After"] == "5"
    assert elsewhere == 201

    await lift_sign_in_blocks(identity_app)
    status, _, _ = await sign_in_attempt(guesser, person["mobile"], person["password"])
    assert status == 201


async def test_address_failures_not_cleared_by_own_success(portal, http, test_settings):
    address = address_to_exhaust()
    guesser = portal_at(http, test_settings.identity_url, address)
    own, _ = await registered(guesser)

    for index in range(20):
        if index == 10:
            await guesser.login(own["mobile"], own["password"])
        await sign_in_attempt(guesser, random_mobile(), WRONG)
    status, _, _ = await sign_in_attempt(guesser, own["mobile"], own["password"])

    assert status == 429


async def test_request_from_gateway_host_not_throttled_per_address(portal, http, test_settings):
    direct = Portal(http, {"identity": test_settings.identity_url})
    for _ in range(21):
        await sign_in_attempt(direct, random_mobile(), WRONG)
    person, _ = await registered(portal)

    status, _, _ = await sign_in_attempt(direct, person["mobile"], person["password"])
    assert status == 201


# Client addresses


@pytest.mark.parametrize(("peer", "forwarded", "expected"), [
    ("127.0.0.1", None, ("127.0.0.1", True)),
    ("127.0.0.1", "203.0.113.7", ("203.0.113.7", False)),
    ("127.0.0.1", "203.0.113.7, 198.51.100.9", ("198.51.100.9", False)),
    ("127.0.0.1", "203.0.113.7, 127.0.0.1", ("203.0.113.7", False)),
    ("127.0.0.1", "127.0.0.1", ("127.0.0.1", True)),
    ("127.0.0.1", "not-an-address, 127.0.0.1", ("127.0.0.1", True)),
    ("127.0.0.1", "::ffff:203.0.113.8", ("203.0.113.8", False)),
    ("192.0.2.1", "203.0.113.7", ("192.0.2.1", False)),
])
def test_client_address_is_right_most_untrusted(peer, forwarded, expected):
    proxies = TrustedProxies([ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8")])
    assert proxies.client_address(peer, forwarded) == expected


async def test_forwarded_for_from_untrusted_peer_ignored(test_settings, http, suite):
    async with running_identity(on_new_port(test_settings, trusted_proxies="10.255.255.1")) as instance:
        spoofer = portal_at(http, instance.url, "203.0.113.99")
        person, user_id = await registered(spoofer)
        await sign_in_attempt(spoofer, person["mobile"], WRONG)
        entries = await audit_events(instance.app, user_id, "sign_in_failed")

    assert entries[-1]["client_address"] == "127.0.0.1"


async def test_audit_records_address_behind_gateway(portal, http, test_settings, identity_app):
    person, user_id = await registered(portal)
    chained = Portal(http, {"identity": test_settings.identity_url},
                     headers={"X-Forwarded-For": "203.0.113.5, 198.51.100.23", "User-Agent": "Mozilla/5.0 test"})

    await sign_in_attempt(chained, person["mobile"], WRONG)
    entries = await audit_events(identity_app, user_id, "sign_in_failed")

    assert entries[-1]["client_address"] == "198.51.100.23"
    assert entries[-1]["user_agent"] == "Mozilla/5.0 test"


# Password hashes


async def test_password_hash_meets_owasp_minimum(portal, identity_app):
    person, user_id = await registered(portal)
    stored = await identity_app[pool_key].fetchval("SELECT password_hash FROM users WHERE id = $1",
                                                   uuid.UUID(user_id))
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert person["password"] not in stored


async def test_hash_replaced_at_sign_in_when_parameters_change(portal, http, test_settings, identity_app):
    person, user_id = await registered(portal)
    stronger = on_new_port(test_settings, password_time_cost=3, password_memory_kib=24576)

    async with running_identity(stronger) as instance:
        await portal_at(http, instance.url).login(person["mobile"], person["password"])
    rehashed = await identity_app[pool_key].fetchval("SELECT password_hash FROM users WHERE id = $1",
                                                     uuid.UUID(user_id))
    await portal.login(person["mobile"], person["password"])
    back = await identity_app[pool_key].fetchval("SELECT password_hash FROM users WHERE id = $1",
                                                 uuid.UUID(user_id))

    assert rehashed.startswith("$argon2id$v=19$m=24576,t=3,p=1$")
    assert back.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


# Audit trail


async def test_audit_records_sign_in_outcomes(portal, identity_app):
    person, user_id = await registered(portal)
    for _ in range(5):
        await sign_in_attempt(portal, person["mobile"], WRONG)
    await sign_in_attempt(portal, person["mobile"], person["password"])
    await lift_sign_in_blocks(identity_app)
    signed_in = await portal.login(person["id_number"], person["password"])
    await signed_in.delete("identity", "/sessions/current", expect=204)

    entries = await audit_events(identity_app, user_id)
    types = [entry["type"] for entry in entries]

    assert types == ["sign_in_failed"] * 5 + ["sign_in_throttled", "sign_in_succeeded", "signed_out"]
    assert {entry["client_address"] for entry in entries[:-1]} == {portal.headers["X-Forwarded-For"]}
    assert entries[0]["user_agent"] == "talent-tests/1.0"
    assert entries[4]["details"] == {"failures_in_a_row": 5}
    assert entries[6]["account"] == person["id_number"][:3] + "*" * 11 + person["id_number"][-4:]
    assert entries[0]["account"] == person["mobile"][:3] + "****" + person["mobile"][-4:]


async def test_admin_reads_audit_with_keyset_pages(portal, admin):
    person, user_id = await registered(portal)
    for _ in range(4):
        await sign_in_attempt(portal, person["mobile"], WRONG)
    await portal.login(person["mobile"], person["password"])

    pages, cursor = [], None
    while True:
        params = {"user_id": user_id, "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = await admin.get("identity", "/audit-events", params=params)
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    entries = [entry for page in pages for entry in page]
    ids = [entry["id"] for entry in entries]

    assert [len(page) for page in pages] == [2, 2, 1]
    assert ids == sorted(ids, reverse=True)
    assert [entry["type"] for entry in entries] == ["sign_in_succeeded"] + ["sign_in_failed"] * 4
    assert all(entry["user_id"] == user_id for entry in entries)
    assert person["mobile"] not in str(entries)


async def test_audit_filters_by_type(admin):
    page = await admin.get("identity", "/audit-events", params={"type": "sign_in_succeeded", "limit": "5"})
    assert page["items"]
    assert {entry["type"] for entry in page["items"]} == {"sign_in_succeeded"}


async def test_audit_is_for_admins_only(portal):
    person, _ = await registered(portal)
    signed_in = await portal.login(person["mobile"], person["password"])

    forbidden = await signed_in.get("identity", "/audit-events", expect=403)
    anonymous = await portal.get("identity", "/audit-events", expect=401)

    assert forbidden["code"] == "auth.forbidden"
    assert anonymous["code"] == "auth.required"


async def test_audit_query_validated(admin):
    problem = await admin.get("identity", "/audit-events", params={"cursor": "1; DROP", "limit": "5000"},
                              expect=422)
    assert {error["field"] for error in problem["errors"]} == {"cursor", "limit"}
