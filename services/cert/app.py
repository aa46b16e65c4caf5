"""The cert service (电子证书): certificates of graded applicants, their PDFs and public verification."""

from pathlib import Path

from aiohttp import web

from services.common.service import ServiceSpec, create_service_app
from services.common.settings import Settings

from .messaging import consume_results
from .routes import api

SPEC = ServiceSpec(
    name="cert",
    api=api,
    migrations=Path(__file__).parent / "migrations",
    uses_object_store=True,
    contexts=[consume_results],
)


def create_app(settings: Settings) -> web.Application:
    return create_service_app(SPEC, settings)
