"""Composition root of the application service (申报): calls, eligibility, promotion requests, imported
gradings, the application form and its dictionaries, submissions, the summary table, progress."""

from pathlib import Path

from aiohttp import web

from services.common.service import ServiceSpec, create_service_app
from services.common.settings import Settings

# Imported for their side effects: error messages and the routes of each module.
from . import (  # noqa: F401
    calls,
    eligibility_messages,
    eligibility_routes,
    errors,
    form_routes,
    grading_routes,
    internal_routes,
    module_routes,
    promotion_routes,
    submission,
    summary_routes,
)
from .messaging import BINDING_EVENTS, IDENTITY_EVENTS, REVIEW_EVENTS
from .routes import api

SPEC = ServiceSpec(
    name="application",
    api=api,
    migrations=Path(__file__).parent / "migrations",
    subscriptions=[IDENTITY_EVENTS, BINDING_EVENTS, REVIEW_EVENTS],
)


def create_app(settings: Settings) -> web.Application:
    return create_service_app(SPEC, settings)
