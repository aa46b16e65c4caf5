"""The applicant's whole journey through the gateway, with every process started by the launcher."""

import io
import signal
import socket

import aiohttp
import pytest
from pypdf import PdfReader
from yarl import URL

from deploy.demo import STATUS_MATERIAL_APPROVED, STATUS_SUBMITTED, run_journey
from services.common.settings import Settings
from tests.e2e.conftest import ADMIN_PASSWORD, SERVICES
from tests.support import Portal

pytestmark = pytest.mark.e2e


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


@pytest.mark.parametrize("path", [
    "/api/v1/identity/x/../internal/revoked-sessions",
    "/api/v1/identity/./internal/revoked-sessions",
    "/api/v1/identity/x/%2e%2e/internal/revoked-sessions",
    "/api/v1/identity/x%2F..%2Finternal/revoked-sessions",
    "/api/v1/identity/x/%252e%252e/internal/revoked-sessions",
    "/api/v1/identity/metrics",
    "/api/v1/identity/openapi.json",
])
async def test_gateway_closes_dot_and_operator_paths(launched, path):
    # The suite runs with the development internal token, so only the gateway can stop these requests.
    internal_token = Settings().internal_token
    async with aiohttp.ClientSession() as http:
        url = URL(launched["gateway"] + path, encoded=True)
        async with http.get(url, headers={"X-Internal-Token": internal_token}) as response:
            body = await response.json(content_type=None)
    assert response.status == 404
    assert body["title"] == "请求的资源不存在"


async def test_gateway_keeps_dotted_names_and_serves_merged_openapi(launched):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{launched['gateway']}/api/v1/identity/.well-known/jwks.json") as response:
            jwks = await response.json()
        async with http.get(f"{launched['gateway']}/openapi.json") as response:
            merged = await response.json()
    assert jwks["keys"]
    assert "/api/v1/identity/me" in merged["paths"]
    assert not [path for path in merged["paths"] if "/internal/" in path]
    submit = merged["paths"]["/api/v1/application/applications/{application_id}/submit"]["post"]
    calls = merged["paths"]["/api/v1/application/calls"]["get"]
    assert submit["parameters"] == [{"name": "application_id", "in": "path", "required": True,
                                     "schema": {"type": "string"}}]
    assert [(item["name"], item["in"]) for item in calls["parameters"]] == [("open", "query")]
    templated = [(path, method) for path, operations in merged["paths"].items() if "{" in path
                 for method, operation in operations.items() if not operation.get("parameters")]
    assert templated == []


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
