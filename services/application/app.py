"""Composition root of the application service (申报): calls, applications, submissions, progress."""

from pathlib import Path

from aiohttp import web

from services.common.service import ServiceSpec, create_service_app
from services.common.settings import Settings

from . import errors, submission  # noqa: F401 - register error messages and the submission routes
from .messaging import BINDING_EVENTS, REVIEW_EVENTS
from .routes import api

SPEC = ServiceSpec(
    name="application",
    api=api,
    migrations=Path(__file__).parent / "migrations",
    subscriptions=[BINDING_EVENTS, REVIEW_EVENTS],
)


def create_app(settings: Settings) -> web.Application:
    return create_service_app(SPEC, settings)
