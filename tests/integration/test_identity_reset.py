"""忘记密码: a new password by SMS code ends every session, and unknown mobiles get the same responses as known ones.

Run with TALENT_TEST_SERVICES=identity. The 60-second resend interval is passed by moving stored times.
"""

import pytest
from aiohttp import web

from tests.integration.identity_support import (
    age_sms_codes,
    audit_events,
    captured_events,
    claims_of,
    portal_at,
    random_address,
    sign_in_attempt,
    without_request,
)
from tests.support import Portal, new_person, new_unit, random_mobile

NEW_PASSWORD = "Fresh#2026reset"


@pytest.fixture
def portal(suite, http, test_settings) -> Portal:
    return portal_at(http, test_settings.identity_url)


async def registered_person(portal: Portal, app: web.Application) -> tuple[dict, str]:
    person = new_person()
    user_id = await portal.register_person(person)
    await age_sms_codes(app, person["mobile"], 61)
    return person, user_id


async def reset(portal: Portal, mobile: str, code: str, password: str = NEW_PASSWORD, expect=204, **extra):
    return await portal.post("identity", "/password-resets",
                             {"mobile": mobile, "sms_code": code, "new_password": password, **extra}, expect=expect)


async def test_reset_ends_every_session_and_announces_it(portal, identity_app, test_settings):
    person, user_id = await registered_person(portal, identity_app)
    phone = await portal.login(person["mobile"], person["password"])
    desktop = await portal.login(person["id_number"], person["password"])
    sessions = {claims_of(phone.token)["sid"], claims_of(desktop.token)["sid"]}
    code = await portal.sms_code(person["mobile"], purpose="reset_password")

    async with captured_events(test_settings, "identity.session_revoked", "identity.password_reset") as capture:
        await reset(portal, person["mobile"], code)
        revoked = await capture.wait_for_all("identity.session_revoked", 2, user_id=user_id)
        announced = await capture.wait_for("identity.password_reset", user_id=user_id)

    for old in (phone, desktop):
        problem = await old.get("identity", "/me", expect=401)
        assert problem["code"] == "auth.invalid_token"
        await portal.post("identity", "/sessions/refresh", {"refresh_token": old.refresh_token}, expect=401)
    old_password, _, _ = await sign_in_attempt(portal, person["mobile"], person["password"])
    await portal.login(person["mobile"], NEW_PASSWORD)

    assert {event["data"]["session_id"] for event in revoked} == sessions
    assert {event["data"]["reason"] for event in revoked} == {"password_reset"}
    assert set(announced["data"]) == {"user_id", "reset_at"}
    assert old_password == 401
    entries = await audit_events(identity_app, user_id, "password_reset")
    assert entries[-1]["details"] == {"sessions_ended": 2}


async def test_reset_code_replay_refused(portal, identity_app):
    person, _ = await registered_person(portal, identity_app)
    code = await portal.sms_code(person["mobile"], purpose="reset_password")
    await reset(portal, person["mobile"], code)

    problem = await reset(portal, person["mobile"], code, "Other#2026reset", expect=422)
    assert problem["code"] == "identity.sms_code_expired"


async def test_reset_code_expires_after_five_minutes(portal, identity_app):
    person, _ = await registered_person(portal, identity_app)
    code = await portal.sms_code(person["mobile"], purpose="reset_password")
    await age_sms_codes(identity_app, person["mobile"], 301)

    problem = await reset(portal, person["mobile"], code, expect=422)
    assert problem["code"] == "identity.sms_code_expired"


async def test_reset_code_guessing_stops_after_five_tries(portal, identity_app):
    person, _ = await registered_person(portal, identity_app)
    code = await portal.sms_code(person["mobile"], purpose="reset_password")
    guesses = [f"{(int(code) + offset) % 1_000_000:06d}" for offset in range(1, 6)]

    answers = [await reset(portal, person["mobile"], guess, expect=422) for guess in guesses]
    right_too_late = await reset(portal, person["mobile"], code, expect=422)

    assert {answer["code"] for answer in answers} == {"identity.sms_code_invalid"}
    assert right_too_late["code"] == "identity.sms_code_expired"
    await portal.login(person["mobile"], person["password"])


async def test_register_code_cannot_reset(portal, identity_app):
    person, _ = await registered_person(portal, identity_app)
    register_code = await portal.sms_code(person["mobile"], purpose="register")

    problem = await reset(portal, person["mobile"], register_code, expect=422)
    assert problem["code"] == "identity.sms_code_expired"


async def test_unknown_mobile_answers_like_known(portal, identity_app):
    person, _ = await registered_person(portal, identity_app)
    unknown = random_mobile()

    requests, wrong_codes, no_codes = [], [], []
    for mobile in (person["mobile"], unknown):
        requests.append(await portal.request("POST", "identity", "/sms-codes", json={
            "mobile": mobile, "purpose": "reset_password", **await portal.solve_captcha()}))
        wrong_codes.append(without_request(await reset(portal, mobile, "000000", expect=422)))
    for mobile in (random_mobile(), random_mobile()):
        no_codes.append(without_request(await reset(portal, mobile, "123456", expect=422)))
    for mobile in (person["mobile"], unknown):
        for _ in range(4):
            await reset(portal, mobile, "000001", expect=422)
    exhausted = [without_request(await reset(portal, mobile, "000002", expect=422))
                 for mobile in (person["mobile"], unknown)]

    assert requests[0] == requests[1] == (202, {"expires_in": 300, "resend_in": 60})
    assert wrong_codes[0] == wrong_codes[1]
    assert wrong_codes[0]["code"] == "identity.sms_code_invalid"
    assert no_codes[0] == no_codes[1]
    assert no_codes[0]["code"] == "identity.sms_code_expired"
    assert exhausted[0] == exhausted[1]
    assert exhausted[0]["code"] == "identity.sms_code_expired"


async def test_rejected_new_password_keeps_code_usable(portal, identity_app):
    person, _ = await registered_person(portal, identity_app)
    code = await portal.sms_code(person["mobile"], purpose="reset_password")

    with_id_number = await reset(portal, person["mobile"], code, f"Ab#{person['id_number']}", expect=422)
    with_mobile = await reset(portal, person["mobile"], code, f"Ab#{person['mobile']}", expect=422)
    weak = await reset(portal, person["mobile"], code, "password", expect=422)
    await reset(portal, person["mobile"], code)

    assert with_id_number["errors"][0]["field"] == "new_password"
    assert with_id_number["errors"][0]["code"] == "identity.password_contains_identity"
    assert with_mobile["errors"][0]["code"] == "identity.password_contains_identity"
    assert weak["errors"][0]["field"] == "new_password"
    await portal.login(person["mobile"], NEW_PASSWORD)


async def test_reset_lets_throttled_owner_in(portal, identity_app):
    person, _ = await registered_person(portal, identity_app)
    for _ in range(5):
        await sign_in_attempt(portal, person["mobile"], "Wrong#2026pass")
    throttled, _, _ = await sign_in_attempt(portal, person["mobile"], person["password"])
    code = await portal.sms_code(person["mobile"], purpose="reset_password")

    await reset(portal, person["mobile"], code)
    status, _, _ = await sign_in_attempt(portal, person["mobile"], NEW_PASSWORD)

    assert throttled == 429
    assert status == 201


async def test_unit_resets_by_contact_mobile(portal, identity_app):
    unit = new_unit()
    await portal.register_unit(unit)
    await age_sms_codes(identity_app, unit["contact_mobile"], 61)
    code = await portal.sms_code(unit["contact_mobile"], purpose="reset_password")

    await reset(portal, unit["contact_mobile"], code)
    await portal.login(unit["uscc"], NEW_PASSWORD)


async def test_shared_contact_mobile_needs_credit_code(portal, identity_app):
    first = new_unit()
    second = new_unit(contact_mobile=first["contact_mobile"])
    await portal.register_unit(first)
    await age_sms_codes(identity_app, first["contact_mobile"], 61)
    await portal.register_unit(second)
    await age_sms_codes(identity_app, first["contact_mobile"], 61)
    code = await portal.sms_code(first["contact_mobile"], purpose="reset_password")

    ambiguous = await reset(portal, first["contact_mobile"], code, expect=422)
    wrong_unit = await reset(portal, first["contact_mobile"], code, account=new_unit()["uscc"], expect=422)
    await reset(portal, first["contact_mobile"], code, account=second["uscc"])

    assert ambiguous["errors"][0]["field"] == "account"
    assert ambiguous["errors"][0]["code"] == "identity.reset_account_required"
    assert wrong_unit["errors"][0]["code"] == "identity.reset_account_not_found"
    await portal.login(second["uscc"], NEW_PASSWORD)
    await portal.login(first["uscc"], first["password"])


async def test_reset_clears_only_own_throttle(portal, identity_app):
    person, _ = await registered_person(portal, identity_app)
    other, _ = await registered_person(portal, identity_app)
    for _ in range(5):
        await sign_in_attempt(portal, other["mobile"], "Wrong#2026pass")
    code = await portal.sms_code(person["mobile"], purpose="reset_password")

    await reset(portal, person["mobile"], code)
    status, _, _ = await sign_in_attempt(portal, other["mobile"], other["password"])

    assert status == 429


async def test_codes_requested_elsewhere_do_not_block_owner(portal, identity_app, http, test_settings):
    person, _ = await registered_person(portal, identity_app)
    home = portal_at(http, test_settings.identity_url, random_address())
    await home.login(person["mobile"], person["password"])
    stranger = portal_at(http, test_settings.identity_url, random_address())
    # The registration code was the first of the mobile's 10 codes a day.
    for _ in range(9):
        await stranger.post("identity", "/sms-codes", {"mobile": person["mobile"], "purpose": "reset_password",
                                                       **await stranger.solve_captcha()}, expect=202)
        await age_sms_codes(identity_app, person["mobile"], 61)

    blocked = await stranger.post("identity", "/sms-codes", {"mobile": person["mobile"], "purpose": "reset_password",
                                                             **await stranger.solve_captcha()}, expect=429)
    elsewhere = portal_at(http, test_settings.identity_url, random_address())
    also_blocked = await elsewhere.post("identity", "/sms-codes", {
        "mobile": person["mobile"], "purpose": "reset_password", **await elsewhere.solve_captcha()}, expect=429)
    code = await home.sms_code(person["mobile"], purpose="reset_password")
    await reset(home, person["mobile"], code)

    assert blocked["code"] == "identity.sms_daily_limit"
    assert also_blocked["code"] == "identity.sms_daily_limit"
    await home.login(person["mobile"], NEW_PASSWORD)
