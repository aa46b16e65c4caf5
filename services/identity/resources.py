"""Process-wide parts of the identity service, its signing key, and the caller check of its handlers."""

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from aiohttp import web
from captcha.image import ImageCaptcha

from services.common.auth import Principal
from services.common.errors import ApiError
from services.common.service import pool_key
from services.common.settings import Settings
from services.common.web import principal

from . import repository
from .crypto import DataCipher, DecryptionFailed, Passwords
from .sms import SmsSender
from .tokens import SigningKey, TokenIssuer

log = logging.getLogger(__name__)


@dataclass
class Identity:
    settings: Settings
    cipher: DataCipher
    passwords: Passwords
    issuer: TokenIssuer
    sms: SmsSender
    captcha_images: ImageCaptcha


identity_key = web.AppKey("identity", Identity)


def now() -> datetime:
    return datetime.now(UTC)


async def load_signing_key(connection: asyncpg.Connection, cipher: DataCipher) -> SigningKey:
    """Return the newest active signing key, generating and storing one on the first start."""
    await repository.lock_for_start_up(connection, "signing_key")
    row = await repository.newest_signing_key(connection)
    if row is None:
        key = SigningKey.generate()
        await repository.insert_signing_key(connection, key.kid, key.public_jwk(), key.seal(cipher),
                                            cipher.key_id, now())
        log.info("generated signing key %s", key.kid)
        return key
    try:
        return SigningKey.unseal(row["kid"], row["private_key_encrypted"], cipher)
    except DecryptionFailed as e:
        raise RuntimeError(
            f"TALENT_DATA_KEY (key id {cipher.key_id}) cannot decrypt signing key {row['kid']}, which was "
            f"encrypted under data key {row['data_key_id']}; start with the data key it was created with"
        ) from e


def identity_of(request: web.Request) -> Identity:
    return request.app[identity_key]


async def active_caller(request: web.Request) -> Principal:
    """Return the verified caller, rejecting a token whose session was revoked (安全退出)."""
    caller = principal(request)
    try:
        session_id, user_id = uuid.UUID(caller.session_id), uuid.UUID(caller.user_id)
    except ValueError as e:
        raise ApiError(401, "auth.invalid_token") from e
    async with request.app[pool_key].acquire() as connection:
        if not await repository.session_is_active(connection, session_id, user_id):
            log.info("rejected a token of revoked session %s", session_id)
            raise ApiError(401, "auth.invalid_token")
    return caller
