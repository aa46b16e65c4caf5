"""Consistency of object and metadata row: storage failures, disconnects, limits mid-stream, the sweep,
an event loop S3 never blocks, and a 200 MB round trip.

Storage faults come from a TCP proxy in front of the moto S3 server that can stop, restart and slow
down. Uploads here stream their multipart bodies by hand, so a test decides when bytes are sent.
"""

import asyncio
import hashlib
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from services.common.db import create_pool
from services.common.service import pool_key, store_key
from services.common.storage import ObjectStore
from services.files.settings import FilesSettings
from services.files.sweeper import StorageSweeper, SweepResult
from tests.conftest import eventually
from tests.integration import test_files
from tests.integration.test_files import (
    MIB,
    file_rows,
    files_settings_for,
    fixture_bytes,
    open_multipart_uploads,
    sign_up_applicant,
    start_files_service,
    stored_keys,
    upload,
)
from tests.support import Portal, new_unit

CHUNK = 256 * 1024

# Fixtures of test_files.py; pytest finds them among this module's names.
bus, database, fake_applications, files_settings, portal = (
    test_files.bus, test_files.database, test_files.fake_applications, test_files.files_settings,
    test_files.portal)


class TcpProxy:
    """Forwards loopback TCP connections to `target_port`, optionally at `bytes_per_second`.

    `stop` refuses new connections and cuts open ones, as a crashed S3 server would; `start` again
    listens on the same port.
    """

    def __init__(self, target_port: int, bytes_per_second: float | None = None) -> None:
        self.target_port = target_port
        self.bytes_per_second = bytes_per_second
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._connect, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self.server is None:
            return
        self.server.close()
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()
        self.server = None

    async def _connect(self, client_reader, client_writer) -> None:
        target_reader, target_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers += [client_writer, target_writer]
        await asyncio.gather(self._pipe(client_reader, target_writer),
                             self._pipe(target_reader, client_writer), return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
                if self.bytes_per_second:
                    await asyncio.sleep(len(data) / self.bytes_per_second)
        finally:
            writer.close()


def multipart_parts(application_id: str, kind: str, file_name: str, entry_id: str | None = None
                    ) -> tuple[str, bytes, bytes]:
    """Return (boundary, bytes before the file's content, bytes after it) of an upload body."""
    boundary = uuid.uuid4().hex
    fields = [("kind", kind), ("application_id", application_id)]
    if entry_id is not None:
        fields.append(("entry_id", entry_id))
    preamble = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                       for name, value in fields)
    preamble += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n"
                 "Content-Type: application/pdf\r\n\r\n")
    return boundary, preamble.encode(), f"\r\n--{boundary}--\r\n".encode()


def pdf_like_chunks(size: int, seed: int = 2026):
    """Yield `size` bytes that start like a PDF, in chunks of CHUNK bytes of pseudo-random data."""
    generator = random.Random(seed)
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    sent = 0
    while sent < size:
        chunk = generator.randbytes(min(CHUNK, size - sent))
        if sent == 0:
            chunk = head + chunk[len(head):]
        sent += len(chunk)
        yield chunk


def upload_headers(portal: Portal, boundary: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {portal.token}", "Content-Type": f"multipart/form-data; boundary={boundary}"}


async def new_application(portal, fake_applications):
    applicant = await sign_up_applicant(portal)
    return applicant, fake_applications.register(applicant.user_id, new_unit()["uscc"])


# S3 unreachable or failing


async def test_storage_unreachable_is_503_without_row(suite, http, test_settings, fake_applications, database):
    proxy = TcpProxy(urlsplit(test_settings.s3_endpoint).port)
    await proxy.start()
    settings = files_settings_for(test_settings, fake_applications, s3_endpoint=f"http://127.0.0.1:{proxy.port}")
    runner = await start_files_service(settings)
    try:
        portal = Portal(http, {"identity": test_settings.identity_url, "files": settings.files_url})
        applicant, application_id = await new_application(portal, fake_applications)
        stored = await upload(applicant, application_id, "id_card", fixture_bytes("id_card.pdf"), "front.pdf")
        await proxy.stop()

        problem = await upload(applicant, application_id, "degree", fixture_bytes("degree.pdf"), "d.pdf",
                               expect=503)
        status, _ = await applicant.portal.request("GET", "files", f"/files/{stored['file_id']}/content")
    finally:
        await runner.cleanup()

    assert problem["code"] == "service_unavailable"
    assert status == 503
    assert [str(row["id"]) for row in await file_rows(database, application_id)] == [stored["file_id"]]


async def test_storage_stopped_during_upload(suite, http, test_settings, fake_applications, database):
    proxy = TcpProxy(urlsplit(test_settings.s3_endpoint).port)
    await proxy.start()
    settings = files_settings_for(test_settings, fake_applications, s3_endpoint=f"http://127.0.0.1:{proxy.port}")
    runner = await start_files_service(settings)
    try:
        portal = Portal(http, {"identity": test_settings.identity_url, "files": settings.files_url})
        applicant, application_id = await new_application(portal, fake_applications)
        boundary, preamble, epilogue = multipart_parts(application_id, "publications", "论文.pdf", "entry-a")

        async def body():
            yield preamble
            sent = 0
            for chunk in pdf_like_chunks(24 * MIB):
                if sent >= 12 * MIB and proxy.server is not None:
                    await proxy.stop()
                sent += len(chunk)
                yield chunk
            yield epilogue

        async with http.post(f"{settings.files_url}/files", data=body(),
                             headers=upload_headers(applicant.portal, boundary)) as response:
            status, problem = response.status, await response.json(content_type=None)
        left_during_outage = await open_multipart_uploads(test_settings, application_id)
        await proxy.start()
        sweeper = StorageSweeper(runner.app[store_key], runner.app[pool_key], orphan_grace=timedelta(0),
                                 upload_grace=timedelta(0))
        swept = await sweeper.sweep(prefix=f"applications/{application_id}/")
    finally:
        await runner.cleanup()
        await proxy.stop()

    assert status == 503, problem
    assert problem["code"] == "service_unavailable"
    assert await file_rows(database, application_id) == []
    # S3 was down when the service tried to abort, so the sweep had to.
    assert len(left_during_outage) == 1
    assert swept == SweepResult(objects_removed=0, uploads_aborted=1)
    assert await open_multipart_uploads(test_settings, application_id) == []
    assert await stored_keys(test_settings, application_id) == []


# The client


async def test_client_disconnect_mid_upload_leaves_nothing(portal, fake_applications, files_settings, database):
    applicant, application_id = await new_application(portal, fake_applications)
    boundary, preamble, epilogue = multipart_parts(application_id, "publications", "论文.pdf", "entry-a")
    declared = len(preamble) + 20 * MIB + len(epilogue)
    port = urlsplit(files_settings.files_url).port
    head = (f"POST /files HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {declared}\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in upload_headers(applicant.portal, boundary).items())
            + "\r\n").encode()

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + preamble)
    for chunk in pdf_like_chunks(8 * MIB):
        writer.write(chunk)
        await writer.drain()

    async def multipart_started():
        return await open_multipart_uploads(files_settings, application_id)
    await eventually(multipart_started)
    writer.transport.abort()

    async def multipart_aborted():
        return await open_multipart_uploads(files_settings, application_id) == []
    await eventually(multipart_aborted)
    assert await file_rows(database, application_id) == []
    assert await stored_keys(files_settings, application_id) == []


async def test_limit_passed_mid_stream_is_413_at_once(portal, http, fake_applications, files_settings, database):
    applicant, application_id = await new_application(portal, fake_applications)
    boundary, preamble, epilogue = multipart_parts(application_id, "id_card", "身份证.pdf")
    limit = 10 * MIB
    answered = asyncio.Event()

    async def body():
        yield preamble
        sent = 0
        for chunk in pdf_like_chunks(40 * MIB):
            if sent > limit + MIB:
                # The rest is sent only once the response arrived. A service that waited for the whole
                # body would never respond, so this wait would time out.
                await asyncio.wait_for(answered.wait(), timeout=15)
            sent += len(chunk)
            yield chunk
        yield epilogue

    async with http.post(f"{files_settings.files_url}/files", data=body(),
                         headers=upload_headers(applicant.portal, boundary)) as response:
        answered.set()
        status, problem = response.status, await response.json(content_type=None)

    assert status == 413
    assert problem["code"] == "files.too_large"
    assert await file_rows(database, application_id) == []

    async def nothing_left():
        return await open_multipart_uploads(files_settings, application_id) == []
    await eventually(nothing_left)
    assert await stored_keys(files_settings, application_id) == []


async def test_submission_during_upload_keeps_nothing(portal, http, fake_applications, files_settings, database):
    applicant, application_id = await new_application(portal, fake_applications)
    boundary, preamble, epilogue = multipart_parts(application_id, "publications", "论文.pdf", "entry-a")

    async def body():
        yield preamble
        for number, chunk in enumerate(pdf_like_chunks(8 * MIB)):
            if number == 8:
                fake_applications.lock(application_id)
            yield chunk
        yield epilogue

    async with http.post(f"{files_settings.files_url}/files", data=body(),
                         headers=upload_headers(applicant.portal, boundary)) as response:
        status, problem = response.status, await response.json(content_type=None)

    assert status == 409
    assert problem["code"] == "files.slot_locked"
    assert await file_rows(database, application_id) == []
    assert await stored_keys(files_settings, application_id) == []


# The sweep


async def test_sweep_removes_orphans_after_grace(portal, fake_applications, files_settings, test_settings):
    applicant, application_id = await new_application(portal, fake_applications)
    kept = await upload(applicant, application_id, "degree", fixture_bytes("degree.pdf"), "degree.pdf")
    prefix = f"applications/{application_id}/"
    store = ObjectStore(test_settings.s3_endpoint, test_settings.s3_access_key, test_settings.s3_secret_key,
                        test_settings.s3_bucket, region=test_settings.s3_region)
    await store.put_bytes(f"{prefix}{uuid.uuid4()}", b"%PDF-1.7 left over", "application/pdf")
    await asyncio.to_thread(store.client._create_multipart_upload, store.bucket, f"{prefix}{uuid.uuid4()}", {})
    pool = await create_pool(test_settings.database_url, "files", size=2)
    sweeper = StorageSweeper(store, pool, orphan_grace=timedelta(hours=1), upload_grace=timedelta(days=1))
    try:
        young = await sweeper.sweep(prefix=prefix)
        old = await sweeper.sweep(prefix=prefix, now=datetime.now(UTC) + timedelta(days=2))
    finally:
        await pool.close()

    assert young == SweepResult(objects_removed=0, uploads_aborted=0)
    assert old == SweepResult(objects_removed=1, uploads_aborted=1)
    assert await stored_keys(files_settings, application_id) == [f"{prefix}{kept['file_id']}"]
    assert await open_multipart_uploads(files_settings, application_id) == []


async def test_service_sweeps_periodically(suite, test_settings, fake_applications):
    settings = FilesSettings(**files_settings_for(test_settings, fake_applications).model_dump(),
                             files_sweep_interval=0.2, files_orphan_grace=0, files_upload_grace=3600)
    orphan = f"applications/{uuid.uuid4()}/{uuid.uuid4()}"
    store = ObjectStore(test_settings.s3_endpoint, test_settings.s3_access_key, test_settings.s3_secret_key,
                        test_settings.s3_bucket, region=test_settings.s3_region)
    await store.put_bytes(orphan, b"%PDF-1.7 left over", "application/pdf")

    runner = await start_files_service(settings)
    try:
        async def removed():
            return not await store.exists(orphan)
        await eventually(removed)
    finally:
        await runner.cleanup()


# The event loop


async def test_health_answers_while_storage_is_slow(suite, http, test_settings, fake_applications):
    proxy = TcpProxy(urlsplit(test_settings.s3_endpoint).port, bytes_per_second=4 * MIB)
    await proxy.start()
    settings = files_settings_for(test_settings, fake_applications, s3_endpoint=f"http://127.0.0.1:{proxy.port}")
    runner = await start_files_service(settings)
    try:
        portal = Portal(http, {"identity": test_settings.identity_url, "files": settings.files_url})
        applicant, application_id = await new_application(portal, fake_applications)
        boundary, preamble, epilogue = multipart_parts(application_id, "publications", "论文.pdf", "entry-a")

        async def body():
            yield preamble
            for chunk in pdf_like_chunks(12 * MIB):
                yield chunk
            yield epilogue

        async def send() -> int:
            async with http.post(f"{settings.files_url}/files", data=body(),
                                 headers=upload_headers(applicant.portal, boundary)) as response:
                await response.read()
                return response.status

        started = time.monotonic()
        sending = asyncio.create_task(send())
        latencies = []
        while not sending.done():
            before = time.perf_counter()
            async with http.get(f"{settings.files_url}/healthz") as health:
                assert health.status == 200
            latencies.append(time.perf_counter() - before)
            await asyncio.sleep(0.02)
        status = await sending
        duration = time.monotonic() - started
    finally:
        await runner.cleanup()
        await proxy.stop()

    assert status == 201
    assert duration > 2, f"the upload took {duration:.1f}s, so storage was not slow"
    assert len(latencies) > 20
    # A blocked event loop would hold health checks for a whole throttled S3 call (seconds). The test client
    # shares the loop and the machine's two cores with the suite, so one outlier is allowed up to 0.5 s.
    latencies.sort()
    percentile_95 = latencies[int(len(latencies) * 0.95)]
    assert percentile_95 < 0.1, f"95th percentile of /healthz was {percentile_95 * 1000:.0f} ms"
    assert latencies[-1] < 0.5, f"slowest /healthz took {latencies[-1] * 1000:.0f} ms"


# Size


@pytest.mark.large
async def test_200_mb_upload_downloads_with_same_sha256(suite, http, test_settings, fake_applications):
    size = 200 * 1000 * 1000
    settings = FilesSettings(**files_settings_for(test_settings, fake_applications).model_dump(),
                             files_max_bytes={"publications": 256 * MIB}, files_sweep_interval=0)
    runner = await start_files_service(settings)
    try:
        portal = Portal(http, {"identity": test_settings.identity_url, "files": settings.files_url})
        applicant, application_id = await new_application(portal, fake_applications)
        boundary, preamble, epilogue = multipart_parts(application_id, "publications", "论文合集.pdf", "entry-a")
        sent = hashlib.sha256()

        async def body():
            yield preamble
            for chunk in pdf_like_chunks(size):
                sent.update(chunk)
                yield chunk
            yield epilogue

        async with http.post(f"{settings.files_url}/files", data=body(),
                             headers=upload_headers(applicant.portal, boundary)) as response:
            uploaded = await response.json(content_type=None)
            assert response.status == 201, uploaded
        received, received_size = hashlib.sha256(), 0
        async with http.get(f"{settings.files_url}/files/{uploaded['file_id']}/content",
                            headers={"Authorization": f"Bearer {applicant.portal.token}"}) as response:
            assert response.status == 200
            async for chunk in response.content.iter_chunked(MIB):
                received.update(chunk)
                received_size += len(chunk)
        # Deleting the file frees the moto server's memory for the rest of the run.
        await applicant.portal.delete("files", f"/files/{uploaded['file_id']}", expect=204)
    finally:
        await runner.cleanup()

    assert uploaded["size"] == size
    assert uploaded["sha256"] == sent.hexdigest()
    assert received_size == size
    assert received.hexdigest() == sent.hexdigest()
