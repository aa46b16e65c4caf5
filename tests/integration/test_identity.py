"""The identity service against the real PostgreSQL and RabbitMQ: registration, sign-in, tokens, sign-out.

Run with TALENT_TEST_SERVICES=identity. Tests that must move time forward (an expired SMS code, the
60-second resend limit) shift the stored timestamps through the service's own database pool.
"""

import base64
import json
import logging
import uuid
from contextlib import asynccontextmanager

import jwt
import pytest
from aiohttp import web

from services.common.service import pool_key
from services.common.validators import mask_id_number
from services.identity.app import create_app
from services.identity.messaging import id_number_pseudonym
from tests.conftest import free_port
from tests.integration.identity_support import (
    age_sms_codes,
    captured_events,
    claims_of,
    english,
    id_number_ending_in_x,
    mobile_hash,
    portal_at,
    without_request,
)
from tests.support import ApiFailure, Portal, new_person, new_unit, random_mobile


@pytest.fixture
def portal(suite, http, test_settings) -> Portal:
    return portal_at(http, test_settings.identity_url)


# Registration and sign-in


async def test_person_signs_in_by_mobile_and_id_number(portal):
    person = new_person(id_number=id_number_ending_in_x())
    user_id = await portal.register_person({**person, "id_number": person["id_number"].lower()})

    by_mobile = await portal.login(person["mobile"], person["password"])
    by_id_number = await portal.login(person["id_number"].lower(), person["password"])

    me = await by_mobile.get("identity", "/me")
    assert me["user_id"] == user_id
    assert me["role"] == "applicant"
    assert me["name"] == person["real_name"]
    assert me["mobile"] == person["mobile"]
    assert me["id_number"] == person["id_number"]
    assert me["id_number_masked"] == mask_id_number(person["id_number"])
    assert (await by_id_number.get("identity", "/me"))["user_id"] == user_id


async def test_wrong_password_and_unknown_account_answer_alike(portal):
    person = new_person()
    await portal.register_person(person)

    wrong_password = await portal.post("identity", "/sessions", {
        "account": person["mobile"], "password": "Wrong#2026pass", **await portal.solve_captcha()},
        expect=401)
    unknown_account = await portal.post("identity", "/sessions", {
        "account": random_mobile(), "password": "Wrong#2026pass", **await portal.solve_captcha()},
        expect=401)

    assert wrong_password["code"] == "identity.invalid_credentials"
    assert without_request(wrong_password) == without_request(unknown_account)


async def test_sign_in_throttled_after_five_failures(portal):
    person = new_person()
    await portal.register_person(person)
    wrong = {"account": person["mobile"], "password": "Wrong#2026pass"}

    for _ in range(5):
        await portal.post("identity", "/sessions", {**wrong, **await portal.solve_captcha()}, expect=401)
    status, problem = await portal.request("POST", "identity", "/sessions", json={
        "account": person["mobile"], "password": person["password"], **await portal.solve_captcha()})

    assert status == 429
    assert problem["code"] == "identity.sign_in_throttled"
    assert "秒后再试" in problem["detail"]


async def test_throttled_unknown_account_answers_like_known(portal):
    account = random_mobile()
    for _ in range(5):
        await portal.post("identity", "/sessions", {"account": account, "password": "Wrong#2026pass",
                                                    **await portal.solve_captcha()}, expect=401)
    status, _ = await portal.request("POST", "identity", "/sessions", json={
        "account": account, "password": "Wrong#2026pass", **await portal.solve_captcha()})
    assert status == 429


async def test_duplicate_mobile_is_409_pointing_to_forgot_password(portal, identity_app):
    person = new_person()
    await portal.register_person(person)
    await age_sms_codes(identity_app, person["mobile"], 61)

    code = await portal.sms_code(person["mobile"])
    twin = new_person(mobile=person["mobile"])
    body = {key: twin[key] for key in ("mobile", "real_name", "id_number", "password")}
    problem = await portal.post("identity", "/registrations", {**body, "sms_code": code}, expect=409)

    assert problem["code"] == "identity.mobile_registered"
    assert "忘记密码" in problem["detail"]


async def test_duplicate_id_number_is_409(portal):
    person = new_person()
    await portal.register_person(person)

    twin = new_person(id_number=person["id_number"])
    code = await portal.sms_code(twin["mobile"])
    body = {key: twin[key] for key in ("mobile", "real_name", "id_number", "password")}
    problem = await portal.post("identity", "/registrations", {**body, "sms_code": code}, expect=409)

    assert problem["code"] == "identity.id_number_registered"
    assert "忘记密码" in problem["detail"]


async def test_invalid_id_checksum_names_field_in_both_languages(portal):
    person = new_person()
    number = person["id_number"]
    wrong_check = "0" if number[-1] != "0" else "1"
    body = {"mobile": person["mobile"], "sms_code": "123456", "real_name": person["real_name"],
            "id_number": number[:-1] + wrong_check, "password": person["password"]}

    chinese = await portal.post("identity", "/registrations", body, expect=422)
    english_problem = await english(portal).post("identity", "/registrations", body, expect=422)

    assert [error["field"] for error in chinese["errors"]] == ["id_number"]
    assert chinese["errors"][0]["code"] == "identity.id_number_invalid"
    assert "身份证号" in chinese["errors"][0]["message"]
    assert "ID number" in english_problem["errors"][0]["message"]


@pytest.mark.parametrize(("password", "code"), [
    ("Short#1", "identity.password_length"),
    ("alllowercase123", "identity.password_classes"),
    ("Has space#2026", "identity.password_characters"),
])
async def test_weak_password_rejected(portal, password, code):
    person = new_person(password=password)
    body = {key: person[key] for key in ("mobile", "real_name", "id_number", "password")}
    problem = await portal.post("identity", "/registrations", {**body, "sms_code": "123456"}, expect=422)
    assert problem["errors"][0]["field"] == "password"
    assert problem["errors"][0]["code"] == code


async def test_password_containing_mobile_rejected(portal):
    person = new_person()
    person["password"] = f"Ab#{person['mobile']}"
    body = {key: person[key] for key in ("mobile", "real_name", "id_number", "password")}
    problem = await portal.post("identity", "/registrations", {**body, "sms_code": "123456"}, expect=422)
    assert problem["errors"][0]["code"] == "identity.password_contains_identity"


# Captchas and SMS codes


async def test_captcha_image_is_png(portal):
    captcha = await portal.get("identity", "/captcha")
    prefix = "data:image/png;base64,"
    assert captcha["image"].startswith(prefix)
    assert base64.b64decode(captcha["image"][len(prefix):])[:8] == b"\x89PNG\r\n\x1a\n"
    assert captcha["expires_at"]


async def test_captcha_single_use(portal):
    solved = await portal.solve_captcha()
    await portal.post("identity", "/sms-codes", {"mobile": random_mobile(), "purpose": "register", **solved},
                      expect=202)

    problem = await portal.post("identity", "/sms-codes", {"mobile": random_mobile(), "purpose": "register",
                                                           **solved}, expect=422)
    assert problem["code"] == "identity.captcha_invalid"
    assert problem["errors"][0]["field"] == "captcha_answer"


async def test_captcha_case_insensitive_and_burnt_by_wrong_answer(portal):
    solved = await portal.solve_captcha()
    lower_case = {**solved, "captcha_answer": solved["captcha_answer"].lower()}
    await portal.post("identity", "/sms-codes",
                      {"mobile": random_mobile(), "purpose": "register", **lower_case}, expect=202)

    burnt = await portal.solve_captcha()
    wrong = "Z" * len(burnt["captcha_answer"])
    await portal.post("identity", "/sms-codes", {"mobile": random_mobile(), "purpose": "register", **burnt,
                                                 "captcha_answer": wrong}, expect=422)
    problem = await portal.post("identity", "/sms-codes", {"mobile": random_mobile(), "purpose": "register",
                                                           **burnt}, expect=422)
    assert problem["code"] == "identity.captcha_invalid"


async def test_sms_code_wrong_then_right_then_replayed(portal):
    person = new_person()
    code = await portal.sms_code(person["mobile"])
    body = {key: person[key] for key in ("mobile", "real_name", "id_number", "password")}
    wrong_code = f"{(int(code) + 1) % 1_000_000:06d}"

    wrong = await portal.post("identity", "/registrations", {**body, "sms_code": wrong_code}, expect=422)
    await portal.post("identity", "/registrations", {**body, "sms_code": code}, expect=201)
    replayed = await portal.post("identity", "/registrations", {**new_person(mobile=person["mobile"]),
                                                                "sms_code": code}, expect=422)

    assert wrong["code"] == "identity.sms_code_invalid"
    assert wrong["errors"][0]["field"] == "sms_code"
    assert replayed["code"] == "identity.sms_code_expired"


async def test_sms_code_expired(portal, identity_app):
    person = new_person()
    code = await portal.sms_code(person["mobile"])
    await age_sms_codes(identity_app, person["mobile"], 301)

    body = {key: person[key] for key in ("mobile", "real_name", "id_number", "password")}
    problem = await portal.post("identity", "/registrations", {**body, "sms_code": code}, expect=422)
    assert problem["code"] == "identity.sms_code_expired"


async def test_sms_code_dies_after_five_wrong_tries(portal):
    person = new_person()
    code = await portal.sms_code(person["mobile"])
    body = {key: person[key] for key in ("mobile", "real_name", "id_number", "password")}
    wrong_code = f"{(int(code) + 1) % 1_000_000:06d}"

    for _ in range(5):
        await portal.post("identity", "/registrations", {**body, "sms_code": wrong_code}, expect=422)
    problem = await portal.post("identity", "/registrations", {**body, "sms_code": code}, expect=422)
    assert problem["code"] == "identity.sms_code_expired"


async def test_sms_resend_waits_60_seconds(portal):
    mobile = random_mobile()
    await portal.sms_code(mobile)

    status, problem = await portal.request("POST", "identity", "/sms-codes", json={
        "mobile": mobile, "purpose": "register", **await portal.solve_captcha()})
    assert status == 429
    assert problem["code"] == "identity.sms_too_frequent"


async def test_reset_code_for_unknown_mobile_answers_like_known(portal, identity_app):
    person = new_person()
    await portal.register_person(person)
    await age_sms_codes(identity_app, person["mobile"], 61)
    unknown = random_mobile()

    answers = []
    for mobile in (person["mobile"], unknown):
        for _ in range(2):
            status, _ = await portal.request("POST", "identity", "/sms-codes", json={
                "mobile": mobile, "purpose": "reset_password", **await portal.solve_captcha()})
            answers.append(status)
    sent_to_known = await portal.get("identity", "/dev/sms", params={"mobile": person["mobile"]})
    sent_to_unknown = await portal.get("identity", "/dev/sms", params={"mobile": unknown})

    assert answers == [202, 429, 202, 429]
    assert sent_to_known["messages"][0]["purpose"] == "reset_password"
    assert sent_to_unknown["messages"] == []


async def test_sms_code_not_stored_in_clear(portal, identity_app):
    mobile = random_mobile()
    code = await portal.sms_code(mobile)
    rows = await identity_app[pool_key].fetch("SELECT code_hash FROM sms_codes WHERE mobile_hash = $1",
                                              mobile_hash(identity_app, mobile))
    assert len(rows) == 1
    assert code.encode() not in rows[0]["code_hash"]


# Tokens


async def test_access_token_is_es256_and_verifies_against_jwks(portal, test_settings):
    person = new_person()
    user_id = await portal.register_person(person)
    signed_in = await portal.login(person["mobile"], person["password"])

    header = jwt.get_unverified_header(signed_in.token)
    jwks = await portal.get("identity", "/.well-known/jwks.json")
    jwk = next(key for key in jwks["keys"] if key["kid"] == header["kid"])
    public_key = jwt.algorithms.ECAlgorithm.from_jwk(json.dumps(jwk))
    claims = jwt.decode(signed_in.token, public_key, algorithms=["ES256"],
                        audience=test_settings.token_audience, issuer=test_settings.token_issuer)

    assert header["alg"] == "ES256"
    assert claims["sub"] == user_id
    assert claims["role"] == "applicant"
    assert claims["name"] == person["real_name"]
    assert claims["idm"] == mask_id_number(person["id_number"])
    assert "uscc" not in claims
    assert claims["sid"] and claims["jti"]
    assert claims["exp"] - claims["iat"] <= test_settings.access_token_ttl
    assert "d" not in jwk


async def test_unsigned_or_edited_token_refused(portal):
    person = new_person()
    await portal.register_person(person)
    signed_in = await portal.login(person["mobile"], person["password"])
    header, payload, signature = signed_in.token.split(".")
    claims = claims_of(signed_in.token)

    def encode(part: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

    unsigned = f"{encode({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    edited = f"{header}.{encode({**claims, 'role': 'admin'})}.{signature}"

    for forged in (unsigned, edited):
        problem = await portal.as_user(forged).get("identity", "/me", expect=401)
        assert problem["code"] == "auth.invalid_token"


async def test_sign_out_refuses_token_and_publishes_revocation(portal, test_settings):
    person = new_person()
    await portal.register_person(person)
    signed_in = await portal.login(person["mobile"], person["password"])
    claims = claims_of(signed_in.token)

    async with captured_events(test_settings, "identity.session_revoked") as capture:
        await signed_in.delete("identity", "/sessions/current", expect=204)
        event = await capture.wait_for("identity.session_revoked", session_id=claims["sid"])

    await signed_in.get("identity", "/me", expect=401)
    assert event["data"]["user_id"] == claims["sub"]
    assert event["data"]["reason"] == "logout"
    assert person["mobile"] not in json.dumps(event)


async def test_internal_revoked_sessions_needs_token(portal, test_settings):
    person = new_person()
    await portal.register_person(person)
    signed_in = await portal.login(person["mobile"], person["password"])
    session_id = claims_of(signed_in.token)["sid"]
    await signed_in.delete("identity", "/sessions/current", expect=204)

    await portal.get("identity", "/internal/revoked-sessions", expect=404)
    await portal.get("identity", "/internal/revoked-sessions", expect=404,
                     headers={"X-Internal-Token": "guess"})
    listed = await portal.get("identity", "/internal/revoked-sessions",
                              headers={"X-Internal-Token": test_settings.internal_token})

    revoked = {entry["session_id"]: entry for entry in listed["sessions"]}
    assert session_id in revoked
    assert revoked[session_id]["expires_at"]


async def test_refresh_rotates_and_reuse_revokes_session(portal, test_settings):
    person = new_person()
    await portal.register_person(person)
    signed_in = await portal.login(person["mobile"], person["password"])
    first_refresh = signed_in.refresh_token
    session_id = claims_of(signed_in.token)["sid"]

    rotated = await portal.post("identity", "/sessions/refresh", {"refresh_token": first_refresh}, expect=200)
    assert rotated["refresh_token"] != first_refresh
    assert rotated["token_type"] == "Bearer"
    assert claims_of(rotated["access_token"])["sid"] == session_id
    await portal.as_user(rotated["access_token"]).get("identity", "/me")

    async with captured_events(test_settings, "identity.session_revoked") as capture:
        reused = await portal.post("identity", "/sessions/refresh", {"refresh_token": first_refresh},
                                   expect=401)
        event = await capture.wait_for("identity.session_revoked", session_id=session_id)

    assert reused["code"] == "identity.refresh_token_invalid"
    assert event["data"]["reason"] == "refresh_reuse"
    await portal.post("identity", "/sessions/refresh", {"refresh_token": rotated["refresh_token"]},
                      expect=401)
    await portal.as_user(rotated["access_token"]).get("identity", "/me", expect=401)


# Units and staff


async def test_unit_registers_and_first_sign_in_is_announced(portal, test_settings, identity_app):
    unit = new_unit()

    async with captured_events(test_settings, "identity.user_registered",
                               "identity.unit_first_signed_in") as capture:
        user_id = await portal.register_unit(unit)
        registered = await capture.wait_for("identity.user_registered", user_id=user_id)
        signed_in = await portal.login(unit["uscc"], unit["password"])
        first = await capture.wait_for("identity.unit_first_signed_in", user_id=user_id)
    await portal.login(unit["uscc"].lower(), unit["password"])

    claims = claims_of(signed_in.token)
    assert registered["data"] == {"user_id": user_id, "kind": "unit", "role": "unit_reviewer",
                                  "uscc": unit["uscc"], "unit_name": unit["unit_name"]}
    assert first["data"]["uscc"] == unit["uscc"]
    assert claims["role"] == "unit_reviewer"
    assert claims["uscc"] == unit["uscc"]
    assert "idm" not in claims
    announcements = await identity_app[pool_key].fetchval(
        "SELECT count(*) FROM outbox WHERE type = 'identity.unit_first_signed_in'"
        " AND envelope -> 'data' ->> 'user_id' = $1", user_id)
    assert announcements == 1


async def test_duplicate_uscc_is_409(portal):
    unit = new_unit()
    await portal.register_unit(unit)

    twin = new_unit(uscc=unit["uscc"])
    with pytest.raises(ApiFailure) as failure:
        await portal.register_unit(twin)
    assert failure.value.status == 409
    assert failure.value.body["code"] == "identity.uscc_registered"


async def test_registration_event_omits_personal_numbers(portal, test_settings):
    person = new_person()

    async with captured_events(test_settings, "identity.user_registered") as capture:
        user_id = await portal.register_person(person)
        event = await capture.wait_for("identity.user_registered", user_id=user_id)

    assert event["data"] == {"user_id": user_id, "kind": "person", "role": "applicant",
                             "real_name": person["real_name"],
                             "id_number_hash": id_number_pseudonym(test_settings.id_number_hash_key,
                                                                   person["id_number"])}
    text = json.dumps(event)
    assert person["id_number"] not in text
    assert person["mobile"] not in text
    assert mask_id_number(person["id_number"]) not in text


async def test_admin_from_settings_creates_department_reviewer(portal, test_settings):
    admin = await portal.login(test_settings.admin_account, test_settings.admin_password)
    account = f"reviewer{uuid.uuid4().hex[:8]}"
    password = "Review#2026dept"

    created = await admin.post("identity", "/staff", {"account": account, "name": "赵审核",
                                                      "role": "department_reviewer", "password": password},
                               expect=201)
    reviewer = await portal.login(account, password)
    me = await reviewer.get("identity", "/me")

    assert me["user_id"] == created["user_id"]
    assert me["role"] == "department_reviewer"
    assert me["account"] == account
    assert claims_of(admin.token)["role"] == "admin"


async def test_applicant_cannot_create_staff(portal):
    person = new_person()
    await portal.register_person(person)
    signed_in = await portal.login(person["mobile"], person["password"])

    staff = {"account": f"x{uuid.uuid4().hex[:8]}", "name": "钱某", "role": "admin",
             "password": "Sneaky#2026pw"}
    problem = await signed_in.post("identity", "/staff", staff, expect=403)
    assert problem["code"] == "auth.forbidden"


# Personal data and development endpoints


async def test_logs_hold_no_id_number_or_mobile(portal, caplog):
    caplog.set_level(logging.DEBUG)
    person = new_person()

    await portal.register_person(person)
    await portal.post("identity", "/sessions", {"account": person["id_number"], "password": "Wrong#2026pass",
                                                **await portal.solve_captcha()}, expect=401)
    signed_in = await portal.login(person["mobile"], person["password"])
    await signed_in.get("identity", "/me")
    await signed_in.delete("identity", "/sessions/current", expect=204)

    messages = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records
    assert person["id_number"] not in messages
    assert person["mobile"] not in messages
    assert person["password"] not in messages


async def test_dev_endpoints_absent_when_disabled(test_settings, http, suite):
    settings = test_settings.model_copy(update={"dev_endpoints": False, "identity_port": free_port()})
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.identity_port).start()
    try:
        portal = Portal(http, {"identity": f"http://127.0.0.1:{settings.identity_port}"})
        captcha = await portal.get("identity", "/captcha")
        await portal.get("identity", f"/dev/captcha/{captcha['captcha_id']}", expect=404)
        await portal.get("identity", "/dev/sms", params={"mobile": random_mobile()}, expect=404)
        openapi = await portal.get("identity", "/openapi.json")
    finally:
        await runner.cleanup()

    assert not any(path.startswith("/dev/") for path in openapi["paths"])


@asynccontextmanager
async def identity_with(settings):
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.identity_port).start()
    try:
        yield f"http://127.0.0.1:{settings.identity_port}"
    finally:
        await runner.cleanup()


async def test_admin_password_follows_settings_outside_production(test_settings, http, suite):
    account = f"ops{uuid.uuid4().hex[:8]}"
    first = test_settings.model_copy(update={"admin_account": account, "admin_password": "First#2026Pass",
                                             "identity_port": free_port()})
    second = first.model_copy(update={"admin_password": "Second#2026Pass", "identity_port": free_port()})
    async with identity_with(first):
        pass
    async with identity_with(second) as url:
        portal = Portal(http, {"identity": url})
        await portal.login(account, "Second#2026Pass")
        status, body = await portal.request(
            "POST", "identity", "/sessions",
            json={"account": account, "password": "First#2026Pass", **await portal.solve_captcha()})

    assert status == 401
    assert body["code"] == "identity.invalid_credentials"
