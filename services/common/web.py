"""HTTP building blocks shared by the services: routes with typed bodies, middlewares, OpenAPI."""

import asyncio
import functools
import inspect
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pydantic import BaseModel, TypeAdapter, ValidationError

from .auth import Principal, TokenVerifier, bearer_token
from .errors import ApiError, field_errors_from_pydantic, problem_response
from .logs import request_id_var, user_id_var

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
verifier_key = web.AppKey("token_verifier", TokenVerifier)
registry_key = web.AppKey("metrics_registry", CollectorRegistry)

Handler = Callable[..., Awaitable[web.StreamResponse]]


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    if isinstance(value, BaseModel):
        text = value.model_dump_json()
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return web.Response(text=text, status=status, content_type="application/json", headers=headers)


def principal(request: web.Request) -> Principal:
    found = request.get("principal")
    if found is None:
        raise ApiError(401, "auth.required")
    return found


@dataclass
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    body: type[BaseModel] | None
    response: Any
    status: int
    roles: tuple[str, ...] | None
    public: bool
    # The model the handler reads its query string with (`parse_query`), for the OpenAPI document.
    query: type[BaseModel] | None = None


@dataclass
class Api:
    """Route table of one service; it also produces the service's OpenAPI document."""

    title: str
    operations: list[Operation] = field(default_factory=list)

    def route(self, method: str, path: str, *, summary: str, body: type[BaseModel] | None = None,
              response: Any = None, status: int = 200, roles: tuple[str, ...] | None = None,
              public: bool = False, query: type[BaseModel] | None = None):
        def decorate(handler: Handler) -> Handler:
            wrapped = _wrap(handler, body, roles, public)
            self.operations.append(Operation(method, path, wrapped, summary, body, response, status,
                                             roles, public, query))
            return wrapped
        return decorate

    def get(self, path: str, **options):
        return self.route("GET", path, **options)

    def post(self, path: str, **options):
        return self.route("POST", path, **options)

    def put(self, path: str, **options):
        return self.route("PUT", path, **options)

    def delete(self, path: str, **options):
        return self.route("DELETE", path, **options)

    def add_to(self, app: web.Application) -> None:
        for operation in self.operations:
            app.router.add_route(operation.method, operation.path, operation.handler)

    def openapi(self) -> dict[str, Any]:
        paths: dict[str, Any] = {}
        for operation in self.operations:
            entry: dict[str, Any] = {"summary": operation.summary, "responses": {}}
            parameters = _path_parameters(operation.path) + _query_parameters(operation.query)
            if parameters:
                entry["parameters"] = parameters
            if operation.body is not None:
                entry["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": operation.body.model_json_schema()}}}
            response: dict[str, Any] = {"description": "OK"}
            if operation.response is not None:
                response["content"] = {"application/json": {
                    "schema": TypeAdapter(operation.response).json_schema()}}
            entry["responses"][str(operation.status)] = response
            entry["responses"]["default"] = {"description": "Problem details (RFC 9457)", "content": {
                "application/problem+json": {"schema": {"type": "object"}}}}
            if not operation.public:
                entry["security"] = [{"bearer": []}]
            paths.setdefault(operation.path, {})[operation.method.lower()] = entry
        return {
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": "1"},
            "paths": paths,
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                          "bearerFormat": "JWT"}}},
        }


_PATH_PARAMETER = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PATH_PARAMETER.findall(path)]


def _query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required, "schema": field_schema}
            for name, field_schema in schema.get("properties", {}).items()]


def _wrap(handler: Handler, body_model: type[BaseModel] | None, roles: tuple[str, ...] | None,
          public: bool) -> Handler:
    wants_body = body_model is not None and "body" in inspect.signature(handler).parameters

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        if not public:
            caller = principal(request)
            if roles is not None and caller.role not in roles:
                raise ApiError(403, "auth.forbidden")
        if wants_body:
            return await handler(request, body=await parse_body(request, body_model))
        return await handler(request)

    return wrapper


async def parse_body(request: web.Request, model: type[BaseModel]) -> BaseModel:
    try:
        raw = await request.read()
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as e:
        raise ApiError(400, "invalid_json") from e
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ApiError(422, "validation_failed", errors=field_errors_from_pydantic(e)) from e


def parse_query(request: web.Request, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as e:
        raise ApiError(422, "validation_failed", errors=field_errors_from_pydantic(e)) from e


# Driver errors that mean "the database is not answering", as opposed to a bug or a constraint.
DATABASE_DOWN_ERRORS = (OSError, TimeoutError, asyncpg.InterfaceError,
                        asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
                        asyncpg.AdminShutdownError, asyncpg.CrashShutdownError)


class DependencyUnavailable(Exception):
    """A backing system (S3, another service) did not respond; rendered as 503."""

    def __init__(self, dependency: str) -> None:
        super().__init__(dependency)
        self.dependency = dependency


def make_middlewares(service: str, verifier: TokenVerifier | None, registry: CollectorRegistry):
    requests = Counter("http_requests_total", "HTTP requests served", ["method", "route", "status"],
                       registry=registry)
    latency = Histogram("http_request_duration_seconds", "HTTP request latency", ["method", "route"],
                        registry=registry)

    @web.middleware
    async def request_context(request: web.Request, handler):
        request_id = request.headers.get(REQUEST_ID_HEADER) or uuid.uuid4().hex
        request["request_id"] = request_id
        request_id_var.set(request_id)
        user_id_var.set(None)
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
        except web.HTTPException as e:
            status = e.status
            raise
        finally:
            route = request.match_info.route.resource.canonical if request.match_info.route.resource else "?"
            requests.labels(request.method, route, str(status)).inc()
            latency.labels(request.method, route).observe(time.perf_counter() - started)
        if not response.prepared:
            response.headers[REQUEST_ID_HEADER] = request_id
        return response

    @web.middleware
    async def problems(request: web.Request, handler):
        try:
            return await handler(request)
        except ApiError as e:
            if e.status >= 500:
                log.warning("%s %s failed: %s %s", request.method, request.path, e.status, e.code)
            return problem_response(request, e)
        except DependencyUnavailable as e:
            log.warning("%s %s: %s unavailable", request.method, request.path, e.dependency)
            return problem_response(request, ApiError(503, "service_unavailable", dependency=e.dependency,
                                                      headers={"Retry-After": "5"}))
        except DATABASE_DOWN_ERRORS as e:
            log.warning("%s %s: database unavailable: %r", request.method, request.path, e)
            return problem_response(request, ApiError(503, "service_unavailable", dependency="数据库 / database",
                                                      headers={"Retry-After": "5"}))
        except web.HTTPNotFound:
            return problem_response(request, ApiError(404, "not_found"))
        except web.HTTPMethodNotAllowed:
            return problem_response(request, ApiError(405, "method_not_allowed"))
        except web.HTTPRequestEntityTooLarge as e:
            return problem_response(request, ApiError(413, "body_too_large", limit=e.max_size))
        except web.HTTPException:
            raise
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s %s failed unexpectedly", request.method, request.path)
            return problem_response(request, ApiError(500, "internal_error"))

    @web.middleware
    async def authentication(request: web.Request, handler):
        token = bearer_token(request)
        if token is not None and verifier is not None:
            caller = await verifier.verify(token)
            request["principal"] = caller
            user_id_var.set(caller.user_id)
        return await handler(request)

    return [request_context, problems, authentication]


async def metrics_handler(request: web.Request) -> web.Response:
    body = generate_latest(request.app[registry_key])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
