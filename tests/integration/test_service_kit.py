"""The HTTP service factory against real PostgreSQL and RabbitMQ: errors, health, metrics, outages."""

import asyncio
import contextlib
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from pydantic import BaseModel, Field

from services.common.errors import ApiError
from services.common.service import ServiceSpec, create_service_app, pool_key
from services.common.web import Api, json_response
from tests.conftest import free_port

api = Api(title="kit")


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=10)


@api.post("/notes", summary="Add a note", body=NoteIn, status=201, public=True)
async def add_note(request: web.Request, body: NoteIn) -> web.Response:
    async with request.app[pool_key].acquire() as connection:
        note_id = await connection.fetchval("INSERT INTO notes (text) VALUES ($1) RETURNING id", body.text)
    return json_response({"id": note_id}, status=201)


@api.get("/private", summary="Signed-in users only")
async def private(request: web.Request) -> web.Response:
    return json_response({"ok": True})


@api.get("/teapot", summary="A domain error", public=True)
async def teapot(request: web.Request) -> web.Response:
    raise ApiError(409, "auth.forbidden")


class TcpRelay:
    """A loopback TCP relay to PostgreSQL that a test can cut to simulate an outage."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader, writer) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, upstream_writer}

        async def pipe(source, sink):
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    async def cut(self) -> None:
        self.server.close()
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()


@pytest.fixture
async def kit_service(test_settings):
    relay = TcpRelay(5432)
    await relay.start()
    database_url = test_settings.database_url.replace("127.0.0.1:5432", f"127.0.0.1:{relay.port}")
    settings = test_settings.model_copy(update={"database_url": database_url, "database_timeout": 1.0})
    spec = ServiceSpec(name="kit_http", api=api, migrations=Path(__file__).parent / "kit_migrations")
    app = create_service_app(spec, settings)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
        yield f"http://127.0.0.1:{port}", http, relay
    await relay.cut()
    await runner.cleanup()


async def test_validation_error_in_chinese(kit_service):
    base, http, _ = kit_service
    async with http.post(f"{base}/notes", json={"text": ""}) as response:
        body = await response.json(content_type=None)
    assert response.status == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert body["code"] == "validation_failed"
    assert body["title"] == "提交的数据未通过校验"
    assert body["errors"] == [{"field": "text", "code": "validation.too_short",
                               "message": "内容过短，至少 1 个字符"}]


async def test_validation_error_in_english(kit_service):
    base, http, _ = kit_service
    async with http.post(f"{base}/notes", json={}, headers={"Accept-Language": "en-US,en;q=0.9"}) as response:
        body = await response.json(content_type=None)
    assert response.status == 422
    assert body["title"] == "The submitted data is invalid"
    assert body["errors"][0]["message"] == "Required; please fill it in"


async def test_invalid_json_is_400(kit_service):
    base, http, _ = kit_service
    async with http.post(f"{base}/notes", data=b"{not json") as response:
        body = await response.json(content_type=None)
    assert response.status == 400
    assert body["code"] == "invalid_json"


async def test_private_route_needs_token(kit_service):
    base, http, _ = kit_service
    async with http.get(f"{base}/private") as response:
        body = await response.json(content_type=None)
    assert response.status == 401
    assert body["code"] == "auth.required"


async def test_request_id_is_kept(kit_service):
    base, http, _ = kit_service
    async with http.get(f"{base}/teapot", headers={"X-Request-ID": "kit-7"}) as response:
        body = await response.json(content_type=None)
    assert response.headers["X-Request-ID"] == "kit-7"
    assert body["request_id"] == "kit-7"


async def test_health_ready_metrics_openapi(kit_service):
    base, http, _ = kit_service
    async with http.get(f"{base}/healthz") as health, http.get(f"{base}/readyz") as ready:
        assert health.status == 200
        assert (await ready.json())["checks"] == {"database": True, "broker": True}
    async with http.post(f"{base}/notes", json={"text": "hello"}) as response:
        assert response.status == 201
    async with http.get(f"{base}/metrics") as metrics:
        text = await metrics.text()
    assert 'http_requests_total{method="POST",route="/notes",status="201"}' in text
    async with http.get(f"{base}/openapi.json") as response:
        document = await response.json()
    assert document["openapi"] == "3.1.0"
    assert "/notes" in document["paths"]


async def test_database_outage_gives_503_quickly(kit_service):
    base, http, relay = kit_service
    await relay.cut()
    started = asyncio.get_running_loop().time()
    async with http.post(f"{base}/notes", json={"text": "lost?"}) as response:
        body = await response.json(content_type=None)
    elapsed = asyncio.get_running_loop().time() - started
    assert response.status == 503
    assert body["code"] == "service_unavailable"
    assert "数据库" in body["detail"]
    assert response.headers["Retry-After"] == "5"
    assert elapsed < 10
    async with http.get(f"{base}/readyz") as ready:
        assert ready.status == 503
