"""The applicant's whole journey through the gateway, with every process started by the launcher."""

import io
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
from pypdf import PdfReader

from deploy.demo import STATUS_MATERIAL_APPROVED, STATUS_SUBMITTED, run_journey
from tests.conftest import free_port
from tests.support import Portal

pytestmark = pytest.mark.e2e

ADMIN_PASSWORD = "Sys#2026Journey!"
SERVICES = ("identity", "binding", "application", "files", "review", "cert")


@pytest.fixture(scope="module")
def launched(tmp_path_factory, test_settings):
    """The launcher in its own process group, on its own database, broker names, bucket and ports."""
    run = uuid.uuid4().hex[:10]
    database_url = test_settings.database_url.rsplit("/", 1)[0] + f"/talent_e2e_{run}"
    gateway_port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TALENT_")}
    env.update({
        "TALENT_ENV": "test", "TALENT_DATABASE_URL": database_url, "TALENT_BROKER_PREFIX": f"e2e-{run}.",
        "TALENT_S3_BUCKET": f"talent-e2e-{run}", "TALENT_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "TALENT_GATEWAY_PORT": str(gateway_port),
        "TALENT_PUBLIC_BASE_URL": f"http://127.0.0.1:{gateway_port}",
    })
    for name in SERVICES:
        port = free_port()
        env[f"TALENT_{name.upper()}_PORT"] = str(port)
        env[f"TALENT_{name.upper()}_URL"] = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("launcher") / "launcher.log"
    log_file = log_path.open("w")
    process = subprocess.Popen([sys.executable, "-m", "deploy.launcher"], env=env, stdout=log_file,
                               stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[2])
    gateway = f"http://127.0.0.1:{gateway_port}"
    try:
        _wait_for_ready_line(log_path, process)
        yield {"gateway": gateway, "process": process, "log": log_path, "ports": env}
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log_file.close()
        subprocess.run([sys.executable, "-c", "import asyncio, sys; from services.common.db import drop_database;"
                        " asyncio.run(drop_database(sys.argv[1]))", database_url], check=False)


def _wait_for_ready_line(log_path: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "suite ready" in log_path.read_text(errors="replace"):
            return
        if process.poll() is not None:
            raise AssertionError(f"launcher exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.3)
    raise AssertionError(f"launcher not ready after {timeout}s:\n{log_path.read_text()[-4000:]}")


async def test_journey_through_gateway(launched, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    steps = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        portal = Portal.through_gateway(http, launched["gateway"])
        seen = await run_journey(portal, ADMIN_PASSWORD, say=steps.append)

    assert seen["statuses"] == [STATUS_SUBMITTED, STATUS_SUBMITTED, STATUS_MATERIAL_APPROVED]
    certificate = (tmp_path / "demo-output" / "certificate.pdf").read_bytes()
    reader = PdfReader(io.BytesIO(certificate))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "张伟明" in text
    assert "人才分类定级" in text
    assert len(steps) >= 14


async def test_gateway_rejects_unknown_service(launched):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{launched['gateway']}/api/v1/nothing/here",
                            headers={"Accept-Language": "en"}) as response:
            body = await response.json(content_type=None)
    assert response.status == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert body["code"] == "gateway.unknown_service"
    assert body["title"] == "Unknown service"


async def test_gateway_hides_internal_paths(launched):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{launched['gateway']}/api/v1/identity/internal/revoked-sessions") as response:
            body = await response.json(content_type=None)
    assert response.status == 404
    assert body["title"] == "请求的资源不存在"


async def test_service_problem_names_gateway_path(launched):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{launched['gateway']}/api/v1/identity/me") as response:
            body = await response.json(content_type=None)
    assert response.status == 401
    assert body["code"] == "auth.required"
    assert body["instance"] == "/api/v1/identity/me"


async def test_gateway_forwards_request_id(launched):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{launched['gateway']}/api/v1/identity/captcha",
                            headers={"X-Request-ID": "e2e-request-42"}) as response:
            await response.read()
    assert response.status == 200
    assert response.headers["X-Request-ID"] == "e2e-request-42"


async def test_gateway_limits_body_size(launched):
    oversized = b"{" + b" " * (2 << 20) + b"}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{launched['gateway']}/api/v1/identity/sessions", data=oversized,
                             headers={"Content-Type": "application/json"}) as response:
            body = await response.json(content_type=None)
    assert response.status == 413
    assert body["code"] == "body_too_large"


async def test_launcher_stops_every_process(launched):
    process = launched["process"]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    ports = [int(launched["ports"][f"TALENT_{name.upper()}_PORT"]) for name in SERVICES]
    ports.append(int(launched["ports"]["TALENT_GATEWAY_PORT"]))
    for port in ports:
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"
