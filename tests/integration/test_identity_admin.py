"""Staff accounts and admin actions: creating staff, changing roles, ending a user's sessions, the last admin.

Run with TALENT_TEST_SERVICES=identity.
"""

import uuid

import pytest

from tests.integration.identity_support import (
    age_sms_codes,
    audit_events,
    captured_events,
    claims_of,
    own_database,
    portal_at,
    running_identity,
    sign_in_attempt,
)
from tests.support import Portal, new_person, new_unit, random_mobile

STAFF_PASSWORD = "Review#2026dept"


@pytest.fixture
def portal(suite, http, test_settings) -> Portal:
    return portal_at(http, test_settings.identity_url)


async def new_staff(admin: Portal, role: str = "department_reviewer") -> tuple[str, str]:
    account = f"staff{uuid.uuid4().hex[:8]}"
    created = await admin.post("identity", "/staff", {"account": account, "name": "赵审核", "role": role,
                                                      "password": STAFF_PASSWORD}, expect=201)
    return account, created["user_id"]


async def test_role_change_ends_sessions_and_is_audited(portal, admin, identity_app, test_settings):
    account, user_id = await new_staff(admin)
    reviewer = await portal.login(account, STAFF_PASSWORD)

    async with captured_events(test_settings, "identity.session_revoked") as capture:
        ended = await admin.put("identity", f"/staff/{user_id}/role", {"role": "admin"})
        event = await capture.wait_for("identity.session_revoked", session_id=claims_of(reviewer.token)["sid"])

    await reviewer.get("identity", "/me", expect=401)
    promoted = await portal.login(account, STAFF_PASSWORD)
    entries = await audit_events(identity_app, user_id, "role_changed")

    assert ended == {"sessions_ended": 1}
    assert event["data"]["reason"] == "admin"
    assert claims_of(promoted.token)["role"] == "admin"
    assert entries[-1]["details"] == {"changed_by": claims_of(admin.token)["sub"], "role_before":
                                      "department_reviewer", "role_after": "admin", "sessions_ended": 1}
    assert entries[-1]["account"] == account


async def test_same_role_changes_nothing(portal, admin):
    account, user_id = await new_staff(admin)
    reviewer = await portal.login(account, STAFF_PASSWORD)

    unchanged = await admin.put("identity", f"/staff/{user_id}/role", {"role": "department_reviewer"})

    assert unchanged == {"sessions_ended": 0}
    await reviewer.get("identity", "/me")


async def test_only_staff_roles_change(portal, admin):
    person = new_person()
    person_id = await portal.register_person(person)

    not_staff = await admin.put("identity", f"/staff/{person_id}/role", {"role": "admin"}, expect=404)
    unknown = await admin.put("identity", f"/staff/{uuid.uuid4()}/role", {"role": "admin"}, expect=404)
    bad_role = await admin.put("identity", f"/staff/{person_id}/role", {"role": "unit_reviewer"}, expect=422)

    assert not_staff["code"] == unknown["code"] == "identity.staff_not_found"
    assert bad_role["errors"][0]["field"] == "role"


async def test_last_admin_keeps_role(test_settings, http, suite):
    async with own_database(test_settings) as settings, running_identity(settings) as instance:
        portal = portal_at(http, instance.url)
        admin = await portal.login(settings.admin_account, settings.admin_password)
        admin_id = claims_of(admin.token)["sub"]

        alone = await admin.put("identity", f"/staff/{admin_id}/role", {"role": "department_reviewer"},
                                expect=409)
        second_account, second_id = await new_staff(admin, role="admin")
        await admin.put("identity", f"/staff/{admin_id}/role", {"role": "department_reviewer"})
        second = await portal.login(second_account, STAFF_PASSWORD)
        last = await second.put("identity", f"/staff/{second_id}/role", {"role": "department_reviewer"},
                                 expect=409)
        staff = await second.get("identity", "/staff")

    assert alone["code"] == last["code"] == "identity.last_admin"
    roles = {member["user_id"]: member["role"] for member in staff["items"]}
    assert roles == {admin_id: "department_reviewer", second_id: "admin"}


async def test_admin_ends_user_sessions(portal, admin, identity_app, test_settings):
    person = new_person()
    user_id = await portal.register_person(person)
    phone = await portal.login(person["mobile"], person["password"])
    desktop = await portal.login(person["mobile"], person["password"])

    async with captured_events(test_settings, "identity.session_revoked") as capture:
        ended = await admin.delete("identity", f"/users/{user_id}/sessions")
        events = await capture.wait_for_all("identity.session_revoked", 2, user_id=user_id)

    for old in (phone, desktop):
        await old.get("identity", "/me", expect=401)
    missing = await admin.delete("identity", f"/users/{uuid.uuid4()}/sessions", expect=404)
    entries = await audit_events(identity_app, user_id, "sessions_ended")

    assert ended == {"sessions_ended": 2}
    assert {event["data"]["reason"] for event in events} == {"admin"}
    assert missing["code"] == "identity.user_not_found"
    assert entries[-1]["details"]["sessions_ended"] == 2
    await portal.login(person["mobile"], person["password"])


async def test_staff_creation_audited(admin, identity_app):
    account, user_id = await new_staff(admin)
    entries = await audit_events(identity_app, user_id, "staff_created")
    assert entries[-1]["account"] == account
    assert entries[-1]["details"] == {"created_by": claims_of(admin.token)["sub"], "role_after":
                                      "department_reviewer"}


async def test_admin_actions_forbidden_to_others(portal, admin):
    unit = new_unit()
    await portal.register_unit(unit)
    unit_reviewer = await portal.login(unit["uscc"], unit["password"])
    reviewer_account, reviewer_id = await new_staff(admin)
    department_reviewer = await portal.login(reviewer_account, STAFF_PASSWORD)

    for caller in (unit_reviewer, department_reviewer):
        await caller.post("identity", "/staff", {"account": f"x{uuid.uuid4().hex[:8]}", "name": "钱某",
                                                 "role": "admin", "password": "Sneaky#2026pw"}, expect=403)
        await caller.put("identity", f"/staff/{reviewer_id}/role", {"role": "admin"}, expect=403)
        await caller.delete("identity", f"/users/{reviewer_id}/sessions", expect=403)
        await caller.get("identity", "/staff", expect=403)
    await portal.get("identity", "/staff", expect=401)


@pytest.mark.parametrize("account", ["ab", "9lives", "91440300708461136t", "has space", "x" * 33])
async def test_staff_account_name_rules(admin, account):
    problem = await admin.post("identity", "/staff", {"account": account, "name": "赵审核",
                                                      "role": "department_reviewer", "password": STAFF_PASSWORD},
                               expect=422)
    assert problem["errors"][0]["field"] == "account"
    assert problem["errors"][0]["code"] == "identity.account_invalid"


async def test_duplicate_staff_account_is_409(admin):
    account, _ = await new_staff(admin)
    problem = await admin.post("identity", "/staff", {"account": account.upper(), "name": "赵审核",
                                                      "role": "department_reviewer", "password": STAFF_PASSWORD},
                               expect=409)
    assert problem["code"] == "identity.account_taken"


# Unit account handover


async def test_unit_handover_moves_account_to_real_contact(portal, admin, identity_app):
    impostor_unit = new_unit()
    user_id = await portal.register_unit(impostor_unit)
    impostor = await portal.login(impostor_unit["uscc"], impostor_unit["password"])
    real_mobile = random_mobile()

    handed_over = await admin.post("identity", f"/units/{impostor_unit['uscc']}/handover",
                                   {"contact_name": "孙联络", "contact_mobile": real_mobile,
                                    "reason": "单位来函：该账号非本单位注册"})
    await impostor.get("identity", "/me", expect=401)
    status, problem, _ = await sign_in_attempt(portal, impostor_unit["uscc"], impostor_unit["password"])
    code = await portal.sms_code(real_mobile, purpose="reset_password")
    await portal.post("identity", "/password-resets", {"mobile": real_mobile, "sms_code": code,
                                                       "new_password": "Real#Unit2026"}, expect=204)
    real = await portal.login(impostor_unit["uscc"], "Real#Unit2026")
    me = await real.get("identity", "/me")
    await age_sms_codes(identity_app, impostor_unit["contact_mobile"], 61)
    await portal.post("identity", "/sms-codes", {"mobile": impostor_unit["contact_mobile"],
                                                 "purpose": "reset_password", **await portal.solve_captcha()},
                      expect=202)
    sent_to_impostor = await portal.get("identity", "/dev/sms", params={"mobile": impostor_unit["contact_mobile"]})
    entries = await audit_events(identity_app, user_id, "unit_handed_over")

    assert handed_over["user_id"] == user_id
    assert handed_over["contact_mobile_masked"] == f"{real_mobile[:3]}****{real_mobile[-4:]}"
    assert handed_over["sessions_ended"] == 1
    assert status == 401
    assert problem["code"] == "identity.invalid_credentials"
    assert me["user_id"] == user_id
    assert me["role"] == "unit_reviewer"
    assert me["contact_mobile"] == real_mobile
    assert me["contact_name"] == "孙联络"
    assert [message["purpose"] for message in sent_to_impostor["messages"]] == ["register"]
    assert entries[-1]["details"]["changed_by"] == claims_of(admin.token)["sub"]
    assert entries[-1]["details"]["reason"] == "单位来函：该账号非本单位注册"
    assert real_mobile not in str(entries[-1])


async def test_unit_handover_errors(portal, admin):
    unit = new_unit()
    await portal.register_unit(unit)
    unit_reviewer = await portal.login(unit["uscc"], unit["password"])
    body = {"contact_name": "孙联络", "contact_mobile": random_mobile(), "reason": "单位来函"}

    unknown = await admin.post("identity", f"/units/{new_unit()['uscc']}/handover", body, expect=404)
    invalid = await admin.post("identity", f"/units/{unit['uscc']}/handover",
                               {**body, "contact_mobile": "12345"}, expect=422)
    await unit_reviewer.post("identity", f"/units/{unit['uscc']}/handover", body, expect=403)
    await portal.post("identity", f"/units/{unit['uscc']}/handover", body, expect=401)

    assert unknown["code"] == "identity.unit_not_found"
    assert [error["field"] for error in invalid["errors"]] == ["contact_mobile"]
    await unit_reviewer.get("identity", "/me")
