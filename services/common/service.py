"""Composition root shared by the services: `create_service_app` wires one service's parts.

Start order: migrations, database pool, broker topology, consumers, outbox relay, object storage,
then the service's own contexts; shutdown runs in reverse. Nothing connects at import time.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
from aiohttp import web
from prometheus_client import CollectorRegistry

from .auth import TokenVerifier
from .bus import Bus, Subscription
from .db import create_pool, migrate
from .relay import OutboxRelay
from .settings import Settings
from .storage import ObjectStore
from .web import Api, json_response, make_middlewares, metrics_handler, registry_key, verifier_key

log = logging.getLogger(__name__)

settings_key = web.AppKey("settings", Settings)
pool_key = web.AppKey("pool", asyncpg.Pool)
bus_key = web.AppKey("bus", Bus)
relay_key = web.AppKey("relay", OutboxRelay)
store_key = web.AppKey("object_store", ObjectStore)
http_key = web.AppKey("http_client", aiohttp.ClientSession)

Context = Callable[[web.Application], AsyncIterator[None]]


@dataclass
class ServiceSpec:
    """The parts of one service: its name (also its schema), routes, migrations and consumers."""

    name: str
    api: Api
    migrations: Path
    subscriptions: list[Subscription] = field(default_factory=list)
    uses_object_store: bool = False
    contexts: list[Context] = field(default_factory=list)
    # Client body limit for this service's own endpoints.
    max_body_bytes: int | None = None
    # Routes served only when TALENT_DEV_ENDPOINTS is true; they stay out of the OpenAPI document.
    dev_api: Api | None = None


def create_service_app(spec: ServiceSpec, settings: Settings) -> web.Application:
    registry = CollectorRegistry()
    verifier = TokenVerifier(f"{settings.identity_url}/.well-known/jwks.json", settings.token_issuer,
                             settings.token_audience)
    app = web.Application(middlewares=make_middlewares(spec.name, verifier, registry),
                          client_max_size=spec.max_body_bytes or settings.max_body_bytes)
    app[settings_key] = settings
    app[registry_key] = registry
    app[verifier_key] = verifier

    app.cleanup_ctx.append(_database(spec))
    app.cleanup_ctx.append(_broker(spec))
    if spec.uses_object_store:
        app.cleanup_ctx.append(_object_store)
    app.cleanup_ctx.append(_http_client)
    app.cleanup_ctx.extend(spec.contexts)

    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", metrics_handler)
    openapi = spec.api.openapi()

    async def openapi_document(request: web.Request) -> web.Response:
        return json_response(openapi)

    app.router.add_get("/openapi.json", openapi_document)
    spec.api.add_to(app)
    if spec.dev_api is not None and settings.dev_endpoints:
        spec.dev_api.add_to(app)
    return app


def _database(spec: ServiceSpec) -> Context:
    async def context(app: web.Application) -> AsyncIterator[None]:
        settings = app[settings_key]
        await migrate(settings.database_url, spec.name, spec.migrations)
        app[pool_key] = await create_pool(settings.database_url, spec.name, size=settings.database_pool_size,
                                          timeout=settings.database_timeout)
        yield
        await app[pool_key].close()
    return context


def _broker(spec: ServiceSpec) -> Context:
    async def context(app: web.Application) -> AsyncIterator[None]:
        bus = Bus(app[settings_key])
        await bus.connect()
        app[bus_key] = bus
        for subscription in spec.subscriptions:
            await bus.consume(subscription, app[pool_key])
        relay = OutboxRelay(app[pool_key], bus.exchange, spec.name)
        await relay.start()
        app[relay_key] = relay
        yield
        await relay.stop()
        await bus.close()
        await app[verifier_key].close()
    return context


async def _object_store(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    if not settings.s3_endpoint:
        raise RuntimeError("TALENT_S3_ENDPOINT is not set; the launcher starts a local S3 server and sets it")
    store = ObjectStore(settings.s3_endpoint, settings.s3_access_key, settings.s3_secret_key,
                        settings.s3_bucket, region=settings.s3_region, secure=settings.s3_secure)
    await store.ensure_bucket()
    app[store_key] = store
    yield


async def _http_client(app: web.Application) -> AsyncIterator[None]:
    app[http_key] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30, connect=3))
    yield
    await app[http_key].close()


async def _healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    app = request.app
    checks = {"database": await _database_ready(app[pool_key]), "broker": app[bus_key].is_connected()}
    if store_key in app:
        checks["object_store"] = await app[store_key].is_ready()
    ready = all(checks.values())
    return json_response({"status": "ready" if ready else "unavailable", "checks": checks},
                         status=200 if ready else 503)


async def _database_ready(pool: asyncpg.Pool) -> bool:
    try:
        async with asyncio.timeout(2):
            async with pool.acquire() as connection:
                await connection.fetchval("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - any failure means not ready
        return False


def run_service(spec: ServiceSpec) -> None:
    """Entry point of `python -m services.<name>`."""
    from .logs import configure_logging
    from .settings import load_settings

    settings = load_settings()
    configure_logging(spec.name, settings.log_format, settings.log_level)
    log.info("starting %s on %s:%d", spec.name, settings.host, settings.service_port(spec.name))
    web.run_app(create_service_app(spec, settings), host=settings.host,
                port=settings.service_port(spec.name), print=None, access_log=None)
