"""Identity service: accounts, sign-in sessions, captchas and SMS codes (`python -m services.identity`)."""

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
from aiohttp import web
from captcha.image import ImageCaptcha

from services.common.service import ServiceSpec, create_service_app, pool_key, settings_key
from services.common.settings import Settings

from . import domain
from .accounts import ensure_first_admin
from .clients import TrustedProxies
from .crypto import DataCipher, Passwords
from .keys import KeyRing
from .messaging import SUBSCRIPTIONS
from .rekey import rekey_personal_data
from .resources import Identity, identity_key, now
from .routes import api, dev_api
from .sms import DevelopmentSmsSink, MissingSmsGateway, QueuedSmsSender, SmsSender
from .sms_http import HttpSmsProvider, SmsDeliveryWorker
from .tokens import TokenIssuer


async def start_identity(app: web.Application) -> AsyncIterator[None]:
    """Open the data keys, re-encrypt rows under previous keys, load the signing key, start SMS delivery,
    and create the first admin."""
    settings = app[settings_key]
    pool = app[pool_key]
    cipher = DataCipher.from_settings(settings)
    await rekey_personal_data(pool, cipher)
    keys = KeyRing(cipher)
    async with pool.acquire() as connection, connection.transaction():
        await keys.load_or_create(connection, now())
    sms, worker = _sms_sender(settings, pool, cipher)

    identity = Identity(
        settings=settings, cipher=cipher, passwords=Passwords.from_settings(settings), keys=keys,
        issuer=TokenIssuer(settings.token_issuer, settings.token_audience, settings.access_token_ttl),
        sms=sms, captcha_images=ImageCaptcha(width=160, height=60), proxies=TrustedProxies.from_settings(settings))
    app[identity_key] = identity
    await ensure_first_admin(pool, identity)
    if worker is not None:
        await worker.start()
    yield
    if worker is not None:
        await worker.stop()


def _sms_sender(settings: Settings, pool: asyncpg.Pool,
                cipher: DataCipher) -> tuple[SmsSender, SmsDeliveryWorker | None]:
    """Choose the HTTP provider when one is configured, else the development sink when dev endpoints are on."""
    if settings.sms_provider_url:
        worker = SmsDeliveryWorker(pool, cipher, HttpSmsProvider.from_settings(settings))
        return QueuedSmsSender(cipher, domain.SMS_CODE_TTL), worker
    if settings.dev_endpoints:
        return DevelopmentSmsSink(), None
    return MissingSmsGateway(), None


SPEC = ServiceSpec(name="identity", api=api, dev_api=dev_api, migrations=Path(__file__).parent / "migrations",
                   subscriptions=SUBSCRIPTIONS, contexts=[start_identity])


def create_app(settings: Settings) -> web.Application:
    return create_service_app(SPEC, settings)
