"""Process-wide parts of the identity service and the caller checks of its handlers."""

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web
from captcha.image import ImageCaptcha

from services.common.auth import Principal
from services.common.errors import ApiError
from services.common.service import pool_key
from services.common.settings import Settings
from services.common.web import principal

from . import repository
from .clients import Client, TrustedProxies, client_of
from .crypto import DataCipher, Passwords
from .keys import KeyRing
from .sms import SmsSender
from .tokens import TokenIssuer

log = logging.getLogger(__name__)


@dataclass
class Identity:
    settings: Settings
    cipher: DataCipher
    passwords: Passwords
    keys: KeyRing
    issuer: TokenIssuer
    sms: SmsSender
    captcha_images: ImageCaptcha
    proxies: TrustedProxies


identity_key = web.AppKey("identity", Identity)


def now() -> datetime:
    return datetime.now(UTC)


def identity_of(request: web.Request) -> Identity:
    return request.app[identity_key]


def client(request: web.Request) -> Client:
    """Return the caller's client address (X-Forwarded-For of a trusted proxy) and user agent."""
    return client_of(request, identity_of(request).proxies)


async def active_caller(request: web.Request) -> Principal:
    """Return the verified caller, rejecting a token whose session was revoked (安全退出)."""
    caller = principal(request)
    try:
        session_id, user_id = uuid.UUID(caller.session_id), uuid.UUID(caller.user_id)
    except ValueError as e:
        raise ApiError(401, "auth.invalid_token") from e
    async with request.app[pool_key].acquire() as connection:
        if not await repository.sessions.session_is_active(connection, session_id, user_id):
            log.info("rejected a token of revoked session %s", session_id)
            raise ApiError(401, "auth.invalid_token")
    return caller
