"""Streaming reverse proxy from `/api/v1/<service>/<path>` to the service's own `/<path>`.

Bodies are passed through in chunks in both directions, and each side's flow control holds back the
other, so the gateway keeps a few chunks of a request or response in memory, never the whole body.
The request body is counted while it streams:

- past the route's limit the gateway responds with 413 at once and closes the upstream connection without
  finishing the body, so the service sees the request break off and keeps nothing of it;
- when the client disconnects mid-body, the upstream connection is closed the same way;
- when the service breaks off a response already being sent, the client's connection is closed
  before the body's end, so the client sees a truncated response rather than a complete short one.
"""

import logging

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import CIMultiDict

from services.common.errors import ApiError, Message, register_messages
from services.common.web import REQUEST_ID_HEADER

log = logging.getLogger(__name__)

CHUNK_SIZE = 256 * 1024
HOP_BY_HOP = frozenset(h.lower() for h in (
    "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
    "Transfer-Encoding", "Upgrade", "Host"))

register_messages({
    "gateway.body_incomplete": Message("请求内容未完整送达", "The request body did not arrive in full",
                                       "发送请求内容时连接中断，请重新发送。",
                                       "The connection broke off while the request body was being sent; "
                                       "send the request again."),
})


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class ClientBodyBroken(Exception):
    """The client's connection ended before its request body did."""

    def __init__(self, received: int) -> None:
        super().__init__(received)
        self.received = received


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
    """Yield the request body, raising BodyTooLarge past `limit` and ClientBodyBroken when the client leaves."""
    received = 0
    try:
        async for chunk in request.content.iter_chunked(CHUNK_SIZE):
            received += len(chunk)
            if received > limit:
                raise BodyTooLarge(limit)
            yield chunk
    except (ConnectionError, HttpProcessingError) as e:
        raise ClientBodyBroken(received) from e


async def forward(request: web.Request, http: aiohttp.ClientSession, upstream_url: str,
                  limit: int) -> web.StreamResponse:
    declared = request.content_length
    if declared is not None and declared > limit:
        raise ApiError(413, "body_too_large", limit=limit)
    body = counted_body(request, limit) if request.body_exists else None
    response: web.StreamResponse | None = None
    try:
        # aiohttp sends the body in a task of its own, and stops it when this block exits, whether the
        # upstream responded early (a 413 or 409 before the whole upload) or the body failed.
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
    except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as e:
        # aiohttp reports a failure of the body source as a connection error caused by it.
        if isinstance(e.__cause__, BodyTooLarge):
            log.info("request body to %s passed the %d-byte limit; upstream request closed", upstream_url, limit)
            raise ApiError(413, "body_too_large", limit=limit) from e
        if isinstance(e.__cause__, ClientBodyBroken):
            log.info("client disconnected after %d bytes of the body to %s; upstream request closed",
                     e.__cause__.received, upstream_url)
            raise ApiError(400, "gateway.body_incomplete") from e
        client_gone = request.transport is None or request.transport.is_closing()
        if response is not None and response.prepared and client_gone:
            log.info("client disconnected during the response of %s; upstream request closed", upstream_url)
            return response
        if response is not None and response.prepared:
            log.warning("upstream %s broke off its response: %r; closing the client connection", upstream_url, e)
            if request.transport is not None:
                request.transport.close()
            return response
        log.warning("upstream %s failed: %r", upstream_url, e)
        raise ApiError(503, "gateway.upstream_unavailable", headers={"Retry-After": "5"}) from e
