"""Personal data in identity: ID numbers encrypted at rest, masked for everyone but the owner, never logged,
and readable across a data key rotation (TALENT_DATA_KEYS_PREVIOUS).

Run with TALENT_TEST_SERVICES=identity. Key rotation runs on an identity database of its own.
"""

import base64
import json
import logging
import os

import pytest

from services.common.service import pool_key
from services.common.settings import SettingsError
from services.common.validators import mask_id_number
from services.identity.crypto import DataCipher
from services.identity.resources import identity_key
from tests.integration.identity_support import (
    age_sms_codes,
    captured_events,
    claims_of,
    id_number_ending_in_x,
    on_new_port,
    own_database,
    portal_at,
    running_identity,
)
from tests.support import Portal, new_person


@pytest.fixture
def portal(suite, http, test_settings) -> Portal:
    return portal_at(http, test_settings.identity_url)


def new_data_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


async def test_id_number_encrypted_at_rest(portal, identity_app):
    person = new_person(id_number=id_number_ending_in_x())
    user_id = await portal.register_person(person)

    row = await identity_app[pool_key].fetchrow("SELECT * FROM persons WHERE user_id = $1::uuid", user_id)
    stored = b"".join(value if isinstance(value, bytes) else str(value).encode() for value in row.values())

    assert person["id_number"].encode() not in stored
    assert person["id_number"].lower().encode() not in stored
    assert row["id_number_masked"] == mask_id_number(person["id_number"])
    assert row["data_key_id"] == identity_app[identity_key].cipher.key_id


async def test_id_number_masked_for_everyone_but_owner(portal, test_settings, identity_app):
    person = new_person()
    other = new_person()
    user_id = await portal.register_person(person)
    await portal.register_person(other)
    owner = await portal.login(person["mobile"], person["password"])
    stranger = await portal.login(other["mobile"], other["password"])
    admin = await portal.login(test_settings.admin_account, test_settings.admin_password)

    own_view = await owner.get("identity", "/me")
    stranger_view = await stranger.get("identity", "/me")
    audit = await admin.get("identity", "/audit-events", params={"user_id": user_id})
    text_seen_by_others = json.dumps([stranger_view, audit, claims_of(owner.token)], ensure_ascii=False)

    assert own_view["id_number"] == person["id_number"]
    assert claims_of(owner.token)["idm"] == mask_id_number(person["id_number"])
    assert person["id_number"] not in text_seen_by_others
    assert person["mobile"] not in text_seen_by_others


async def test_events_hold_no_id_number_or_mobile(portal, test_settings, identity_app):
    person = new_person()
    event_types = ("identity.user_registered", "identity.session_revoked", "identity.password_reset")

    async with captured_events(test_settings, *event_types) as capture:
        user_id = await portal.register_person(person)
        await age_sms_codes(identity_app, person["mobile"], 61)
        await portal.login(person["mobile"], person["password"])
        code = await portal.sms_code(person["mobile"], purpose="reset_password")
        await portal.post("identity", "/password-resets", {"mobile": person["mobile"], "sms_code": code,
                                                           "new_password": "Fresh#2026reset"}, expect=204)
        await capture.wait_for("identity.password_reset", user_id=user_id)
        await capture.wait_for("identity.session_revoked", user_id=user_id)
        await capture.wait_for("identity.user_registered", user_id=user_id)

    text = json.dumps(capture.seen, ensure_ascii=False)
    assert person["id_number"] not in text
    assert person["mobile"] not in text


async def test_logs_hold_no_personal_data_or_secrets(portal, caplog, identity_app):
    caplog.set_level(logging.DEBUG)
    person = new_person(id_number=id_number_ending_in_x())

    await portal.register_person(person)
    await portal.post("identity", "/sessions", {"account": person["id_number"].lower(), "password": "Wrong#2026pw",
                                                **await portal.solve_captcha()}, expect=401)
    signed_in = await portal.login(person["id_number"], person["password"], channel="app")
    await signed_in.get("identity", "/me")
    ticket = await portal.post("identity", "/qr-tickets", expect=201)
    await signed_in.post("identity", f"/qr-tickets/{ticket['ticket_id']}/scan")
    await signed_in.post("identity", f"/qr-tickets/{ticket['ticket_id']}/confirm")
    collected = await portal.get("identity", f"/qr-tickets/{ticket['ticket_id']}",
                                 headers={"X-QR-Poll-Secret": ticket["poll_secret"]})
    await age_sms_codes(identity_app, person["mobile"], 61)
    code = await portal.sms_code(person["mobile"], purpose="reset_password")
    await portal.post("identity", "/password-resets", {"mobile": person["mobile"], "sms_code": code,
                                                       "new_password": "Fresh#2026reset"}, expect=204)

    messages = "\n".join(record.getMessage() for record in caplog.records)
    secrets = [person["id_number"], person["id_number"].lower(), person["mobile"], person["password"],
               "Fresh#2026reset", signed_in.token, signed_in.refresh_token, collected["access_token"],
               collected["refresh_token"], ticket["poll_secret"]]
    assert caplog.records
    for secret in secrets:
        assert secret not in messages
    assert f"code {code}" not in messages


# Data key rotation


async def test_data_key_rotation_reencrypts_and_keeps_sign_in(test_settings, http, suite):
    old_key, new_key = test_settings.data_key, new_data_key()
    person = new_person(id_number=id_number_ending_in_x())
    async with own_database(test_settings) as settings:
        async with running_identity(settings) as before:
            portal = portal_at(http, before.url)
            user_id = await portal.register_person(person)
            token_before = await portal.login(person["mobile"], person["password"])

        rotated = on_new_port(settings, data_key=new_key, data_keys_previous=old_key)
        async with running_identity(rotated) as during:
            portal = portal_at(http, during.url)
            await Portal(http, {"identity": during.url}, token=token_before.token).get("identity", "/me")
            by_id_number = await portal.login(person["id_number"], person["password"])
            me = await by_id_number.get("identity", "/me")
            rows = await during.app[pool_key].fetch("SELECT data_key_id FROM persons")
            key_rows = await during.app[pool_key].fetch("SELECT data_key_id FROM signing_keys")

        async with running_identity(on_new_port(settings, data_key=new_key)) as after:
            portal = portal_at(http, after.url)
            again = await portal.login(person["id_number"], person["password"])
            me_after = await again.get("identity", "/me")

    new_key_id = DataCipher(new_key).key_id
    assert me["user_id"] == me_after["user_id"] == user_id
    assert me["id_number"] == me_after["id_number"] == person["id_number"]
    assert {row["data_key_id"] for row in rows} == {new_key_id}
    assert {row["data_key_id"] for row in key_rows} == {new_key_id}


async def test_process_with_old_key_reads_reencrypted_rows(test_settings, http, suite):
    old_key, new_key = test_settings.data_key, new_data_key()
    person = new_person()
    async with own_database(test_settings) as settings:
        old_process = on_new_port(settings, data_keys_previous=new_key)
        async with running_identity(old_process) as first:
            await portal_at(http, first.url).register_person(person)
            async with running_identity(on_new_port(settings, data_key=new_key, data_keys_previous=old_key)):
                pass
            signed_in = await portal_at(http, first.url).login(person["id_number"], person["password"])
            me = await signed_in.get("identity", "/me")
        async with running_identity(on_new_port(old_process)) as restarted_old:
            rows = await restarted_old.app[pool_key].fetch("SELECT data_key_id FROM persons")

    assert me["id_number"] == person["id_number"]
    assert {row["data_key_id"] for row in rows} == {DataCipher(new_key).key_id}


async def test_start_refused_without_the_old_key(test_settings, http, suite):
    async with own_database(test_settings) as settings:
        async with running_identity(settings):
            pass
        with pytest.raises(RuntimeError) as refused:
            async with running_identity(on_new_port(settings, data_key=new_data_key())):
                pass

    assert "TALENT_DATA_KEYS_PREVIOUS" in str(refused.value)


def test_bad_previous_data_key_named_at_start():
    with pytest.raises(SettingsError) as refused:
        DataCipher(new_data_key(), "not base64!")
    assert "TALENT_DATA_KEYS_PREVIOUS" in str(refused.value)

    with pytest.raises(SettingsError) as short:
        DataCipher(new_data_key(), base64.b64encode(b"short").decode())
    assert "32 bytes" in str(short.value)


async def test_rows_written_by_old_process_found_by_new(test_settings, http, suite):
    old_key, new_key = test_settings.data_key, new_data_key()
    person = new_person()
    async with own_database(test_settings) as settings:
        async with running_identity(settings):
            pass
        rotated = on_new_port(settings, data_key=new_key, data_keys_previous=old_key)
        async with running_identity(rotated) as new_process:
            async with running_identity(on_new_port(settings, data_keys_previous=new_key)) as old_process:
                await portal_at(http, old_process.url).register_person(person)
            twin = new_person(id_number=person["id_number"])
            portal = portal_at(http, new_process.url)
            code = await portal.sms_code(twin["mobile"])
            body = {key: twin[key] for key in ("mobile", "real_name", "id_number", "password")}
            problem = await portal.post("identity", "/registrations", {**body, "sms_code": code}, expect=409)
            signed_in = await portal.login(person["id_number"], person["password"])
            me = await signed_in.get("identity", "/me")

    assert problem["code"] == "identity.id_number_registered"
    assert me["id_number"] == person["id_number"]
