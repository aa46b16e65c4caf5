"""Identity service: accounts, sign-in sessions, captchas and SMS codes (`python -m services.identity`)."""

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from captcha.image import ImageCaptcha

from services.common.service import ServiceSpec, create_service_app, pool_key, settings_key
from services.common.settings import Settings

from .accounts import ensure_first_admin
from .crypto import DataCipher, Passwords
from .messaging import SUBSCRIPTIONS
from .resources import Identity, identity_key, load_signing_key
from .routes import api, dev_api
from .sms import DevelopmentSmsSink, MissingSmsGateway
from .tokens import TokenIssuer


async def start_identity(app: web.Application) -> AsyncIterator[None]:
    """Open the data key, load or create the signing key, and create the first admin."""
    settings = app[settings_key]
    pool = app[pool_key]
    cipher = DataCipher(settings.data_key)
    async with pool.acquire() as connection, connection.transaction():
        signing_key = await load_signing_key(connection, cipher)

    identity = Identity(
        settings=settings, cipher=cipher, passwords=Passwords(),
        issuer=TokenIssuer(signing_key, settings.token_issuer, settings.token_audience,
                           settings.access_token_ttl),
        sms=DevelopmentSmsSink() if settings.dev_endpoints else MissingSmsGateway(),
        captcha_images=ImageCaptcha(width=160, height=60))
    app[identity_key] = identity
    await ensure_first_admin(pool, identity)
    yield


SPEC = ServiceSpec(name="identity", api=api, dev_api=dev_api, migrations=Path(__file__).parent / "migrations",
                   subscriptions=SUBSCRIPTIONS, contexts=[start_identity])


def create_app(settings: Settings) -> web.Application:
    return create_service_app(SPEC, settings)
