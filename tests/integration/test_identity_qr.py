"""扫码登录: the page's ticket, the app's scan and confirmation, the single hand-over, replay and expiry.

Run with TALENT_TEST_SERVICES=identity. Expiry is reached by moving the ticket's times into the past.
"""

from datetime import datetime, timedelta

import pytest
from aiohttp import web

from services.common.service import pool_key
from tests.integration.identity_support import audit_events, claims_of, portal_at
from tests.support import Portal, new_person, new_unit

TOKEN_FIELDS = {"access_token", "refresh_token", "token_type", "expires_in"}


@pytest.fixture
def portal(suite, http, test_settings) -> Portal:
    return portal_at(http, test_settings.identity_url)


@pytest.fixture
def page(suite, http, test_settings) -> Portal:
    """The web page: a browser at its own address that creates and polls tickets."""
    return portal_at(http, test_settings.identity_url, "198.18.7.7")


async def app_session(portal: Portal) -> tuple[dict, str, Portal]:
    """A person signed in on the mobile app."""
    person = new_person()
    user_id = await portal.register_person(person)
    return person, user_id, await portal.login(person["mobile"], person["password"], channel="app")


async def new_ticket(page: Portal) -> dict:
    return await page.post("identity", "/qr-tickets", expect=201)


async def poll(page: Portal, ticket: dict, secret: str | None = None, expect=200) -> dict:
    headers = {"X-QR-Poll-Secret": ticket["poll_secret"] if secret is None else secret}
    return await page.get("identity", f"/qr-tickets/{ticket['ticket_id']}", headers=headers, expect=expect)


async def age_ticket(app: web.Application, ticket: dict, seconds: int) -> None:
    await app[pool_key].execute(
        "UPDATE qr_tickets SET created_at = created_at - make_interval(secs => $2),"
        " expires_at = expires_at - make_interval(secs => $2) WHERE id = $1::uuid", ticket["ticket_id"], seconds)


async def test_ticket_moves_through_states_and_hands_over_once(page, portal, identity_app):
    _, user_id, app = await app_session(portal)
    ticket = await new_ticket(page)

    waiting = await poll(page, ticket)
    scanned = await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan")
    seen_scanned = await poll(page, ticket)
    confirmed = await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/confirm")
    collected = await poll(page, ticket)
    polled_again = await poll(page, ticket)

    assert ticket["qr_content"] == f"talent-qr-login:{ticket['ticket_id']}"
    assert ticket["poll_secret"] not in ticket["qr_content"]
    assert waiting["status"] == "waiting"
    assert not TOKEN_FIELDS & set(waiting)
    assert scanned["status"] == "scanned"
    assert not TOKEN_FIELDS & set(scanned)
    assert scanned["page_client_address"] == "198.18.7.7"
    assert scanned["page_user_agent"] == "talent-tests/1.0"
    assert seen_scanned["status"] == "scanned"
    assert not TOKEN_FIELDS & set(seen_scanned)
    assert confirmed["status"] == "confirmed"
    assert not TOKEN_FIELDS & set(confirmed)
    assert collected["status"] == "confirmed"
    assert TOKEN_FIELDS <= set(collected)
    assert polled_again["status"] == "confirmed"
    assert not TOKEN_FIELDS & set(polled_again)

    signed_in = portal.as_user(collected["access_token"])
    me = await signed_in.get("identity", "/me")
    assert me["user_id"] == user_id
    assert claims_of(collected["access_token"])["sid"] != claims_of(app.token)["sid"]
    refreshed = await portal.post("identity", "/sessions/refresh", {"refresh_token": collected["refresh_token"]})
    assert refreshed["access_token"]
    entries = await audit_events(identity_app, user_id, "sign_in_succeeded")
    assert entries[-1]["details"] == {"method": "qr", "ticket_id": ticket["ticket_id"]}
    assert entries[-1]["client_address"] == "198.18.7.7"


async def test_nothing_token_like_stored_before_collection(page, portal, identity_app):
    _, _, app = await app_session(portal)
    ticket = await new_ticket(page)
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan")
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/confirm")

    row = await identity_app[pool_key].fetchrow("SELECT * FROM qr_tickets WHERE id = $1::uuid", ticket["ticket_id"])

    assert row["session_id"] is None
    assert ticket["poll_secret"].encode() not in row["poll_secret_hash"]


async def test_confirmation_replayed_refused(page, portal):
    _, _, app = await app_session(portal)
    ticket = await new_ticket(page)
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan")
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/confirm")
    await poll(page, ticket)

    confirm_again = await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/confirm", expect=409)
    scan_again = await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan", expect=409)

    assert confirm_again["code"] == "identity.qr_ticket_used"
    assert scan_again["code"] == "identity.qr_ticket_used"


async def test_poll_needs_the_page_secret(page, portal):
    _, _, app = await app_session(portal)
    ticket = await new_ticket(page)
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan")
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/confirm")

    without = await page.get("identity", f"/qr-tickets/{ticket['ticket_id']}", expect=404)
    wrong = await poll(page, ticket, secret="guess", expect=404)
    collected = await poll(page, ticket)

    assert without["code"] == wrong["code"] == "identity.qr_ticket_not_found"
    assert TOKEN_FIELDS <= set(collected)


async def test_unknown_ticket_not_found(page, portal):
    _, _, app = await app_session(portal)
    problem = await app.post("identity", "/qr-tickets/00000000-0000-0000-0000-000000000000/scan", expect=404)
    malformed = await app.post("identity", "/qr-tickets/not-a-ticket/scan", expect=404)
    assert problem["code"] == malformed["code"] == "identity.qr_ticket_not_found"


async def test_ticket_valid_just_before_two_minutes(page, portal, identity_app):
    _, _, app = await app_session(portal)
    ticket = await new_ticket(page)
    created_at = await identity_app[pool_key].fetchval(
        "SELECT created_at FROM qr_tickets WHERE id = $1::uuid", ticket["ticket_id"])
    await age_ticket(identity_app, ticket, 118)

    status = await poll(page, ticket)
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan")

    assert datetime.fromisoformat(ticket["expires_at"]) - created_at == timedelta(minutes=2)
    assert status["status"] == "waiting"


async def test_ticket_expires_after_two_minutes(page, portal, identity_app):
    _, _, app = await app_session(portal)
    ticket = await new_ticket(page)
    await age_ticket(identity_app, ticket, 121)

    status = await poll(page, ticket)
    problem = await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan", expect=410)

    assert status["status"] == "expired"
    assert problem["code"] == "identity.qr_ticket_expired"


async def test_confirmed_ticket_not_collected_in_time_expires(page, portal, identity_app):
    _, _, app = await app_session(portal)
    ticket = await new_ticket(page)
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan")
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/confirm")
    await age_ticket(identity_app, ticket, 121)

    status = await poll(page, ticket)

    assert status["status"] == "expired"
    assert not TOKEN_FIELDS & set(status)


async def test_scanned_ticket_expires_before_confirmation(page, portal, identity_app):
    _, _, app = await app_session(portal)
    ticket = await new_ticket(page)
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan")
    await age_ticket(identity_app, ticket, 121)

    problem = await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/confirm", expect=410)
    assert problem["code"] == "identity.qr_ticket_expired"


async def test_only_signed_in_app_scans(page, portal):
    ticket = await new_ticket(page)
    _, _, app = await app_session(portal)
    await app.delete("identity", "/sessions/current", expect=204)

    anonymous = await portal.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan", expect=401)
    signed_out = await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan", expect=401)

    assert anonymous["code"] == "auth.required"
    assert signed_out["code"] == "auth.invalid_token"
    assert (await poll(page, ticket))["status"] == "waiting"


async def test_only_app_sessions_scan(page, portal):
    person, _, app = await app_session(portal)
    web = await portal.login(person["mobile"], person["password"])
    ticket = await new_ticket(page)

    rejected = await web.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan", expect=403)
    rejected_en = await web.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan", expect=403,
                                headers={"Accept-Language": "en"})
    waiting = await poll(page, ticket)
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan")
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/confirm")
    collected = await poll(page, ticket)
    by_qr = page.as_user(collected["access_token"])
    next_ticket = await new_ticket(page)
    chained = await by_qr.post("identity", f"/qr-tickets/{next_ticket['ticket_id']}/scan", expect=403)

    assert rejected["code"] == "identity.qr_app_session_required"
    assert "手机 App" in rejected["detail"]
    assert "mobile app" in rejected_en["detail"]
    assert waiting["status"] == "waiting"
    assert chained["code"] == "identity.qr_app_session_required"


async def test_only_scanning_session_confirms(page, portal):
    person, _, app = await app_session(portal)
    other_person = await app_session(portal)
    same_person_elsewhere = await portal.login(person["mobile"], person["password"])
    ticket = await new_ticket(page)
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan")

    by_other = await other_person[2].post("identity", f"/qr-tickets/{ticket['ticket_id']}/confirm", expect=409)
    by_other_session = await same_person_elsewhere.post("identity", f"/qr-tickets/{ticket['ticket_id']}/confirm",
                                                        expect=409)
    scan_taken = await other_person[2].post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan", expect=409)
    rescanned = await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan")

    assert by_other["code"] == by_other_session["code"] == scan_taken["code"] == "identity.qr_ticket_used"
    assert rescanned["status"] == "scanned"
    assert (await poll(page, ticket))["status"] == "scanned"


async def test_confirm_needs_scan_first(page, portal):
    _, _, app = await app_session(portal)
    ticket = await new_ticket(page)

    problem = await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/confirm", expect=409)
    assert problem["code"] == "identity.qr_ticket_not_scanned"


async def test_confirming_session_signed_out_before_collection(page, portal):
    _, _, app = await app_session(portal)
    ticket = await new_ticket(page)
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan")
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/confirm")
    await app.delete("identity", "/sessions/current", expect=204)

    status = await poll(page, ticket)

    assert status["status"] == "expired"
    assert not TOKEN_FIELDS & set(status)


async def test_unit_signs_in_by_qr(page, portal):
    unit = new_unit()
    await portal.register_unit(unit)
    app = await portal.login(unit["uscc"], unit["password"], channel="app")
    ticket = await new_ticket(page)
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan")
    await app.post("identity", f"/qr-tickets/{ticket['ticket_id']}/confirm")

    collected = await poll(page, ticket)

    assert claims_of(collected["access_token"])["role"] == "unit_reviewer"
    assert claims_of(collected["access_token"])["uscc"] == unit["uscc"]
