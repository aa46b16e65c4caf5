"""Attachment upload through the gateway, against a direct SDK upload to the same S3 server.

The benchmark starts what it measures on 127.0.0.1 in processes of its own: a moto S3 server, and the
identity, files and gateway services on a fresh database and broker prefix. A fake application
service in this process reports every application as an editable draft of its caller. For each size
the benchmark uploads pseudo-random data that starts like a PDF:

- directly to S3 with the minio SDK's `put_object` (the baseline), and
- as `POST /api/v1/files/files` through the gateway and the files service into the same S3 server,

sampling VmRSS of the gateway and files processes from /proc every 5 ms during each upload. It prints
the throughput of both paths, their ratio, and the peak RSS growth of each process over its RSS just
before the upload. Everything it started is stopped and its database dropped at the end.
"""

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import jwt
from aiohttp import web
from minio import Minio

from services.common.broker_cleanup import delete_broker_objects
from services.common.db import drop_database, ensure_database
from services.common.ports import free_port
from services.common.settings import Settings
from tests.support import Portal, new_person

MB = 1000 * 1000
MIB = 1024 * 1024
SIZES = ((50 * MB, 3), (200 * MB, 2))  # (bytes, rounds)
CHUNK = 256 * 1024
SAMPLE_SECONDS = 0.005
ROOT = Path(__file__).resolve().parents[1]


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


class PeakRss:
    """Samples the RSS of some processes in a thread; `growth` is each peak over the RSS at start."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.start_rss = {name: rss_bytes(pid) for name, pid in pids.items()}
        self.peak = dict(self.start_rss)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], rss_bytes(pid))
            time.sleep(SAMPLE_SECONDS)

    def growth(self, name: str) -> int:
        return self.peak[name] - self.start_rss[name]


class PdfLikeStream:
    """`size` bytes starting with a PDF header, served by `read` for the SDK and `chunks` for aiohttp."""

    BLOCK = os.urandom(MIB)

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0

    def read(self, count: int = -1) -> bytes:
        count = self.size - self.position if count < 0 else min(count, self.size - self.position)
        offset = self.position % len(self.BLOCK)
        data = (self.BLOCK[offset:] + self.BLOCK)[:count] if count <= len(self.BLOCK) else self._long(count)
        if self.position == 0:
            data = (b"%PDF-1.7\n" + data[9:])[:count]
        self.position += len(data)
        return data

    def _long(self, count: int) -> bytes:
        repeats = count // len(self.BLOCK) + 2
        offset = self.position % len(self.BLOCK)
        return (self.BLOCK * repeats)[offset:offset + count]

    async def chunks(self) -> AsyncIterator[bytes]:
        while chunk := self.read(CHUNK):
            yield chunk


class Processes:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.started: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str]) -> int:
        self.started[name] = subprocess.Popen([sys.executable, *args], env=self.env, cwd=ROOT,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self.started[name].pid

    def stop(self) -> None:
        for process in reversed(self.started.values()):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.started.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def wait_until_up(http: aiohttp.ClientSession, url: str, processes: Processes, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in processes.started.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with code {process.returncode} during start-up")
        try:
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                if response.status == 200:
                    return
        except (aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not respond with 200 within {timeout:.0f}s")


@asynccontextmanager
async def fake_application_service(port: int):
    """Report every application as an editable draft of the caller (the token's subject, read unverified)."""
    async def get_application(request: web.Request) -> web.Response:
        token = request.headers["Authorization"].removeprefix("Bearer ")
        person_id = jwt.decode(token, options={"verify_signature": False})["sub"]
        return web.json_response({"id": request.match_info["application_id"], "person_id": person_id,
                                  "uscc": "91220104MA17QH2R73", "status": "draft", "editable": True,
                                  "editable_modules": ["publications", "materials"],
                                  "modules": {"publications": {"content": [{"entry_id": "bench"}]}}})

    app = web.Application()
    app.router.add_get("/applications/{application_id}", get_application)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield
    finally:
        await runner.cleanup()


@asynccontextmanager
async def suite() -> AsyncIterator[dict]:
    run = uuid.uuid4().hex[:10]
    base = Settings()
    database_url = base.database_url.rsplit("/", 1)[0] + f"/talent_bench_{run}"
    ports = {name: free_port() for name in ("identity", "files", "application", "gateway", "s3")}
    env = {key: value for key, value in os.environ.items() if not key.startswith("TALENT_")}
    env.update({
        "TALENT_ENV": "test", "TALENT_DATABASE_URL": database_url, "TALENT_BROKER_PREFIX": f"bench-{run}.",
        "TALENT_S3_ENDPOINT": f"http://127.0.0.1:{ports['s3']}", "TALENT_S3_BUCKET": f"talent-bench-{run}",
        "TALENT_ADMIN_PASSWORD": "Bench#2026upload", "TALENT_GATEWAY_PORT": str(ports["gateway"]),
        "TALENT_LOG_LEVEL": "WARNING", "TALENT_FILES_SWEEP_INTERVAL": "0",
        "TALENT_FILES_MAX_BYTES": json.dumps({"publications": 256 * MIB}),
    })
    for name in ("identity", "files", "application"):
        env[f"TALENT_{name.upper()}_PORT"] = str(ports[name])
        env[f"TALENT_{name.upper()}_URL"] = f"http://127.0.0.1:{ports[name]}"
    await ensure_database(database_url)
    processes = Processes(env)
    try:
        async with aiohttp.ClientSession() as http, fake_application_service(ports["application"]):
            processes.start("s3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", str(ports["s3"])])
            await wait_until_up(http, f"http://127.0.0.1:{ports['s3']}/moto-api/", processes)
            pids = {"identity": processes.start("identity", ["-m", "services.identity"]),
                    "files": processes.start("files", ["-m", "services.files"])}
            for name in ("identity", "files"):
                await wait_until_up(http, f"http://127.0.0.1:{ports[name]}/readyz", processes)
            pids["gateway"] = processes.start("gateway", ["-m", "gateway"])
            await wait_until_up(http, f"http://127.0.0.1:{ports['gateway']}/healthz", processes)
            yield {"gateway": f"http://127.0.0.1:{ports['gateway']}", "s3_port": ports["s3"],
                   "bucket": env["TALENT_S3_BUCKET"], "pids": pids}
    finally:
        processes.stop()
        await drop_database(database_url)
        await delete_broker_objects(base.amqp_url,
                                    env["TALENT_BROKER_PREFIX"])


def upload_body(application_id: str, stream: PdfLikeStream) -> tuple[str, AsyncIterator[bytes]]:
    boundary = uuid.uuid4().hex
    preamble = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                       for name, value in (("kind", "publications"), ("application_id", application_id),
                                           ("entry_id", "bench")))
    preamble += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"论文.pdf\"\r\n"
                 "Content-Type: application/pdf\r\n\r\n")

    async def body() -> AsyncIterator[bytes]:
        yield preamble.encode()
        async for chunk in stream.chunks():
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    return boundary, body()


async def upload_through_gateway(applicant: Portal, size: int, pids: dict[str, int]) -> tuple[float, PeakRss]:
    boundary, body = upload_body(str(uuid.uuid4()), PdfLikeStream(size))
    headers = {"Authorization": f"Bearer {applicant.token}",
               "Content-Type": f"multipart/form-data; boundary={boundary}"}
    with PeakRss({name: pids[name] for name in ("gateway", "files")}) as memory:
        started = time.perf_counter()
        async with applicant.http.post(applicant.url("files", "/files"), data=body, headers=headers) as response:
            uploaded = await response.json(content_type=None)
        elapsed = time.perf_counter() - started
    if response.status != 201 or uploaded["size"] != size:
        raise RuntimeError(f"upload through the gateway failed: {response.status} {uploaded}")
    await applicant.delete("files", f"/files/{uploaded['file_id']}", expect=204)
    return elapsed, memory


def upload_directly(client: Minio, bucket: str, size: int) -> float:
    key = f"bench/{uuid.uuid4()}"
    started = time.perf_counter()
    client.put_object(bucket, key, PdfLikeStream(size), size, content_type="application/pdf")
    elapsed = time.perf_counter() - started
    client.remove_object(bucket, key)
    return elapsed


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    return f"{os.cpu_count()} CPUs ({cpu}), Python {sys.version.split()[0]}"


async def main() -> None:
    print(f"machine: {machine()}", flush=True)
    async with suite() as running, aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as http:
        portal = Portal.through_gateway(http, running["gateway"])
        person = new_person()
        await portal.register_person(person)
        applicant = await portal.login(person["mobile"], person["password"])
        client = Minio(f"127.0.0.1:{running['s3_port']}", access_key="talent-dev", secret_key="talent-dev-secret",
                       region="cn-north-1", secure=False)
        # One small upload first, so that imports and connection pools are in place before measuring.
        await upload_through_gateway(applicant, MIB, running["pids"])
        await asyncio.to_thread(upload_directly, client, running["bucket"], MIB)

        print(f"{'size':>7} {'direct MB/s':>12} {'gateway MB/s':>13} {'ratio':>6} {'gateway RSS +MiB':>17} "
              f"{'files RSS +MiB':>15}")
        for size, rounds in SIZES:
            direct, through, gateway_growth, files_growth = [], [], [], []
            for _ in range(rounds):
                direct.append(await asyncio.to_thread(upload_directly, client, running["bucket"], size))
                elapsed, memory = await upload_through_gateway(applicant, size, running["pids"])
                through.append(elapsed)
                gateway_growth.append(memory.growth("gateway"))
                files_growth.append(memory.growth("files"))
            direct_speed = size / MB / statistics.median(direct)
            gateway_speed = size / MB / statistics.median(through)
            ratio = gateway_speed / direct_speed
            print(f"{size // MB:>4} MB {direct_speed:>12.1f} {gateway_speed:>13.1f} {ratio:>6.2f} "
                  f"{max(gateway_growth) / MIB:>17.1f} {max(files_growth) / MIB:>15.1f}", flush=True)
    print(f"median of {', '.join(f'{rounds} rounds at {size // MB} MB' for size, rounds in SIZES)}; RSS growth is "
          "the largest peak over the RSS just before an upload")
