"""Local launcher behind `make run`: the whole suite as processes on this machine.

It creates the database if needed and applies every service's migrations, starts moto's S3 server on
loopback when TALENT_S3_ENDPOINT is unset, starts the six services and the gateway, waits until all
answer /readyz, prints the gateway URL, and on Ctrl-C or SIGTERM stops every process it started.
"""

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from services.common.db import ensure_database, migrate
from services.common.logs import configure_logging
from services.common.ports import free_port, port_is_free
from services.common.settings import SERVICE_PORTS, Settings, load_settings

log = logging.getLogger("launcher")

SERVICES = list(SERVICE_PORTS)
RUN_DIR = Path(".run")
ADMIN_PASSWORD_FILE = RUN_DIR / "admin-password"
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0
S3_START_ATTEMPTS = 3


def admin_password(settings: Settings) -> str:
    """Return the first admin's password: TALENT_ADMIN_PASSWORD, else one generated once into .run/."""
    if settings.admin_password:
        return settings.admin_password
    if ADMIN_PASSWORD_FILE.exists():
        return ADMIN_PASSWORD_FILE.read_text().strip()
    RUN_DIR.mkdir(exist_ok=True)
    password = "Adm#" + secrets.token_urlsafe(12)
    ADMIN_PASSWORD_FILE.write_text(password + "\n")
    ADMIN_PASSWORD_FILE.chmod(0o600)
    return password


async def apply_all_migrations(settings: Settings) -> None:
    await ensure_database(settings.database_url)
    for name in SERVICES:
        spec = importlib.import_module(f"services.{name}.app").SPEC
        await migrate(settings.database_url, spec.name, spec.migrations)


async def wait_until_ready(urls: dict[str, str], processes: dict[str, subprocess.Popen]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    pending = dict(urls)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while pending:
            for name, process in processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {process.returncode} during start-up")
            for name, url in list(pending.items()):
                try:
                    async with http.get(f"{url}/readyz") as response:
                        if response.status == 200:
                            log.info("%s is ready", name)
                            del pending[name]
                except (aiohttp.ClientError, TimeoutError):
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {READY_TIMEOUT:.0f}s: {', '.join(pending)}")
            await asyncio.sleep(0.3)


def listens_on(pid: int, port: int) -> bool:
    """Return whether process `pid` has a TCP socket listening on `port`, read from Linux's /proc.

    Without /proc (macOS), return whether anything accepts connections on the port.
    """
    if not Path("/proc/net/tcp").exists():
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0
    try:
        links = list(Path(f"/proc/{pid}/fd").iterdir())
        table = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return False
    sockets = set()
    for link in links:
        # A descriptor closed since the listing (such as the listing's own) has no link left to read.
        with contextlib.suppress(OSError):
            sockets.add(os.readlink(link))
    for line in table:
        fields = line.split()
        local_port, state, inode = int(fields[1].rsplit(":", 1)[1], 16), fields[3], fields[9]
        if local_port == port and state == "0A" and f"socket:[{inode}]" in sockets:
            return True
    return False


class Launcher:
    def __init__(self, settings: Settings, s3_port: int = 9000, run_dir: Path = RUN_DIR) -> None:
        self.settings = settings
        self.s3_port = s3_port
        self.run_dir = run_dir
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = dict(os.environ)

    def start(self, name: str, args: list[str], output=None) -> None:
        log.info("starting %s", name)
        self.processes[name] = subprocess.Popen([sys.executable, *args], env=self.env, stdout=output,
                                                stderr=output, start_new_session=True)

    def start_s3(self) -> None:
        self.run_dir.mkdir(exist_ok=True)
        # moto logs every request; its log goes to a file so that the services' logs stay readable.
        self.s3_log = (self.run_dir / "s3.log").open("ab")
        port = self.s3_port if port_is_free(self.s3_port) else free_port()
        for _ in range(S3_START_ATTEMPTS):
            if self._start_moto(port):
                self.env["TALENT_S3_ENDPOINT"] = f"http://127.0.0.1:{port}"
                log.info("moto S3 server (in memory) listens on 127.0.0.1:%d", port)
                return
            # Another process bound the port between the check and moto's start: try another one.
            log.warning("moto S3 server exited at start on port %d; trying another port", port)
            port = free_port()
        raise RuntimeError(f"moto S3 server failed to start after {S3_START_ATTEMPTS} ports; "
                           f"see {self.run_dir / 's3.log'}")

    def _start_moto(self, port: int) -> bool:
        """Start moto on `port` and return True once it listens there, or False if it exited first."""
        self.start("s3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], output=self.s3_log)
        moto = self.processes["s3"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if moto.poll() is not None:
                return False
            if listens_on(moto.pid, port):
                return True
            time.sleep(0.1)
        raise RuntimeError(f"moto S3 server did not listen on 127.0.0.1:{port} within 30s")

    def stop(self) -> None:
        for name, process in reversed(self.processes.items()):
            if process.poll() is None:
                log.info("stopping %s", name)
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for name, process in self.processes.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0fs; killing it", name, STOP_TIMEOUT)
                process.kill()
                process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the talent grading suite on this machine.")
    parser.add_argument("--s3-port", type=int, default=9000,
                        help="port of the moto S3 server when TALENT_S3_ENDPOINT is unset; another free port"
                             " is used when it is taken (default 9000)")
    parser.add_argument("--run-dir", type=Path, default=RUN_DIR,
                        help="folder of the moto log (default .run)")
    arguments = parser.parse_args()
    settings = load_settings()
    configure_logging("launcher", settings.log_format, settings.log_level)

    ports = [settings.service_port(name) for name in SERVICES] + [settings.gateway_port]
    busy = [port for port in ports if not port_is_free(port)]
    if busy:
        log.error("ports already in use on 127.0.0.1: %s; stop what uses them or set TALENT_<SERVICE>_PORT",
                  ", ".join(map(str, busy)))
        return 1

    launcher = Launcher(settings, arguments.s3_port, arguments.run_dir)
    launcher.env["TALENT_ADMIN_PASSWORD"] = admin_password(settings)
    stopping = False

    def request_stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        asyncio.run(apply_all_migrations(settings))
        log.info("migrations applied to %s", settings.database_url.rsplit("@", 1)[-1])
        if not settings.s3_endpoint:
            launcher.start_s3()
        for name in SERVICES:
            launcher.start(name, ["-m", f"services.{name}"])
        asyncio.run(wait_until_ready({name: settings.service_url(name) for name in SERVICES}, launcher.processes))
        # The gateway starts last: it loads revoked sessions from identity at start.
        launcher.start("gateway", ["-m", "gateway"])
        asyncio.run(wait_until_ready({"gateway": f"http://127.0.0.1:{settings.gateway_port}"}, launcher.processes))
        print(f"\n人才分类定级评定套件已就绪 / suite ready: http://127.0.0.1:{settings.gateway_port}"
              f"  (API 浏览 / API browser: /docs)\n"
              f"管理员 / admin: {settings.admin_account}, 密码见 / password in "
              f"{'TALENT_ADMIN_PASSWORD' if settings.admin_password else ADMIN_PASSWORD_FILE}\n"
              f"按 Ctrl-C 停止 / press Ctrl-C to stop\n", flush=True)
        while not stopping:
            for name, process in launcher.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {process.returncode}")
            time.sleep(0.5)
        return 0
    except Exception as e:  # noqa: BLE001 - report the reason, then stop everything started so far
        log.error("launcher failed: %s", e)
        return 1
    finally:
        launcher.stop()
        log.info("all processes stopped")


if __name__ == "__main__":
    sys.exit(main())
