"""Calls to another service's HTTP API: forwarding the caller's access token, or with the service-to-service
token on `/internal/…` paths."""

import hmac
import logging
from typing import Any

import aiohttp
from aiohttp import web

from .auth import Principal
from .errors import ApiError
from .web import REQUEST_ID_HEADER, DependencyUnavailable

log = logging.getLogger(__name__)

INTERNAL_TOKEN_HEADER = "X-Internal-Token"


async def call_service(http: aiohttp.ClientSession, request: web.Request, method: str, url: str,
                       caller: Principal, dependency: str, **kwargs: Any) -> tuple[int, Any]:
    """Return (status, JSON body); a connection failure or 5xx becomes a 503 for our caller."""
    headers = {"Authorization": f"Bearer {caller.token}",
               REQUEST_ID_HEADER: request.get("request_id", ""),
               "Accept-Language": request.headers.get("Accept-Language", "zh-CN")}
    status, body = await _send(http, method, url, headers, dependency, **kwargs)
    if status == 401:
        raise ApiError(401, "auth.invalid_token")
    return status, body


def require_internal_token(request: web.Request, expected: str) -> None:
    """Raise 404 unless the request carries the service-to-service token, so outsiders learn nothing."""
    presented = request.headers.get(INTERNAL_TOKEN_HEADER, "").encode()
    if not hmac.compare_digest(presented, expected.encode()):
        log.warning("internal path %s called without the service-to-service token", request.path)
        raise ApiError(404, "not_found")


async def call_internal(http: aiohttp.ClientSession, request: web.Request, method: str, url: str, token: str,
                        dependency: str, **kwargs: Any) -> tuple[int, Any]:
    """Call another service's `/internal/…` path with the service-to-service token.

    Return (status, JSON body or None); a connection failure, a timeout or a 5xx becomes a 503.
    """
    headers = {INTERNAL_TOKEN_HEADER: token, REQUEST_ID_HEADER: request.get("request_id", "")}
    return await _send(http, method, url, headers, dependency, timeout=aiohttp.ClientTimeout(total=10), **kwargs)


async def _send(http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str], dependency: str,
                **kwargs: Any) -> tuple[int, Any]:
    """Return (status, JSON body or None); a connection failure, a timeout or a 5xx raises DependencyUnavailable."""
    try:
        async with http.request(method, url, headers=headers, **kwargs) as response:
            body = await response.json(content_type=None) if response.content_length != 0 else None
            status = response.status
    except (aiohttp.ClientError, TimeoutError, ValueError) as e:
        log.warning("call %s %s failed: %r", method, url, e)
        raise DependencyUnavailable(dependency) from e
    if status >= 500:
        log.warning("call %s %s returned status %d", method, url, status)
        raise DependencyUnavailable(dependency)
    return status, body
