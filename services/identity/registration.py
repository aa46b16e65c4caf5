"""Two-step personal registration (个人账号注册): the register SMS code first, the person's details after.

The first step uses up the SMS code under the usual rules and returns a registration token (注册凭证)
for the verified mobile. It returns the same response whether or not the mobile is registered, so
the "already registered" rejection comes only from the final step. That rejection uses the token up,
as one-call registration uses up the SMS code.
"""

import logging
import uuid
from datetime import datetime
from typing import NoReturn

import asyncpg

from services.common.errors import ApiError, FieldError

from . import domain, repository
from .crypto import DecryptionFailed, hash_token
from .domain import Purpose, password_error
from .resources import Identity
from .schemas import MobileVerification, Registration, RegistrationToken, VerifiedRegistration
from .tokens import new_secret
from .verification import use_sms_code

log = logging.getLogger(__name__)

# Tokens are deleted a day after they expired. Until then a late final step gets "expired" rather than "invalid".
TOKEN_RETENTION = domain.REGISTRATION_TOKEN_TTL + domain.SMS_LIMIT_WINDOW


async def verify_mobile(connection: asyncpg.Connection, identity: Identity, body: MobileVerification,
                        at: datetime) -> RegistrationToken:
    """Use up the register SMS code of `body.mobile` and issue a registration token for that mobile.

    Call inside `committing_rejections`, so that a counted wrong code survives the rejection.
    """
    await use_sms_code(connection, identity, body.mobile, Purpose.REGISTER, body.sms_code, at)

    token = new_secret()
    token_id = uuid.uuid4()
    expires_at = at + domain.REGISTRATION_TOKEN_TTL
    mobile_encrypted = identity.cipher.encrypt(body.mobile.encode(), _mobile_context(token_id))
    await repository.registrations.delete_tokens_expired_before(connection, at - TOKEN_RETENTION)
    await repository.registrations.insert_token(connection, token_id, hash_token(token), mobile_encrypted,
                                                identity.cipher.key_id, at, expires_at)
    log.info("issued registration token %s", token_id)
    return RegistrationToken(registration_token=token, expires_at=expires_at)


async def verified_mobile(connection: asyncpg.Connection, identity: Identity,
                          form: Registration | VerifiedRegistration, at: datetime) -> str:
    """Use up the form's SMS code or registration token and return the mobile it verified.

    Call inside `committing_rejections`. A rejected token or password rolls back, so the token stays
    usable for a corrected form.
    """
    if isinstance(form, Registration):
        await use_sms_code(connection, identity, form.mobile, Purpose.REGISTER, form.sms_code, at)
        return form.mobile

    token_id, mobile = await _lock_token(connection, identity, form.registration_token, at)
    if form.mobile is not None and form.mobile != mobile:
        log.info("rejected registration token %s: submitted with another mobile", token_id)
        raise ApiError(422, "identity.registration_mobile_mismatch",
                       errors=[FieldError("mobile", "identity.registration_mobile_mismatch")])
    code = password_error(form.password, mobile, form.id_number)
    if code is not None:
        raise ApiError(422, "validation_failed", errors=[FieldError("password", code)])

    await repository.registrations.mark_token_used(connection, token_id, at)
    return mobile


async def _lock_token(connection: asyncpg.Connection, identity: Identity, token: str,
                      at: datetime) -> tuple[uuid.UUID, str]:
    """Lock the stored token and return its id and mobile. Raise `ApiError` if it is unknown, used or expired."""
    row = await repository.registrations.token_for_update(connection, hash_token(token))
    if row is None:
        _reject_token("identity.registration_token_invalid", None)
    code = domain.registration_token_error(row["expires_at"], row["used_at"], at)
    if code is not None:
        _reject_token(code, row["id"])

    try:
        mobile = identity.cipher.decrypt(row["mobile_encrypted"], _mobile_context(row["id"]), row["data_key_id"])
    except DecryptionFailed as e:
        # The data key was removed from TALENT_DATA_KEYS_PREVIOUS within the token's lifetime.
        log.warning("registration token %s cannot be decrypted: %s", row["id"], e)
        _reject_token("identity.registration_token_invalid", row["id"])
    return row["id"], mobile.decode()


def _reject_token(code: str, token_id: uuid.UUID | None) -> NoReturn:
    log.info("rejected registration token %s: %s", token_id or "(unknown)", code)
    raise ApiError(422, code, errors=[FieldError("registration_token", code)])


def _mobile_context(token_id: uuid.UUID) -> str:
    return f"registration_token:{token_id}:mobile"
