"""The review service (审核): unit and department review of applications, and evaluation results."""

from pathlib import Path

from aiohttp import web

from services.common.service import ServiceSpec, create_service_app
from services.common.settings import Settings

from .messaging import SUBSCRIPTIONS
from .routes import api

SPEC = ServiceSpec(
    name="review",
    api=api,
    migrations=Path(__file__).parent / "migrations",
    subscriptions=SUBSCRIPTIONS,
)


def create_app(settings: Settings) -> web.Application:
    return create_service_app(SPEC, settings)
