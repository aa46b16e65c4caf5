"""Composition root of the files service (附件): metadata in PostgreSQL, bytes in S3."""

from pathlib import Path

from aiohttp import web

from services.common.service import ServiceSpec, create_service_app
from services.common.settings import Settings

from . import upload_routes  # noqa: F401 - registers POST /files on the service's Api
from .routes import api
from .rules import MAX_FILE_BYTES, MIB

# Uploads are streamed and limited per kind, so this limit of aiohttp only applies to bodies read whole.
SPEC = ServiceSpec(name="files", api=api, migrations=Path(__file__).parent / "migrations",
                   uses_object_store=True, max_body_bytes=MAX_FILE_BYTES + MIB)


def create_app(settings: Settings) -> web.Application:
    return create_service_app(SPEC, settings)
