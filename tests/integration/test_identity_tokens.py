"""Access tokens, refresh tokens and signing keys: forged and expired tokens, reuse, rotation with overlap.

Run with TALENT_TEST_SERVICES=identity. Key rotation runs on an identity database of its own, so that
the suite's other services never meet a retired key.
"""

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from services.common.auth import TokenVerifier
from services.common.errors import ApiError
from services.common.service import pool_key
from services.identity.resources import identity_key
from services.identity.tokens import SigningKey, Subject, TokenIssuer
from tests.integration.identity_support import (
    audit_events,
    captured_events,
    claims_of,
    on_new_port,
    own_database,
    portal_at,
    running_identity,
)
from tests.support import Portal, new_person


@pytest.fixture
def portal(suite, http, test_settings) -> Portal:
    return portal_at(http, test_settings.identity_url)


async def signed_in_person(portal: Portal) -> tuple[dict, Portal]:
    person = new_person()
    await portal.register_person(person)
    return person, await portal.login(person["mobile"], person["password"])


def encode_part(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def sign_with(key, claims: dict, kid: str, algorithm: str = "ES256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


# Forged and expired access tokens


async def test_token_from_another_key_refused(portal):
    _, signed_in = await signed_in_person(portal)
    claims = claims_of(signed_in.token)
    kid = jwt.get_unverified_header(signed_in.token)["kid"]
    stranger = ec.generate_private_key(ec.SECP256R1())

    for forged in (sign_with(stranger, claims, kid), sign_with(stranger, claims, "unknown-key")):
        problem = await signed_in.as_user(forged).get("identity", "/me", expect=401)
        assert problem["code"] == "auth.invalid_token"


async def test_public_key_as_hmac_secret_refused(portal):
    _, signed_in = await signed_in_person(portal)
    jwks = await portal.get("identity", "/.well-known/jwks.json")
    header, payload, _ = signed_in.token.split(".")
    kid = jwt.get_unverified_header(signed_in.token)["kid"]
    public_jwk = json.dumps(next(key for key in jwks["keys"] if key["kid"] == kid)).encode()
    signing_input = f"{encode_part({'alg': 'HS256', 'kid': kid, 'typ': 'JWT'})}.{payload}"
    signature = base64.urlsafe_b64encode(hmac.new(public_jwk, signing_input.encode(), hashlib.sha256).digest())
    forged = f"{signing_input}.{signature.rstrip(b'=').decode()}"

    problem = await signed_in.as_user(forged).get("identity", "/me", expect=401)
    assert problem["code"] == "auth.invalid_token"


async def test_unsigned_token_with_kid_refused(portal):
    _, signed_in = await signed_in_person(portal)
    _, payload, _ = signed_in.token.split(".")
    kid = jwt.get_unverified_header(signed_in.token)["kid"]

    for algorithm in ("none", "None", "NONE"):
        forged = f"{encode_part({'alg': algorithm, 'kid': kid, 'typ': 'JWT'})}.{payload}."
        problem = await signed_in.as_user(forged).get("identity", "/me", expect=401)
        assert problem["code"] == "auth.invalid_token"


@pytest.mark.parametrize("change", [
    {"sub": str(uuid.uuid4())},
    {"sid": str(uuid.uuid4())},
    {"exp": int(time.time()) + 86400},
    {"role": "department_reviewer"},
])
async def test_edited_claim_refused(portal, change):
    _, signed_in = await signed_in_person(portal)
    header, _, signature = signed_in.token.split(".")
    forged = f"{header}.{encode_part({**claims_of(signed_in.token), **change})}.{signature}"

    problem = await signed_in.as_user(forged).get("identity", "/me", expect=401)
    assert problem["code"] == "auth.invalid_token"


@pytest.mark.parametrize("change", [
    {"exp": int(time.time()) - 5, "iat": int(time.time()) - 905},
    {"aud": "another-audience"},
    {"iss": "another-issuer"},
])
async def test_token_signed_by_identity_but_invalid_refused(portal, identity_app, change):
    _, signed_in = await signed_in_person(portal)
    async with identity_app[pool_key].acquire() as connection:
        key = await identity_app[identity_key].keys.signing_key(connection)
    claims = {**claims_of(signed_in.token), **change}

    problem = await signed_in.as_user(sign_with(key.private_key, claims, key.kid)).get("identity", "/me",
                                                                                        expect=401)
    assert problem["code"] == "auth.invalid_token"


async def test_token_lifetime_at_most_fifteen_minutes(portal, test_settings):
    _, signed_in = await signed_in_person(portal)
    claims = claims_of(signed_in.token)
    assert claims["exp"] - claims["iat"] <= 900
    assert test_settings.access_token_ttl <= 900


# Refresh tokens


async def test_refresh_after_sign_out_refused(portal):
    _, signed_in = await signed_in_person(portal)
    await signed_in.delete("identity", "/sessions/current", expect=204)

    problem = await portal.post("identity", "/sessions/refresh", {"refresh_token": signed_in.refresh_token},
                                expect=401)
    assert problem["code"] == "identity.refresh_token_invalid"


async def test_refresh_after_session_end_refused(portal, identity_app):
    _, signed_in = await signed_in_person(portal)
    await identity_app[pool_key].execute(
        "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1::uuid",
        claims_of(signed_in.token)["sid"])

    await portal.post("identity", "/sessions/refresh", {"refresh_token": signed_in.refresh_token}, expect=401)


async def test_unknown_refresh_token_refused(portal):
    problem = await portal.post("identity", "/sessions/refresh", {"refresh_token": "x" * 43}, expect=401)
    assert problem["code"] == "identity.refresh_token_invalid"


async def test_refresh_reuse_ends_session_and_is_audited(portal, identity_app, test_settings):
    _, signed_in = await signed_in_person(portal)
    claims = claims_of(signed_in.token)
    rotated = await portal.post("identity", "/sessions/refresh", {"refresh_token": signed_in.refresh_token})
    again = await portal.post("identity", "/sessions/refresh", {"refresh_token": rotated["refresh_token"]})

    async with captured_events(test_settings, "identity.session_revoked") as capture:
        await portal.post("identity", "/sessions/refresh", {"refresh_token": signed_in.refresh_token}, expect=401)
        event = await capture.wait_for("identity.session_revoked", session_id=claims["sid"])

    await portal.post("identity", "/sessions/refresh", {"refresh_token": again["refresh_token"]}, expect=401)
    await portal.as_user(again["access_token"]).get("identity", "/me", expect=401)
    entries = await audit_events(identity_app, claims["sub"], "refresh_token_reused")
    assert event["data"]["reason"] == "refresh_reuse"
    assert entries[0]["details"] == {"session_id": claims["sid"]}


async def test_refresh_tokens_stored_as_hashes(portal, identity_app):
    _, signed_in = await signed_in_person(portal)
    rows = await identity_app[pool_key].fetch(
        "SELECT token_hash FROM refresh_tokens WHERE session_id = $1::uuid", claims_of(signed_in.token)["sid"])
    assert len(rows) == 1
    assert signed_in.refresh_token.encode() not in rows[0]["token_hash"]


# Signing key rotation


async def test_rotation_keeps_old_tokens_valid_until_retired(test_settings, http, suite):
    async with own_database(test_settings) as settings, running_identity(settings) as instance:
        portal = portal_at(http, instance.url)
        admin = await portal.login(settings.admin_account, settings.admin_password)
        _, before = await signed_in_person(portal)
        old_kid = jwt.get_unverified_header(before.token)["kid"]

        rotated = await admin.post("identity", "/signing-keys", expect=201)
        _, after = await signed_in_person(portal)
        jwks = await portal.get("identity", "/.well-known/jwks.json")
        await before.get("identity", "/me")
        keys = (await admin.get("identity", "/signing-keys"))["items"]

        assert rotated["status"] == "active"
        assert jwt.get_unverified_header(after.token)["kid"] == rotated["kid"] != old_kid
        assert [key["kid"] for key in jwks["keys"]] == [rotated["kid"], old_kid]
        assert {key["kid"]: key["status"] for key in keys} == {rotated["kid"]: "active", old_kid: "published"}

        active = await admin.post("identity", f"/signing-keys/{rotated['kid']}/retire", expect=409)
        too_early = await admin.post("identity", f"/signing-keys/{old_kid}/retire", expect=409)
        await instance.app[pool_key].execute(
            "UPDATE signing_keys SET deactivated_at = deactivated_at - make_interval(secs => $2) WHERE kid = $1",
            old_kid, settings.access_token_ttl + 1)
        await admin.post("identity", f"/signing-keys/{old_kid}/retire", expect=204)
        jwks_after = await portal.get("identity", "/.well-known/jwks.json")
        fresh_verifier = TokenVerifier(f"{instance.url}/.well-known/jwks.json", settings.token_issuer,
                                       settings.token_audience)
        try:
            with pytest.raises(ApiError) as refused:
                await fresh_verifier.verify(before.token)
            accepted = await fresh_verifier.verify(after.token)
        finally:
            await fresh_verifier.close()
        rotations = await audit_events(instance.app, claims_of(admin.token)["sub"], "signing_key_rotated")

    assert active["code"] == "identity.signing_key_active"
    assert too_early["code"] == "identity.signing_key_in_use"
    assert 0 < int(too_early["detail"].split("请 ")[1].split(" 秒")[0]) <= settings.access_token_ttl
    assert [key["kid"] for key in jwks_after["keys"]] == [rotated["kid"]]
    assert refused.value.code == "auth.invalid_token"
    assert accepted.user_id == claims_of(after.token)["sub"]
    assert rotations[0]["details"] == {"kid": rotated["kid"]}


async def test_other_process_signs_with_rotated_key(test_settings, http, suite):
    async with own_database(test_settings) as settings, running_identity(settings) as first:
        async with running_identity(on_new_port(settings)) as second:
            admin = await portal_at(http, first.url).login(settings.admin_account, settings.admin_password)
            rotated = await admin.post("identity", "/signing-keys", expect=201)
            signed_in = await portal_at(http, second.url).login(settings.admin_account, settings.admin_password)

    assert jwt.get_unverified_header(signed_in.token)["kid"] == rotated["kid"]


async def test_key_administration_for_admins_only(portal):
    _, signed_in = await signed_in_person(portal)

    await signed_in.post("identity", "/signing-keys", expect=403)
    await signed_in.get("identity", "/signing-keys", expect=403)
    await portal.post("identity", "/signing-keys", expect=401)


async def test_unknown_key_cannot_be_retired(portal, test_settings):
    admin = await portal.login(test_settings.admin_account, test_settings.admin_password)
    problem = await admin.post("identity", "/signing-keys/no-such-key/retire", expect=404)
    assert problem["code"] == "identity.signing_key_not_found"


def test_token_issuer_writes_documented_claims():
    key = SigningKey.generate()
    issued_at = datetime(2026, 1, 1, tzinfo=UTC)
    token, expires_at = TokenIssuer("talent-identity", "talent", 900).issue(
        key, Subject(user_id="u1", role="unit_reviewer", name="单位", uscc="91440300708461136T"), "s1", issued_at)
    claims = jwt.decode(token, key.private_key.public_key(), algorithms=["ES256"], audience="talent",
                        options={"verify_exp": False})

    assert expires_at - issued_at == timedelta(minutes=15)
    assert jwt.get_unverified_header(token)["kid"] == key.kid
    assert set(claims) == {"iss", "aud", "sub", "sid", "role", "name", "iat", "exp", "jti", "uscc"}
