"""Test fixtures: every run gets its own database, broker names, bucket and S3 server.

`suite` starts the services in this process on free loopback ports, against the real PostgreSQL and
RabbitMQ of the machine and a moto S3 server process. Set TALENT_TEST_SERVICES=identity,binding to
start only some of them.
"""

import asyncio
import importlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from services.common.broker_cleanup import delete_broker_objects
from services.common.db import drop_database, ensure_database
from services.common.ports import free_port
from services.common.settings import SERVICE_PORTS, Settings

ALL_SERVICES = list(SERVICE_PORTS)


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@pytest.fixture(scope="session")
def s3_server() -> str:
    """A moto S3 server process on loopback, unless TALENT_S3_ENDPOINT names a real one."""
    if os.environ.get("TALENT_S3_ENDPOINT"):
        yield os.environ["TALENT_S3_ENDPOINT"]
        return
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
async def test_settings(s3_server: str) -> AsyncIterator[Settings]:
    run = uuid.uuid4().hex[:10]
    base = Settings()
    database_url = base.database_url.rsplit("/", 1)[0] + f"/talent_test_{run}"
    ports = {name: free_port() for name in ALL_SERVICES}
    settings = Settings(
        env="test", database_url=database_url, broker_prefix=f"test-{run}.", s3_endpoint=s3_server,
        s3_bucket=f"talent-{run}", admin_password="Sys#2026Grading!", gateway_port=free_port(),
        **{f"{name}_port": port for name, port in ports.items()},
        **{f"{name}_url": f"http://127.0.0.1:{port}" for name, port in ports.items()},
    )
    await ensure_database(database_url)
    yield settings
    await drop_database(database_url)
    await delete_broker_objects(settings.amqp_url, settings.broker_prefix)


def selected_services() -> list[str]:
    chosen = os.environ.get("TALENT_TEST_SERVICES")
    return [name.strip() for name in chosen.split(",")] if chosen else ALL_SERVICES


@pytest.fixture(scope="session")
async def suite(test_settings: Settings) -> AsyncIterator[dict[str, web.Application]]:
    """All selected services running in this process; returns their apps by name."""
    runners = []
    apps = {}
    try:
        for name in selected_services():
            module = importlib.import_module(f"services.{name}.app")
            app = module.create_app(test_settings)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", test_settings.service_port(name)).start()
            runners.append(runner)
            apps[name] = app
        yield apps
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


async def eventually(check, timeout: float = 10.0, interval: float = 0.05):
    """Poll `check` (a coroutine function) until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value {result!r}")
        await asyncio.sleep(interval)
