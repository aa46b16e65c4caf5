"""Registration rules of identity: SMS codes and their limits, captchas, ID numbers, credit codes, passwords.

Run with TALENT_TEST_SERVICES=identity. Time moves by shifting stored timestamps, never by sleeping.
"""

import asyncio
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from services.common.service import pool_key
from services.common.validators import id_number_check_char, uscc_check_char
from services.identity.crypto import hash_token
from tests.integration.identity_support import (
    address_to_exhaust,
    age_sms_codes,
    english,
    expire_registration_token,
    mobile_hash,
    portal_at,
    registration_body,
    without_request,
)
from tests.support import Portal, new_person, new_unit, random_mobile

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@pytest.fixture
def portal(suite, http, test_settings) -> Portal:
    return portal_at(http, test_settings.identity_url)


def id_number_born(birth: date) -> str:
    first17 = f"220104{birth:%Y%m%d}{random.randint(0, 999):03d}"
    return first17 + id_number_check_char(first17)


def uscc_where(first: str, check: str | None = None) -> str:
    """A valid credit code starting with `first`, with check character `check` when given."""
    for _ in range(10_000):
        first17 = first + "".join(random.choice(USCC_ALPHABET) for _ in range(17 - len(first)))
        if check is None or uscc_check_char(first17) == check:
            return first17 + uscc_check_char(first17)
    raise AssertionError(f"no credit code starting with {first} and check {check} in 10000 tries")


async def request_code(portal: Portal, mobile: str, purpose: str = "register") -> tuple[int, dict]:
    return await portal.request("POST", "identity", "/sms-codes", json={
        "mobile": mobile, "purpose": purpose, **await portal.solve_captcha()})


# 公民身份号码 and passwords


@pytest.mark.parametrize("id_number", [
    "22010420990101001X",  # birth date in the future
    "220104199002300011",  # 30 February
    "220104199013010015",  # month 13
])
async def test_id_number_with_impossible_birth_date_rejected(portal, id_number):
    first17 = id_number[:17]
    number = first17 + id_number_check_char(first17)
    person = new_person(id_number=number)

    problem = await portal.post("identity", "/registrations", registration_body(person, "123456"), expect=422)

    assert [error["field"] for error in problem["errors"]] == ["id_number"]
    assert problem["errors"][0]["code"] == "identity.id_number_invalid"


async def test_id_number_born_today_accepted(portal):
    person = new_person(id_number=id_number_born(date.today()))
    await portal.register_person(person)
    me = await (await portal.login(person["id_number"], person["password"])).get("identity", "/me")
    assert me["id_number"] == person["id_number"]


@pytest.mark.parametrize(("password", "valid"), [
    ("abcdEFGH1", True),      # lower, upper, digit
    ("abcd#efg1", True),      # lower, symbol, digit
    ("ABCD#EFG1", True),      # upper, symbol, digit
    ("abcdEFGH#", True),      # lower, upper, symbol
    ("abcdefgh1#", True),
    ("abcD#fg1", True),       # 8 characters
    ("abcD#f1", False),       # 7 characters
    ("abcdEFGHij", False),    # two classes only
    ("Ab1#" * 8, True),       # 32 characters
    ("Ab1#" * 8 + "x", False),
])
async def test_password_classes_and_length(portal, password, valid):
    person = new_person(password=password)
    status, problem = await portal.request("POST", "identity", "/registrations",
                                           json=registration_body(person, "123456"))

    fields = [error["field"] for error in problem.get("errors", [])] if isinstance(problem, dict) else []
    assert ("password" not in fields) is valid, problem


async def test_password_containing_id_number_rejected(portal):
    person = new_person()
    person["password"] = f"Ab#{person['id_number'].lower()}"
    problem = await portal.post("identity", "/registrations", registration_body(person, "123456"), expect=422)
    assert problem["errors"][0]["field"] == "password"
    assert problem["errors"][0]["code"] == "identity.password_contains_identity"


@pytest.mark.parametrize("real_name", ["李", "李" * 31, "李\n明"])
async def test_real_name_rules(portal, real_name):
    person = new_person(real_name=real_name)
    problem = await portal.post("identity", "/registrations", registration_body(person, "123456"), expect=422)
    assert [error["field"] for error in problem["errors"]] == ["real_name"]
    assert problem["errors"][0]["code"] == "identity.real_name_invalid"


# Two-step registration (按步骤进行个人账号注册): SMS code first, then name, ID number and password


async def verification_attempt(portal: Portal, mobile: str, code: str) -> tuple[int, dict, dict]:
    """Step 1 of registration; return the status, body and response headers."""
    url = portal.url("identity", "/registrations/verifications")
    async with portal.http.post(url, json={"mobile": mobile, "sms_code": code},
                                headers=portal._headers(None)) as response:
        return response.status, await response.json(content_type=None), dict(response.headers)


async def verify_mobile(portal: Portal, mobile: str) -> str:
    """Step 1 of registration with a fresh register code; return the registration token."""
    code = await portal.sms_code(mobile)
    verified = await portal.post("identity", "/registrations/verifications", {"mobile": mobile, "sms_code": code},
                                 expect=201)
    return verified["registration_token"]


def details_of(person: dict, token: str) -> dict:
    """Body of the final registration step: the token with the person's name, ID number and password."""
    return {"registration_token": token, **{key: person[key] for key in ("real_name", "id_number", "password")}}


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_two_step_registration(portal):
    person = new_person()
    code = await portal.sms_code(person["mobile"])

    status, verified, headers = await verification_attempt(portal, person["mobile"], code)
    created = await portal.post("identity", "/registrations", details_of(person, verified["registration_token"]),
                                expect=201)
    me = await (await portal.login(person["mobile"], person["password"])).get("identity", "/me")

    assert status == 201
    assert set(verified) == {"registration_token", "expires_at"}
    expires_in = datetime.fromisoformat(verified["expires_at"]) - datetime.now(UTC)
    assert timedelta(minutes=14) < expires_in <= timedelta(minutes=15)
    assert headers["Cache-Control"] == "no-store"
    assert me["user_id"] == created["user_id"]
    assert me["mobile"] == person["mobile"]
    assert me["id_number"] == person["id_number"]
    assert me["name"] == person["real_name"]


async def test_registration_token_stored_only_as_hash(portal, identity_app):
    mobile = random_mobile()
    token = await verify_mobile(portal, mobile)

    row = await identity_app[pool_key].fetchrow("SELECT * FROM registration_tokens WHERE token_hash = $1",
                                                hash_token(token))

    assert row is not None
    stored = b"".join(value if isinstance(value, bytes) else str(value).encode() for value in row.values())
    assert token.encode() not in stored
    assert mobile.encode() not in stored


async def test_registration_token_replay_rejected(portal):
    person = new_person()
    token = await verify_mobile(portal, person["mobile"])
    await portal.post("identity", "/registrations", details_of(person, token), expect=201)

    replay = await portal.post("identity", "/registrations", details_of(new_person(), token), expect=422)

    assert replay["code"] == "identity.registration_token_invalid"
    assert [error["field"] for error in replay["errors"]] == ["registration_token"]


async def test_registration_token_used_once_under_concurrency(portal):
    first, second = new_person(), new_person()
    token = await verify_mobile(portal, first["mobile"])

    outcomes = await asyncio.gather(
        portal.request("POST", "identity", "/registrations", json=details_of(first, token)),
        portal.request("POST", "identity", "/registrations", json=details_of(second, token)))

    assert sorted(status for status, _ in outcomes) == [201, 422]
    rejected = next(body for status, body in outcomes if status == 422)
    assert rejected["code"] == "identity.registration_token_invalid"


async def test_expired_registration_token_rejected(portal, identity_app):
    person = new_person()
    token = await verify_mobile(portal, person["mobile"])
    await expire_registration_token(identity_app, token)

    problem = await portal.post("identity", "/registrations", details_of(person, token), expect=422)
    in_english = await english(portal).post("identity", "/registrations", details_of(person, token), expect=422)

    assert problem["code"] == "identity.registration_token_expired"
    assert "15 分钟" in problem["detail"]
    assert problem["errors"][0]["field"] == "registration_token"
    assert in_english["title"] == "Registration token expired"
    assert "15 minutes" in in_english["detail"]


async def test_unknown_registration_token_rejected(portal):
    person = new_person()

    problem = await portal.post("identity", "/registrations", details_of(person, "A" * 43), expect=422)
    in_english = await english(portal).post("identity", "/registrations", details_of(person, "A" * 43),
                                            expect=422)

    assert problem["code"] == "identity.registration_token_invalid"
    assert problem["title"] == "注册凭证无效或已使用"
    assert in_english["title"] == "Invalid or already used registration token"


async def test_registration_token_bound_to_its_mobile(portal):
    person = new_person()
    token = await verify_mobile(portal, person["mobile"])
    other_mobile = random_mobile()

    mismatch = await portal.post("identity", "/registrations", {**details_of(person, token), "mobile": other_mobile},
                                 expect=422)
    in_english = await english(portal).post("identity", "/registrations",
                                            {**details_of(person, token), "mobile": other_mobile}, expect=422)
    await portal.post("identity", "/registrations", {**details_of(person, token), "mobile": person["mobile"]},
                      expect=201)
    me = await (await portal.login(person["id_number"], person["password"])).get("identity", "/me")

    assert mismatch["code"] == "identity.registration_mobile_mismatch"
    assert [error["field"] for error in mismatch["errors"]] == ["mobile"]
    assert in_english["title"] == "The mobile number differs from the verified one"
    assert me["mobile"] == person["mobile"]


async def test_password_containing_verified_mobile_rejected(portal):
    person = new_person()
    token = await verify_mobile(portal, person["mobile"])

    problem = await portal.post("identity", "/registrations",
                                {**details_of(person, token), "password": f"Ab#{person['mobile']}"}, expect=422)
    await portal.post("identity", "/registrations", details_of(person, token), expect=201)

    assert [error["field"] for error in problem["errors"]] == ["password"]
    assert problem["errors"][0]["code"] == "identity.password_contains_identity"


async def test_registration_forms_do_not_mix(portal):
    person = new_person()

    mixed = await portal.post("identity", "/registrations", {**details_of(person, "A" * 43), "sms_code": "123456"},
                              expect=422)
    token_only = await portal.post("identity", "/registrations", {"registration_token": "A" * 43}, expect=422)

    assert [error["field"] for error in mixed["errors"]] == ["sms_code"]
    assert mixed["errors"][0]["code"] == "validation.unknown_field"
    assert {error["field"] for error in token_only["errors"]} == {"real_name", "id_number", "password"}


async def test_wrong_code_at_verification_counted(portal, identity_app):
    mobile = random_mobile()
    code = await portal.sms_code(mobile)

    status, first, _ = await verification_attempt(portal, mobile, wrong_code(code))
    failures = await identity_app[pool_key].fetchval("SELECT failed_attempts FROM sms_codes WHERE mobile_hash = $1",
                                                     mobile_hash(identity_app, mobile))
    for _ in range(4):
        await verification_attempt(portal, mobile, wrong_code(code))
    right_status, used_up, _ = await verification_attempt(portal, mobile, code)

    assert status == 422
    assert first["code"] == "identity.sms_code_invalid"
    assert failures == 1
    assert right_status == 422
    assert used_up["code"] == "identity.sms_code_expired"


async def test_verification_uses_up_sms_code(portal):
    person = new_person()
    code = await portal.sms_code(person["mobile"])
    await verification_attempt(portal, person["mobile"], code)

    status, again, _ = await verification_attempt(portal, person["mobile"], code)
    one_call = await portal.post("identity", "/registrations", registration_body(person, code), expect=422)

    assert status == 422
    assert again["code"] == "identity.sms_code_expired"
    assert one_call["code"] == "identity.sms_code_expired"


async def test_verification_with_expired_code_rejected(portal, identity_app):
    mobile = random_mobile()
    code = await portal.sms_code(mobile)
    await age_sms_codes(identity_app, mobile, 301)

    status, problem, _ = await verification_attempt(portal, mobile, code)

    assert status == 422
    assert problem["code"] == "identity.sms_code_expired"


async def test_verification_same_for_registered_and_new_mobile(portal, identity_app):
    person = new_person()
    await portal.register_person(person)
    await age_sms_codes(identity_app, person["mobile"], 61)

    answers = []
    for mobile in (person["mobile"], random_mobile()):
        status, body, headers = await verification_attempt(portal, mobile, await portal.sms_code(mobile))
        expires_in = datetime.fromisoformat(body["expires_at"]) - datetime.now(UTC)
        answers.append((status, sorted(body), len(body["registration_token"]), headers["Content-Type"],
                        headers["Cache-Control"], round(expires_in.total_seconds() / 60)))

    assert answers[0] == answers[1]
    assert answers[0][0] == 201


async def test_final_step_reports_registered_mobile(portal, identity_app):
    person = new_person()
    await portal.register_person(person)
    await age_sms_codes(identity_app, person["mobile"], 61)
    token = await verify_mobile(portal, person["mobile"])

    conflict = await portal.post("identity", "/registrations", details_of(new_person(mobile=person["mobile"]), token),
                                 expect=409)
    replay = await portal.post("identity", "/registrations", details_of(new_person(), token), expect=422)

    assert conflict["code"] == "identity.mobile_registered"
    assert "忘记密码" in conflict["detail"]
    assert replay["code"] == "identity.registration_token_invalid"


async def test_final_step_reports_registered_id_number(portal):
    person = new_person()
    await portal.register_person(person)
    prober = new_person(id_number=person["id_number"])
    token = await verify_mobile(portal, prober["mobile"])

    conflict = await portal.post("identity", "/registrations", details_of(prober, token), expect=409)
    in_english = await english(portal).post("identity", "/registrations", details_of(prober, token), expect=422)

    assert conflict["code"] == "identity.id_number_registered"
    assert "忘记密码" in conflict["detail"]
    assert in_english["code"] == "identity.registration_token_invalid"
    assert "Request a new SMS code" in in_english["detail"]


async def test_registration_summaries_in_chinese_and_english(portal):
    document = await portal.get("identity", "/openapi.json")

    verification = document["paths"]["/registrations/verifications"]["post"]
    final_step = document["paths"]["/registrations"]["post"]

    assert "注册凭证" in verification["summary"]
    assert "registration token" in verification["summary"]
    assert "公民身份号码" in final_step["summary"]
    assert "registration token" in final_step["summary"]
    forms = final_step["requestBody"]["content"]["application/json"]["schema"]["anyOf"]
    assert len(forms) == 2


# 统一社会信用代码


@pytest.mark.parametrize("uscc_factory", [
    lambda: uscc_where("Y1"),          # first character a letter (其他登记管理部门)
    lambda: uscc_where("91", "0"),     # check value 0 is written 0
    lambda: uscc_where("A1"),
])
async def test_valid_credit_code_registers(portal, uscc_factory):
    unit = new_unit(uscc=uscc_factory())
    user_id = await portal.register_unit(unit)

    me = await (await portal.login(unit["uscc"], unit["password"])).get("identity", "/me")

    assert me["user_id"] == user_id
    assert me["uscc"] == unit["uscc"]
    assert me["first_signed_in_at"]


@pytest.mark.parametrize("uscc", [
    "91440300708461136U",   # wrong check character
    "91440300708461I36T",   # I is not in the alphabet
    "9144030070846113",     # too short
])
async def test_invalid_credit_code_rejected(portal, uscc):
    unit = new_unit(uscc=uscc)
    body = {key: unit[key] for key in ("uscc", "unit_name", "contact_name", "contact_mobile", "password")}
    problem = await portal.post("identity", "/unit-registrations", {**body, "sms_code": "123456"}, expect=422)
    assert problem["errors"][0]["field"] == "uscc"
    assert problem["errors"][0]["code"] == "identity.uscc_invalid"


async def test_lower_case_credit_code_is_the_same_unit(portal):
    unit = new_unit(uscc=uscc_where("91", "Y"))
    await portal.register_unit(unit)
    twin = new_unit(uscc=unit["uscc"].lower())
    code = await portal.sms_code(twin["contact_mobile"])
    body = {key: twin[key] for key in ("uscc", "unit_name", "contact_name", "contact_mobile", "password")}

    problem = await portal.post("identity", "/unit-registrations", {**body, "sms_code": code}, expect=409)

    assert problem["code"] == "identity.uscc_registered"
    assert "忘记密码" in problem["detail"]


# Account enumeration through registration


async def test_code_request_same_for_registered_and_new_mobile(portal, identity_app):
    person = new_person()
    await portal.register_person(person)
    await age_sms_codes(identity_app, person["mobile"], 61)

    registered = await request_code(portal, person["mobile"])
    fresh = await request_code(portal, random_mobile())

    assert registered == fresh == (202, {"expires_in": 300, "resend_in": 60})


async def test_registered_mobile_told_only_with_valid_code(portal, identity_app):
    person = new_person()
    await portal.register_person(person)
    await age_sms_codes(identity_app, person["mobile"], 61)
    newcomer = new_person()

    codes, wrong_answers = {}, []
    for mobile in (person["mobile"], newcomer["mobile"]):
        codes[mobile] = await portal.sms_code(mobile)
        wrong = f"{(int(codes[mobile]) + 1) % 1_000_000:06d}"
        wrong_answers.append(await portal.post("identity", "/registrations",
                                               registration_body(new_person(mobile=mobile), wrong), expect=422))
    conflict = await portal.post("identity", "/registrations",
                             registration_body(new_person(mobile=person["mobile"]), codes[person["mobile"]]),
                             expect=409)

    assert without_request(wrong_answers[0]) == without_request(wrong_answers[1])
    assert wrong_answers[0]["code"] == "identity.sms_code_invalid"
    assert conflict["code"] == "identity.mobile_registered"
    assert "忘记密码" in conflict["detail"]


async def test_registered_id_number_answer_uses_up_code(portal):
    person = new_person()
    await portal.register_person(person)
    prober = new_person(id_number=person["id_number"])
    code = await portal.sms_code(prober["mobile"])

    first = await portal.post("identity", "/registrations", registration_body(prober, code), expect=409)
    again = await portal.post("identity", "/registrations", registration_body(prober, code), expect=422)

    assert first["code"] == "identity.id_number_registered"
    assert again["code"] == "identity.sms_code_expired"


# SMS code limits


async def test_sms_code_limit_per_mobile_per_day(portal, identity_app):
    mobile = random_mobile()
    for _ in range(10):
        status, _ = await request_code(portal, mobile)
        assert status == 202
        await age_sms_codes(identity_app, mobile, 61)

    url = portal.url("identity", "/sms-codes")
    async with portal.http.post(url, json={"mobile": mobile, "purpose": "register", **await portal.solve_captcha()},
                                headers=portal._headers(None)) as response:
        problem = await response.json(content_type=None)
        retry_after = int(response.headers["Retry-After"])

    assert response.status == 429
    assert problem["code"] == "identity.sms_daily_limit"
    assert "小时后再试" in problem["detail"]
    assert 23 * 3600 < retry_after <= 24 * 3600

    await age_sms_codes(identity_app, mobile, 24 * 3600)
    status, _ = await request_code(portal, mobile)
    assert status == 202


async def test_sms_code_limit_per_address_per_day(portal, suite, http, test_settings):
    address = address_to_exhaust()
    same_network = portal_at(http, test_settings.identity_url, address)
    for _ in range(50):
        status, _ = await request_code(same_network, random_mobile())
        assert status == 202

    status, problem = await request_code(same_network, random_mobile())
    elsewhere, _ = await request_code(portal_at(http, test_settings.identity_url), random_mobile())

    assert status == 429
    assert problem["code"] == "identity.sms_daily_limit"
    assert elsewhere == 202


async def test_sms_code_purposes_do_not_mix(portal, identity_app):
    person = new_person()
    await portal.register_person(person)
    await age_sms_codes(identity_app, person["mobile"], 61)
    reset_code = await portal.sms_code(person["mobile"], purpose="reset_password")

    problem = await portal.post("identity", "/registrations",
                                registration_body(new_person(mobile=person["mobile"]), reset_code), expect=422)
    assert problem["code"] == "identity.sms_code_expired"


async def test_sms_code_request_needs_captcha(portal):
    missing = await portal.post("identity", "/sms-codes", {"mobile": random_mobile(), "purpose": "register"},
                                expect=422)
    forged = await portal.post("identity", "/sms-codes", {
        "mobile": random_mobile(), "purpose": "register", "captcha_id": "not-a-captcha",
        "captcha_answer": "ABCD"}, expect=422)

    assert {error["field"] for error in missing["errors"]} == {"captcha_id", "captcha_answer"}
    assert forged["code"] == "identity.captcha_invalid"


# Captchas


async def test_captcha_expires_after_two_minutes(portal, identity_app):
    solved = await portal.solve_captcha()
    await identity_app[pool_key].execute(
        "UPDATE captchas SET created_at = created_at - interval '121 seconds',"
        " expires_at = expires_at - interval '121 seconds' WHERE id = $1::uuid", solved["captcha_id"])

    problem = await portal.post("identity", "/sms-codes", {"mobile": random_mobile(), "purpose": "register",
                                                           **solved}, expect=422)
    assert problem["code"] == "identity.captcha_invalid"


async def test_captcha_accepted_just_before_two_minutes(portal, identity_app):
    solved = await portal.solve_captcha()
    await identity_app[pool_key].execute(
        "UPDATE captchas SET created_at = created_at - interval '118 seconds',"
        " expires_at = expires_at - interval '118 seconds' WHERE id = $1::uuid", solved["captcha_id"])

    await portal.post("identity", "/sms-codes", {"mobile": random_mobile(), "purpose": "register", **solved},
                      expect=202)


async def test_captcha_answer_stored_only_as_hash_outside_dev(portal, identity_app):
    captcha = await portal.get("identity", "/captcha")
    answer = (await portal.get("identity", f"/dev/captcha/{captcha['captcha_id']}"))["answer"]
    row = await identity_app[pool_key].fetchrow("SELECT answer_hash FROM captchas WHERE id = $1::uuid",
                                                captcha["captcha_id"])

    assert answer.encode() not in row["answer_hash"]
    assert len(row["answer_hash"]) == 32
