"""The launcher fixture of the end-to-end tests: every process of the suite, started as `make run` does."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import free_port

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
    run_dir = tmp_path_factory.mktemp("launcher")
    log_path = run_dir / "launcher.log"
    log_file = log_path.open("w")
    # Its own S3 port and log folder keep it apart from a `make run` of the same checkout.
    command = [sys.executable, "-m", "deploy.launcher", "--s3-port", str(free_port()), "--run-dir", str(run_dir)]
    process = subprocess.Popen(command, env=env, stdout=log_file,
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
        subprocess.run([sys.executable, "-c", "import asyncio, sys; from services.common.broker_cleanup import"
                        " delete_broker_objects; asyncio.run(delete_broker_objects(sys.argv[1], sys.argv[2]))",
                        test_settings.amqp_url,
                        env["TALENT_BROKER_PREFIX"]], check=False)


def _wait_for_ready_line(log_path: Path, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "suite ready" in log_path.read_text(errors="replace"):
            return
        if process.poll() is not None:
            raise AssertionError(f"launcher exited with {process.returncode}:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.3)
    raise AssertionError(f"launcher not ready after {timeout}s:\n{log_path.read_text()[-4000:]}")
