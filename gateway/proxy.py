"""Streaming reverse proxy from `/api/v1/<service>/<path>` to the service's own `/<path>`.

Bodies are passed through in chunks in both directions: the gateway never holds a whole request or
response. The request body is counted while it streams, and the request fails with 413 once the
route's limit is passed.
"""

import logging

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from services.common.errors import ApiError
from services.common.web import REQUEST_ID_HEADER

log = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024
HOP_BY_HOP = frozenset(h.lower() for h in (
    "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
    "Transfer-Encoding", "Upgrade", "Host"))


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def request_headers(request: web.Request) -> CIMultiDict:
    headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP)
    headers[REQUEST_ID_HEADER] = request["request_id"]
    forwarded = request.headers.get("X-Forwarded-For")
    client = request.remote or ""
    headers["X-Forwarded-For"] = f"{forwarded}, {client}" if forwarded else client
    headers["X-Forwarded-Proto"] = request.scheme
    headers["X-Forwarded-Prefix"] = request.path[: len(request.path) - len(request.match_info["tail"]) - 1]
    return headers


async def counted_body(request: web.Request, limit: int):
    sent = 0
    async for chunk in request.content.iter_chunked(CHUNK_SIZE):
        sent += len(chunk)
        if sent > limit:
            raise BodyTooLarge(limit)
        yield chunk


async def forward(request: web.Request, http: aiohttp.ClientSession, upstream_url: str,
                  limit: int) -> web.StreamResponse:
    declared = request.content_length
    if declared is not None and declared > limit:
        raise ApiError(413, "body_too_large", limit=limit)
    body = counted_body(request, limit) if request.body_exists else None
    try:
        async with http.request(request.method, upstream_url, params=request.query,
                                headers=request_headers(request), data=body,
                                allow_redirects=False) as upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for name, value in upstream.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    response.headers.add(name, value)
            if upstream.content_length is not None:
                response.content_length = upstream.content_length
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(CHUNK_SIZE):
                await response.write(chunk)
            await response.write_eof()
            return response
    except BodyTooLarge as e:
        raise ApiError(413, "body_too_large", limit=e.limit) from e
    except (aiohttp.ClientConnectionError, TimeoutError) as e:
        if request.get("response_started"):
            raise
        log.warning("upstream %s failed: %r", upstream_url, e)
        raise ApiError(503, "gateway.upstream_unavailable", headers={"Retry-After": "5"}) from e
