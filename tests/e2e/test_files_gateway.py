"""Attachments through the gateway, with every process started by the launcher: Chinese file names in
each encoding a client uses, a client that disconnects mid-upload, and a size limit passed mid-stream.

The draft application comes from the real application service, after the applicant has bound a
unit; its `editable_modules` decide which upload slots are open.
"""

import asyncio
import re
import uuid
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import aiohttp
import asyncpg
import boto3
import pytest

from deploy.demo import bound_fixture_pair, wait_for
from tests.conftest import eventually
from tests.e2e.conftest import ADMIN_PASSWORD
from tests.support import Portal

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MIB = 1024 * 1024
ALL_MODULES = ["basic_info", "education", "continuing_education", "publications", "work_experience",
               "part_time_posts", "enterprise_performance", "achievements", "honors", "awards", "materials"]


@pytest.fixture(scope="module")
async def http():
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


@pytest.fixture(scope="module")
async def draft(launched, http) -> dict:
    """An applicant bound to a unit with a draft application, as the demo's first steps make them."""
    portal = Portal.through_gateway(http, launched["gateway"])
    admin = await portal.login("admin", ADMIN_PASSWORD)
    call = await admin.post("application", "/calls", {
        "title": "附件测试申报通知", "body": "附件上传测试。", "classes": ["A", "B", "C", "D", "E"],
        "opens_at": "2020-01-01T00:00:00+08:00", "closes_at": "2099-01-01T00:00:00+08:00"}, expect=201)
    await admin.post("application", f"/calls/{call['call_id']}/publish", expect=200)
    pair = await bound_fixture_pair(portal)
    person, person_data = pair.person, pair.person_data

    async def eligible():
        answer = await person.get("application", "/eligibility", params={"call_id": call["call_id"]})
        return answer["eligible"]
    await wait_for(eligible, "every eligibility condition to pass")
    application = await person.post("application", "/applications", {"call_id": call["call_id"]}, expect=201)
    base = f"/applications/{application['application_id']}/modules"
    papers = await person.put("application", f"{base}/publications", person_data["application"]["publications"])
    honors = await person.put("application", f"{base}/honors", person_data["application"]["honors"])
    return {"person": person, "application_id": application["application_id"],
            "paper": papers["content"][0]["entry_id"], "honor": honors["content"][0]["entry_id"]}


@pytest.fixture(scope="module")
def storage(launched) -> dict:
    """The launcher's S3 server and bucket, read from its log and environment."""
    found = re.search(r"listens on 127\.0\.0\.1:(\d+)", launched["log"].read_text(errors="replace"))
    assert found, "the launcher did not log its S3 server's port"
    return {"endpoint": f"http://127.0.0.1:{found.group(1)}", "bucket": launched["ports"]["TALENT_S3_BUCKET"]}


def s3_client(storage: dict):
    return boto3.client("s3", endpoint_url=storage["endpoint"], region_name="cn-north-1",
                        aws_access_key_id="talent-dev", aws_secret_access_key="talent-dev-secret")


async def leftovers(launched, storage: dict, application_id: str) -> tuple[list[str], list]:
    """Return an application's objects that have no metadata row, and its incomplete multipart uploads."""
    def listing():
        s3 = s3_client(storage)
        prefix = f"applications/{application_id}/"
        objects = s3.list_objects_v2(Bucket=storage["bucket"], Prefix=prefix).get("Contents", [])
        uploads = s3.list_multipart_uploads(Bucket=storage["bucket"], Prefix=prefix).get("Uploads", [])
        return [item["Key"] for item in objects], uploads
    keys, uploads = await asyncio.to_thread(listing)
    connection = await asyncpg.connect(launched["ports"]["TALENT_DATABASE_URL"])
    try:
        rows = await connection.fetch("SELECT object_key FROM files.files WHERE application_id = $1",
                                      uuid.UUID(application_id))
    finally:
        await connection.close()
    return sorted(set(keys) - {row["object_key"] for row in rows}), uploads


async def file_names(person: Portal, application_id: str) -> list[str]:
    listed = await person.get("files", "/files", params={"application_id": application_id})
    return [item["file_name"] for item in listed["items"]]


def multipart(application_id: str, kind: str, entry_id: str, filename_params: bytes) -> tuple[str, bytes, bytes]:
    """Return (boundary, bytes before the file's content, bytes after it), with the file name's bytes as given."""
    boundary = uuid.uuid4().hex
    preamble = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                       for name, value in (("kind", kind), ("application_id", application_id),
                                           ("entry_id", entry_id))).encode()
    preamble += f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; ".encode() + filename_params
    preamble += b"\r\nContent-Type: application/octet-stream\r\n\r\n"
    return boundary, preamble, f"\r\n--{boundary}--\r\n".encode()


def pdf_like(size: int) -> bytes:
    return (b"%PDF-1.7\n" + bytes(range(256)) * (size // 256 + 1))[:size]


def headers_for(person: Portal, boundary: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {person.token}", "Content-Type": f"multipart/form-data; boundary={boundary}"}


async def test_draft_opens_every_module(draft):
    detail = await draft["person"].get("application", f"/applications/{draft['application_id']}")

    assert detail["editable"] is True
    assert detail["editable_modules"] == ALL_MODULES


NAME = "论文集（第一卷）张三 2024；终稿.pdf"


@pytest.mark.parametrize(("encoding", "filename_params"), [
    ("raw UTF-8", f'filename="{NAME}"'.encode()),
    ("percent-encoded", f'filename="{quote(NAME)}"'.encode()),
    ("RFC 2231", f"filename=\"paper.pdf\"; filename*=UTF-8''{quote(NAME)}".encode()),
])
async def test_chinese_name_survives_through_gateway(draft, http, encoding, filename_params):
    person, application_id = draft["person"], draft["application_id"]
    data = (FIXTURES / "degree.pdf").read_bytes() + f"\n% {encoding}\n".encode()
    boundary, preamble, epilogue = multipart(application_id, "publications", draft["paper"],
                                             filename_params)

    uploaded = await person.post("files", "/files", data=preamble + data + epilogue,
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}, expect=201)
    metadata = await person.get("files", f"/files/{uploaded['file_id']}")
    async with http.get(person.url("files", f"/files/{uploaded['file_id']}/content"),
                        headers={"Authorization": f"Bearer {person.token}"}) as response:
        content, headers = await response.read(), response.headers

    assert uploaded["file_name"] == NAME
    assert metadata["file_name"] == NAME
    assert content == data
    assert headers["Content-Type"] == "application/pdf"
    assert headers["X-Content-Type-Options"] == "nosniff"
    disposition = headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="publications.pdf"; ')
    assert unquote(re.search(r"filename\*=UTF-8''([^;]+)", disposition).group(1)) == NAME


async def test_client_disconnect_through_gateway_leaves_nothing(launched, draft, storage):
    person, application_id = draft["person"], draft["application_id"]
    boundary, preamble, epilogue = multipart(application_id, "publications", draft["paper"], b'filename="gone.pdf"')
    gateway = urlsplit(launched["gateway"])
    declared = len(preamble) + 20 * MIB + len(epilogue)
    head = (f"POST /api/v1/files/files HTTP/1.1\r\nHost: {gateway.netloc}\r\nContent-Length: {declared}\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in headers_for(person, boundary).items())
            + "\r\n").encode()

    reader, writer = await asyncio.open_connection(gateway.hostname, gateway.port)
    writer.write(head + preamble)
    body = pdf_like(8 * MIB)
    for start in range(0, len(body), 256 * 1024):
        writer.write(body[start:start + 256 * 1024])
        await writer.drain()

    async def multipart_started():
        return (await leftovers(launched, storage, application_id))[1]
    await eventually(multipart_started, timeout=20)
    writer.transport.abort()

    async def nothing_left():
        return await leftovers(launched, storage, application_id) == ([], [])
    await eventually(nothing_left, timeout=20)
    assert "gone.pdf" not in await file_names(person, application_id)


async def test_kind_limit_through_gateway_is_413_at_once(launched, draft, storage, http):
    person, application_id = draft["person"], draft["application_id"]
    boundary, preamble, epilogue = multipart(application_id, "honors", draft["honor"], b'filename="big.pdf"')
    limit = 20 * MIB
    answered = asyncio.Event()

    async def body():
        yield preamble
        chunk = pdf_like(256 * 1024)
        for number in range(160):
            if number * len(chunk) > limit + MIB:
                # Only a response that arrives before the body ends lets the rest go.
                await asyncio.wait_for(answered.wait(), timeout=15)
            yield chunk
        yield epilogue

    async with http.post(person.url("files", "/files"), data=body(), headers=headers_for(person, boundary)) as response:
        answered.set()
        status, problem = response.status, await response.json(content_type=None)

    assert status == 413
    assert problem["code"] == "files.too_large"
    assert problem["instance"] == "/api/v1/files/files"

    async def nothing_left():
        return await leftovers(launched, storage, application_id) == ([], [])
    await eventually(nothing_left, timeout=20)
    assert "big.pdf" not in await file_names(person, application_id)
