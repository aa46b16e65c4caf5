"""Composition root of the files service (附件): metadata in PostgreSQL, bytes in S3."""

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from services.common.service import ServiceSpec, create_service_app, settings_key
from services.common.settings import Settings

from . import reads_routes, upload_routes  # noqa: F401 - register their endpoints on the service's Api
from .messaging import SUBSCRIPTIONS
from .routes import api, rules_key
from .rules import MAX_FILE_BYTES, MIB, rules_with_limits
from .settings import files_settings, files_settings_key
from .sweeper import sweeping


async def configured_rules(app: web.Application) -> AsyncIterator[None]:
    """Read the files settings and the upload rules they configure, failing start-up on a bad value."""
    settings = files_settings(app[settings_key])
    app[files_settings_key] = settings
    app[rules_key] = rules_with_limits(settings.files_max_bytes)
    yield


# Uploads are streamed and limited per kind, so this limit of aiohttp only applies to bodies read whole.
SPEC = ServiceSpec(name="files", api=api, migrations=Path(__file__).parent / "migrations",
                   subscriptions=SUBSCRIPTIONS, uses_object_store=True, max_body_bytes=MAX_FILE_BYTES + MIB,
                   contexts=[configured_rules, sweeping])


def create_app(settings: Settings) -> web.Application:
    return create_service_app(SPEC, settings)
