"""Composition root of the binding service (推荐单位绑定)."""

from pathlib import Path

from aiohttp import web

from services.common.service import ServiceSpec, create_service_app
from services.common.settings import Settings

# Imported for their side effects: the error messages and the unit's endpoints.
from . import errors, profile_routes, unit_routes  # noqa: F401
from .messaging import SUBSCRIPTIONS
from .routes import api

SPEC = ServiceSpec(name="binding", api=api, migrations=Path(__file__).parent / "migrations",
                   subscriptions=SUBSCRIPTIONS)


def create_app(settings: Settings) -> web.Application:
    return create_service_app(SPEC, settings)
