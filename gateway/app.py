"""The gateway: the only entry point of clients.

It routes `/api/v1/<service>/…` to each service, verifies access tokens and rejects revoked
sessions, forwards the request id, streams bodies with a size limit, and serves the merged OpenAPI
document with a small API browser at `/docs`.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry

from services.common.auth import TokenVerifier, bearer_token
from services.common.bus import Bus
from services.common.errors import ApiError, Message, register_messages
from services.common.settings import SERVICE_PORTS, Settings
from services.common.web import json_response, make_middlewares, metrics_handler, registry_key

from .proxy import forward
from .revocations import Revocations, load_revoked, reload_after_reconnect, subscribe

log = logging.getLogger(__name__)

SERVICES = tuple(SERVICE_PORTS)
DOCS_PAGE = Path(__file__).with_name("docs.html")
# First path segments the gateway never forwards: service-to-service calls and operators' metrics. Each
# service's own OpenAPI document lists its internal paths, so clients get the merged one at /openapi.json.
CLOSED_PATHS = frozenset({"internal", "metrics", "openapi.json"})

settings_key = web.AppKey("settings", Settings)
http_key = web.AppKey("http", aiohttp.ClientSession)
bus_key = web.AppKey("bus", Bus)
revocations_key = web.AppKey("revocations", Revocations)
verifier_key = web.AppKey("verifier", TokenVerifier)

register_messages({
    "gateway.unknown_service": Message("请求的服务不存在", "Unknown service",
                                       "路径应为 /api/v1/<服务名>/…，服务名为 {services}。",
                                       "Paths look like /api/v1/<service>/…, with service one of {services}."),
    "gateway.upstream_unavailable": Message("服务暂时不可用", "Service temporarily unavailable",
                                            "后端服务暂时无法访问，请稍后重试。",
                                            "The service behind this path cannot be reached; retry later."),
    "auth.session_revoked": Message("登录已失效，请重新登录", "Session ended; sign in again",
                                    "该登录会话已退出或失效，请重新登录。",
                                    "This session was signed out or ended; sign in again."),
})


def create_app(settings: Settings) -> web.Application:
    registry = CollectorRegistry()
    verifier = TokenVerifier(f"{settings.identity_url}/.well-known/jwks.json", settings.token_issuer,
                             settings.token_audience)
    # Tokens are checked here by `proxy`, so the kit's authentication middleware gets no verifier.
    app = web.Application(middlewares=make_middlewares("gateway", None, registry))
    app[settings_key] = settings
    app[registry_key] = registry
    app[verifier_key] = verifier
    app[revocations_key] = Revocations()
    app.cleanup_ctx.append(_clients)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/docs", docs)
    app.router.add_route("*", "/api/v1/{service}/{tail:.*}", proxy)
    return app


async def _clients(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    app[http_key] = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=None, connect=3, sock_read=120), auto_decompress=False,
        connector=aiohttp.TCPConnector(limit=200))
    bus = Bus(settings)
    await bus.connect()
    app[bus_key] = bus
    await subscribe(bus, app[revocations_key])

    async def load() -> None:
        await load_revoked(app[http_key], settings.identity_url, settings.internal_token, app[revocations_key])

    loader = asyncio.create_task(load())
    reload_after_reconnect(bus, load)
    yield
    loader.cancel()
    await bus.close()
    await app[verifier_key].close()
    await app[http_key].close()


def upstream_path(tail: str) -> str:
    """Return the service path for the decoded `tail`, each segment percent-encoded again.

    Raise 404 for a closed path or a dot segment. Without the dot-segment check, `x/../internal` would
    pass the closed-path check and the HTTP client would collapse it to `internal` on the way out. With
    every segment re-encoded, the service decodes the same segments once and finds no new separator.
    """
    segments = tail.split("/")
    if segments[0] in CLOSED_PATHS or any(segment in (".", "..") for segment in segments):
        raise ApiError(404, "not_found")
    return "/".join(quote(segment, safe="") for segment in segments)


async def proxy(request: web.Request) -> web.StreamResponse:
    settings = request.app[settings_key]
    service, tail = request.match_info["service"], request.match_info["tail"]
    if service not in SERVICES:
        raise ApiError(404, "gateway.unknown_service", services=", ".join(SERVICES))
    path = upstream_path(tail)

    token = bearer_token(request)
    if token is not None:
        caller = await request.app[verifier_key].verify(token)
        if request.app[revocations_key].is_revoked(caller.session_id):
            raise ApiError(401, "auth.session_revoked")

    limit = settings.max_upload_bytes if service == "files" else settings.max_body_bytes
    upstream = f"{settings.service_url(service)}/{path}"
    return await forward(request, request.app[http_key], upstream, limit)


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def docs(request: web.Request) -> web.FileResponse:
    return web.FileResponse(DOCS_PAGE)


async def readyz(request: web.Request) -> web.Response:
    settings = request.app[settings_key]
    http = request.app[http_key]

    async def check(service: str) -> bool:
        try:
            async with http.get(f"{settings.service_url(service)}/readyz",
                                timeout=aiohttp.ClientTimeout(total=2)) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    results = await asyncio.gather(*(check(service) for service in SERVICES))
    checks = dict(zip(SERVICES, results, strict=True))
    checks["broker"] = request.app[bus_key].is_connected()
    checks["revocations_loaded"] = request.app[revocations_key].loaded
    ready = all(checks.values())
    return json_response({"status": "ready" if ready else "unavailable", "checks": checks},
                         status=200 if ready else 503)


async def openapi(request: web.Request) -> web.Response:
    settings = request.app[settings_key]
    http = request.app[http_key]
    merged = {"openapi": "3.1.0", "info": {"title": "人才分类定级评定 API / Talent grading API", "version": "1"},
              "paths": {}, "components": {"securitySchemes": {
                  "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}}}
    for service in SERVICES:
        try:
            async with http.get(f"{settings.service_url(service)}/openapi.json",
                                timeout=aiohttp.ClientTimeout(total=3)) as response:
                document = await response.json()
        except (aiohttp.ClientError, TimeoutError, ValueError):
            log.warning("openapi document of %s unavailable", service)
            continue
        for path, operations in document.get("paths", {}).items():
            if path.startswith("/internal") or path.startswith("/dev"):
                continue
            for operation in operations.values():
                operation.setdefault("tags", [service])
            merged["paths"][f"/api/v1/{service}{path}"] = operations
    return json_response(merged)
