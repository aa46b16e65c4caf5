"""The shared Idempotency-Key handling against the real PostgreSQL and through the kit's middlewares."""

import asyncio
import json
import uuid
from pathlib import Path

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from services.common.db import apply_migrations, create_pool
from services.common.errors import ApiError
from services.common.idempotency import (
    find_response,
    find_stored,
    idempotency_key,
    request_hash,
    save_response,
)
from services.common.web import json_response, make_middlewares
from tests.conftest import eventually

MIGRATIONS = Path(__file__).parent / "kit_migrations"
SCOPE = "notes.add"


class NoteIn(BaseModel):
    text: str
    tags: list[str] = []


@pytest.fixture
async def pool(test_settings):
    name = f"kit_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(test_settings.database_url)
    await apply_migrations(connection, name, MIGRATIONS)
    await connection.close()
    pool = await create_pool(test_settings.database_url, name)
    yield pool
    await pool.close()


@pytest.fixture
async def client():
    async def echo_key(request: web.Request) -> web.Response:
        return json_response({"key": idempotency_key(request)})

    app = web.Application(middlewares=make_middlewares("idempotency_test", None, CollectorRegistry()))
    app.router.add_post("/echo", echo_key)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


def new_key() -> str:
    return uuid.uuid4().hex


async def test_unknown_key_finds_nothing(pool):
    body_hash = request_hash({"text": "hello"})
    async with pool.acquire() as connection:
        response = await find_response(connection, "user-1", new_key(), SCOPE, body_hash)
        stored = await find_stored(connection, "user-1", new_key(), SCOPE, body_hash)
        without_key = await find_response(connection, "user-1", None, SCOPE, body_hash)

    assert response is None
    assert stored is None
    assert without_key is None


async def test_saved_response_is_replayed(pool):
    key = new_key()
    body_hash = request_hash(NoteIn(text="你好"))
    body = {"note_id": 7, "text": "你好", "tags": []}
    async with pool.acquire() as connection, connection.transaction():
        saved = await save_response(connection, "user-1", key, SCOPE, body_hash, 201, body)

    async with pool.acquire() as connection:
        response = await find_response(connection, "user-1", key, SCOPE, body_hash)
        stored = await find_stored(connection, "user-1", key, SCOPE, body_hash)

    assert saved is True
    assert response is not None
    assert response.status == 201
    assert response.content_type == "application/json"
    assert response.headers["Idempotent-Replayed"] == "true"
    assert json.loads(response.text) == body
    assert (stored.status, stored.body) == (201, body)


async def test_key_is_separate_per_user_and_scope(pool):
    key = new_key()
    body_hash = request_hash({"text": "hello"})
    async with pool.acquire() as connection:
        await save_response(connection, "user-1", key, SCOPE, body_hash, 200, {"ok": True})
        other_user = await find_response(connection, "user-2", key, SCOPE, body_hash)
        other_scope = await find_response(connection, "user-1", key, "notes.delete", body_hash)

    assert other_user is None
    assert other_scope is None


async def test_key_with_other_request_is_422(pool):
    key = new_key()
    async with pool.acquire() as connection:
        await save_response(connection, "user-1", key, SCOPE, request_hash({"text": "first"}), 200, {"n": 1})
        with pytest.raises(ApiError) as found:
            await find_response(connection, "user-1", key, SCOPE, request_hash({"text": "second"}))
        with pytest.raises(ApiError) as stored:
            await find_stored(connection, "user-1", key, SCOPE, request_hash({"text": "second"}))

    assert (found.value.status, found.value.code) == (422, "idempotency.conflict")
    assert (stored.value.status, stored.value.code) == (422, "idempotency.conflict")


async def test_second_save_returns_false(pool):
    key = new_key()
    body_hash = request_hash({"text": "hello"})
    async with pool.acquire() as connection:
        first = await save_response(connection, "user-1", key, SCOPE, body_hash, 201, {"n": 1})
        second = await save_response(connection, "user-1", key, SCOPE, body_hash, 201, {"n": 2})
        stored = await find_stored(connection, "user-1", key, SCOPE, body_hash)

    assert first is True
    assert second is False
    assert stored.body == {"n": 1}


async def test_save_without_key_stores_nothing(pool):
    async with pool.acquire() as connection:
        saved = await save_response(connection, "user-1", None, SCOPE, request_hash({}), 200, {"n": 1})
        rows = await connection.fetchval("SELECT count(*) FROM idempotency_keys")

    assert saved is True
    assert rows == 0


async def _save_while_other_holds_key(pool, finish_first: str) -> bool:
    """Save one key from two transactions at once, and end the first while the second waits for it."""
    key = new_key()
    body_hash = request_hash({"text": "hello"})
    async with pool.acquire() as first, pool.acquire() as second:
        transaction = first.transaction()
        await transaction.start()
        assert await save_response(first, "user-1", key, SCOPE, body_hash, 201, {"n": 1})
        second_pid = second.get_server_pid()
        racing = asyncio.create_task(save_response(second, "user-1", key, SCOPE, body_hash, 201, {"n": 2}))

        async def second_waits() -> bool:
            # Outside the first transaction, which would keep reading one snapshot of pg_stat_activity.
            return await pool.fetchval(
                "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", second_pid)

        try:
            await eventually(second_waits)
        finally:
            await (transaction.commit() if finish_first == "commit" else transaction.rollback())
        return await racing


async def test_racing_save_waits_and_loses(pool):
    assert await _save_while_other_holds_key(pool, "commit") is False


async def test_racing_save_wins_after_rollback(pool):
    assert await _save_while_other_holds_key(pool, "rollback") is True


def test_request_hash_is_canonical():
    model = NoteIn(text="你好", tags=["a"])

    assert request_hash(model) == request_hash({"tags": ["a"], "text": "你好"})
    assert request_hash({"a": 1, "b": 2}) == request_hash({"b": 2, "a": 1})
    assert request_hash(model) != request_hash(NoteIn(text="你好", tags=["b"]))
    assert len(request_hash(None)) == 64


async def test_valid_key_is_accepted(client):
    for key in ("x" * 200, str(uuid.uuid4()), "!~"):
        async with client.post("/echo", headers={"Idempotency-Key": key}) as response:
            assert response.status == 200, key
            assert (await response.json())["key"] == key
    async with client.post("/echo") as response:
        assert (await response.json())["key"] is None


@pytest.mark.parametrize("key", ["", "two words", "x" * 201])
async def test_invalid_key_is_400(client, key):
    async with client.post("/echo", headers={"Idempotency-Key": key}) as response:
        problem = await response.json(content_type=None)

    assert response.status == 400
    assert problem["code"] == "idempotency.key_invalid"
    assert problem["title"] == "Idempotency-Key 请求头无效"
    assert "1 至 200 个可见 ASCII 字符" in problem["detail"]


async def test_invalid_key_message_in_english(client):
    headers = {"Idempotency-Key": "x" * 201, "Accept-Language": "en"}
    async with client.post("/echo", headers=headers) as response:
        problem = await response.json(content_type=None)

    assert response.status == 400
    assert problem["title"] == "Invalid Idempotency-Key header"
    assert "1 to 200 visible ASCII characters" in problem["detail"]
