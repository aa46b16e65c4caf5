"""Registration rules of identity: SMS codes and their limits, captchas, ID numbers, credit codes, passwords.

Run with TALENT_TEST_SERVICES=identity. Time moves by shifting stored timestamps, never by sleeping.
"""

import random
from datetime import date

import pytest
from aiohttp import web

from services.common.service import pool_key
from services.common.validators import id_number_check_char, uscc_check_char
from tests.integration.identity_support import (
    age_sms_codes,
    portal_at,
    random_address,
    registration_body,
    without_request,
)
from tests.support import Portal, new_person, new_unit, random_mobile

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@pytest.fixture
def portal(suite, http, test_settings) -> Portal:
    return portal_at(http, test_settings.identity_url)


@pytest.fixture
def identity_app(suite) -> web.Application:
    return suite["identity"]


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
    address = random_address()
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


async def test_captcha_answer_stored_only_as_hash_outside_dev(portal, identity_app):
    captcha = await portal.get("identity", "/captcha")
    answer = (await portal.get("identity", f"/dev/captcha/{captcha['captcha_id']}"))["answer"]
    row = await identity_app[pool_key].fetchrow("SELECT answer_hash FROM captchas WHERE id = $1::uuid",
                                                captcha["captcha_id"])

    assert answer.encode() not in row["answer_hash"]
    assert len(row["answer_hash"]) == 32
