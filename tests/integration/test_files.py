"""The files service against the real PostgreSQL, RabbitMQ and S3 server.

The application service is replaced by a small fake HTTP server, so that each test decides whose an
application is and which of its modules may change. Identity is the real service from the `suite`
fixture. Submissions reach files as `application.submitted` envelopes that the tests publish.

The helpers here are shared by the other `test_files_*` modules.
"""

import asyncio
import hashlib
import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aio_pika
import aiohttp
import asyncpg
import boto3
import pytest
from aiohttp import web
from minio import Minio
from multidict import CIMultiDict
from PIL import Image

from services.common.bus import Bus
from services.common.events import Event
from services.common.settings import Settings
from services.files.app import create_app
from tests.conftest import eventually, free_port
from tests.support import Portal, new_person, new_unit

FIXTURES = Path(__file__).parent.parent / "fixtures"
MIB = 1024 * 1024
ALL_MODULES = ["basic_info", "education", "continuing_education", "publications", "work_experience",
               "part_time_posts", "enterprise_performance", "achievements", "honors", "awards", "materials"]
ENTRY_MODULES = ["continuing_education", "publications", "part_time_posts", "enterprise_performance", "honors",
                 "awards"]
# Entry ids the fake application service reports as saved in every entry module.
SAVED_ENTRIES = ["entry-a", "entry-b"]


# The fake application service and the files service under test


@dataclass
class FakeApplications:
    """Fake of the application service's `GET /applications/{id}`, for the ids registered here."""

    url: str = ""
    applications: dict[str, dict[str, Any]] = field(default_factory=dict)
    unauthenticated_calls: int = 0

    def register(self, person_id: str, uscc: str) -> str:
        application_id = str(uuid.uuid4())
        self.applications[application_id] = {"id": application_id, "person_id": person_id, "uscc": uscc,
                                              "status": "draft", "editable": True,
                                              "editable_modules": list(ALL_MODULES),
                                              "modules": {module: {"content": [{"entry_id": entry_id}
                                                                               for entry_id in SAVED_ENTRIES]}
                                                          for module in ENTRY_MODULES}}
        return application_id

    def lock(self, application_id: str) -> None:
        self.applications[application_id].update(status="submitted", editable=False, editable_modules=[])

    def return_for(self, application_id: str, modules: list[str]) -> None:
        self.applications[application_id].update(status="returned", editable=True, editable_modules=modules)

    async def get_application(self, request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            self.unauthenticated_calls += 1
            return web.json_response({"code": "auth.required"}, status=401)
        application = self.applications.get(request.match_info["application_id"])
        if application is None:
            return web.json_response({"code": "not_found"}, status=404)
        return web.json_response(application)


@pytest.fixture(scope="module")
async def fake_applications():
    fake = FakeApplications()
    app = web.Application()
    app.router.add_get("/applications/{application_id}", fake.get_application)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.url = f"http://127.0.0.1:{port}"
    yield fake
    await runner.cleanup()


async def start_files_service(settings: Settings) -> web.AppRunner:
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.files_port).start()
    return runner


def files_settings_for(test_settings: Settings, fake: FakeApplications, **update: Any) -> Settings:
    port = free_port()
    return test_settings.model_copy(update={"application_url": fake.url, "files_port": port,
                                            "files_url": f"http://127.0.0.1:{port}", **update})


@pytest.fixture(scope="module")
async def files_settings(suite, test_settings, fake_applications):
    settings = files_settings_for(test_settings, fake_applications)
    runner = await start_files_service(settings)
    yield settings
    await runner.cleanup()


@pytest.fixture(scope="module")
async def database(test_settings):
    pool = await asyncpg.create_pool(test_settings.database_url, min_size=1, max_size=2)
    yield pool
    await pool.close()


@pytest.fixture(scope="module")
async def bus(test_settings):
    bus = Bus(test_settings)
    await bus.connect()
    yield bus
    await bus.close()


@pytest.fixture
def portal(http, test_settings, files_settings) -> Portal:
    return Portal(http, {"identity": test_settings.identity_url, "files": files_settings.files_url})


# People


@dataclass
class Applicant:
    portal: Portal
    user_id: str


async def sign_up_applicant(portal: Portal) -> Applicant:
    person = new_person()
    user_id = await portal.register_person(person)
    signed_in = await portal.login(person["mobile"], person["password"])
    return Applicant(signed_in, user_id)


async def sign_up_unit_reviewer(portal: Portal) -> tuple[Portal, str]:
    unit = new_unit()
    await portal.register_unit(unit)
    return await portal.login(unit["uscc"], unit["password"]), unit["uscc"]


async def sign_up_department_reviewer(portal: Portal, settings: Settings) -> Portal:
    admin = await portal.login(settings.admin_account, settings.admin_password)
    account, password = f"reviewer{uuid.uuid4().hex[:8]}", "Review#2026dept"
    await admin.post("identity", "/staff", {"account": account, "name": "赵审核", "role": "department_reviewer",
                                            "password": password}, expect=201)
    return await portal.login(account, password)


# Submissions, as the application service announces them


async def submit(bus: Bus, database: asyncpg.Pool, application_id: str, person_id: str, uscc: str,
                 event_type: str = "application.submitted", submitted_at: datetime | None = None) -> None:
    """Publish a submission and wait until the files service has recorded its unit."""
    submitted_at = submitted_at or datetime.now(UTC)
    data = {"application_id": application_id, "call_id": str(uuid.uuid4()), "person_id": person_id,
            "person_name": "李晓明", "id_number_masked": "220104********0316", "uscc": uscc,
            "unit_name": "长春新材料科技有限公司", "talent_class": "D", "level": 2, "snapshot_version": 1,
            "snapshot": {"version": 1, "modules": {}, "files": []}, "submitted_at": submitted_at.isoformat()}
    event = Event(source="/talent/application", type=event_type, subject=f"applications/{application_id}",
                  data=data)
    message = aio_pika.Message(event.model_dump_json().encode(), message_id=event.id,
                               content_type="application/cloudevents+json")
    await bus.exchange.publish(message, routing_key=event.type)

    async def applied():
        return await database.fetchval("SELECT count(*) FROM files.inbox WHERE event_id = $1", uuid.UUID(event.id))
    await eventually(applied)


# Requests


def upload_form(application_id: str, kind: str, data: bytes, file_name: str, entry_id: str | None = None,
                content_type: str = "application/octet-stream") -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("kind", kind)
    form.add_field("application_id", application_id)
    if entry_id is not None:
        form.add_field("entry_id", entry_id)
    form.add_field("file", data, filename=file_name, content_type=content_type)
    return form


async def upload(applicant: Applicant, application_id: str, kind: str, data: bytes, file_name: str,
                 expect: int = 201, **options: Any) -> Any:
    headers = options.pop("headers", None)
    form = upload_form(application_id, kind, data, file_name, **options)
    status, body = await applicant.portal.request("POST", "files", "/files", data=form, headers=headers)
    assert status == expect, body
    return body


async def download(portal: Portal, file_id: str, **params: str) -> tuple[int, bytes, CIMultiDict[str]]:
    url = portal.url("files", f"/files/{file_id}/content")
    headers = {"Authorization": f"Bearer {portal.token}"}
    async with portal.http.get(url, headers=headers, params=params) as response:
        return response.status, await response.read(), response.headers.copy()


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def variant(data: bytes, number: int) -> bytes:
    """Return another file of the same format: readers ignore bytes after a JPEG's or PDF's end."""
    return data + f"\n% copy {number}\n".encode()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def filename_star(header: str) -> str:
    match = re.search(r"filename\*=UTF-8''([^;]+)", header)
    assert match, header
    return unquote(match.group(1))


# Database and bucket


async def file_rows(database: asyncpg.Pool, application_id: str) -> list[asyncpg.Record]:
    return await database.fetch("SELECT * FROM files.files WHERE application_id = $1",
                                uuid.UUID(application_id))


def storage_client(settings: Settings) -> Minio:
    return Minio(urlsplit(settings.s3_endpoint).netloc, access_key=settings.s3_access_key,
                 secret_key=settings.s3_secret_key, region=settings.s3_region, secure=False)


async def stored_keys(settings: Settings, application_id: str) -> list[str]:
    def list_keys() -> list[str]:
        objects = storage_client(settings).list_objects(
            settings.s3_bucket, prefix=f"applications/{application_id}/", recursive=True)
        return [item.object_name for item in objects]
    return await asyncio.to_thread(list_keys)


async def open_multipart_uploads(settings: Settings, application_id: str) -> list[dict]:
    def list_uploads() -> list[dict]:
        s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint, region_name=settings.s3_region,
                          aws_access_key_id=settings.s3_access_key,
                          aws_secret_access_key=settings.s3_secret_key)
        answer = s3.list_multipart_uploads(Bucket=settings.s3_bucket,
                                           Prefix=f"applications/{application_id}/")
        return answer.get("Uploads", [])
    return await asyncio.to_thread(list_uploads)


# Rules


async def test_rules_state_every_kind(portal):
    body = await portal.as_user(None).get("files", "/rules")

    rules = {rule["code"]: rule for rule in body["kinds"]}
    assert set(rules) == {"photo", "id_card", "employment_contract", "diploma", "degree",
                          "introduction_agreement", "continuing_education", "part_time_posts",
                          "enterprise_performance", "honors", "awards", "publications"}
    assert rules["photo"] == {
        "code": "photo", "label": "个人照片", "label_en": "personal photo", "module": "basic_info",
        "module_label": "基本信息", "formats": ["JPEG", "PNG"], "content_types": ["image/jpeg", "image/png"],
        "max_bytes": 2 * MIB, "max_mib": 2.0, "min_count": 1, "max_count": 1, "count_scope": "application",
        "entry_required": False, "requirements": {
            "format": "JPEG、PNG（按文件内容识别）；不接受 HEIC 照片、设有打开密码的 PDF、空文件和双重扩展名的文件",
            "size": "每个文件不超过 2 MB（2097152 字节）", "count": "每份申报 1–1 个；同一文件不能重复上传",
            "content": None}}
    assert rules["id_card"]["formats"] == ["JPEG", "PNG", "PDF"]
    assert (rules["id_card"]["min_count"], rules["id_card"]["max_count"]) == (1, 2)
    assert rules["id_card"]["module"] == "materials"
    assert rules["employment_contract"]["max_bytes"] == 20 * MIB
    assert rules["publications"]["max_count"] == 20
    assert rules["publications"]["max_bytes"] == 50 * MIB
    assert rules["publications"]["requirements"]["count"] == "每条经历 1–20 个；同一文件不能重复上传"
    assert rules["honors"]["entry_required"] is True
    assert rules["honors"]["count_scope"] == "entry"
    assert rules["honors"]["module"] == "honors"
    assert rules["diploma"]["entry_required"] is False
    assert "企业内部单一出具的利润、缴税和用工人数等证明不作为有效佐证材料" in rules["enterprise_performance"][
        "requirements"]["content"]


async def test_rules_in_english(portal):
    english = Portal(portal.http, portal.bases, language="en")

    body = await english.get("files", "/rules")

    degree = next(rule for rule in body["kinds"] if rule["code"] == "degree")
    assert degree["module_label"] == "material attachments"
    assert degree["requirements"]["size"] == "at most 10 MiB (10485760 bytes) per file"
    assert degree["requirements"]["count"] == "1 to 2 files per application; the same file twice is rejected"
    assert "HEIC photos" in degree["requirements"]["format"]
    performance = next(rule for rule in body["kinds"] if rule["code"] == "enterprise_performance")
    assert "issued by the enterprise alone is not valid evidence" in performance["requirements"]["content"]


# Upload and download


async def test_uploaded_files_download_unchanged(portal, fake_applications, files_settings, database):
    applicant = await sign_up_applicant(portal)
    application_id = fake_applications.register(applicant.user_id, new_unit()["uscc"])
    photo, id_card = fixture_bytes("photo.jpg"), fixture_bytes("id_card.pdf")

    uploaded_photo = await upload(applicant, application_id, "photo", photo, "photo.jpg",
                                  content_type="image/jpeg")
    uploaded_pdf = await upload(applicant, application_id, "id_card", id_card, "id_card.pdf")

    assert uploaded_photo["kind"] == "photo"
    assert uploaded_photo["entry_id"] is None
    assert uploaded_photo["size"] == len(photo)
    assert uploaded_photo["sha256"] == hashlib.sha256(photo).hexdigest()
    assert uploaded_photo["content_type"] == "image/jpeg"
    assert re.match(r"^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)$", uploaded_photo["uploaded_at"])
    assert uploaded_pdf["content_type"] == "application/pdf"
    for uploaded, data in ((uploaded_photo, photo), (uploaded_pdf, id_card)):
        status, content, headers = await download(applicant.portal, uploaded["file_id"])
        assert status == 200
        assert content == data
        assert hashlib.sha256(content).hexdigest() == uploaded["sha256"]
        assert headers["Content-Type"] == uploaded["content_type"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Length"] == str(len(data))
        assert headers["ETag"] == f'"{uploaded["sha256"]}"'
        assert headers["Content-Disposition"].startswith("attachment;")

    metadata = await applicant.portal.get("files", f"/files/{uploaded_pdf['file_id']}")
    listed = await applicant.portal.get("files", "/files", params={"application_id": application_id})
    assert metadata == uploaded_pdf
    assert [item["file_id"] for item in listed["items"]] == [uploaded_photo["file_id"],
                                                             uploaded_pdf["file_id"]]
    keys = await stored_keys(files_settings, application_id)
    assert sorted(keys) == sorted(f"applications/{application_id}/{item['file_id']}"
                                  for item in listed["items"])
    reads = await database.fetch("SELECT user_id, access FROM files.file_reads WHERE application_id = $1",
                                 uuid.UUID(application_id))
    assert sorted(row["access"] for row in reads) == ["download", "download", "list", "list", "metadata"]
    assert {row["user_id"] for row in reads} == {applicant.user_id}


async def test_upload_and_delete_publish_events(portal, fake_applications, database):
    applicant = await sign_up_applicant(portal)
    application_id = fake_applications.register(applicant.user_id, new_unit()["uscc"])
    uploaded = await upload(applicant, application_id, "awards", fixture_bytes("degree.pdf"), "award.pdf",
                            entry_id="entry-a")

    await applicant.portal.delete("files", f"/files/{uploaded['file_id']}", expect=204)

    async def published():
        rows = await database.fetch(
            "SELECT type, envelope, published_at FROM files.outbox WHERE envelope->'data'->>'file_id' = $1"
            " ORDER BY created_at", uploaded["file_id"])
        return rows if len(rows) == 2 and all(row["published_at"] for row in rows) else None
    rows = await eventually(published)
    assert [row["type"] for row in rows] == ["file.uploaded", "file.deleted"]
    assert '"sha256": "' + uploaded["sha256"] in rows[0]["envelope"]
    assert '"entry_id": "entry-a"' in rows[1]["envelope"]


async def test_same_content_twice_in_slot_is_409(portal, fake_applications, database, files_settings):
    applicant = await sign_up_applicant(portal)
    application_id = fake_applications.register(applicant.user_id, new_unit()["uscc"])
    pdf = fixture_bytes("diploma.pdf")
    first = await upload(applicant, application_id, "diploma", pdf, "学历证.pdf")

    again = await upload(applicant, application_id, "diploma", pdf, "学历证 (1).pdf", expect=409)
    other_slot = await upload(applicant, application_id, "honors", pdf, "荣誉.pdf", entry_id="entry-a")
    await applicant.portal.delete("files", f"/files/{first['file_id']}", expect=204)
    after_delete = await upload(applicant, application_id, "diploma", pdf, "学历证.pdf")

    assert again["code"] == "files.duplicate_file"
    assert again["duplicate_of"] == first["file_id"]
    assert "学历证.pdf" in again["detail"]
    assert other_slot["sha256"] == first["sha256"]
    assert after_delete["sha256"] == first["sha256"]
    rows = await file_rows(database, application_id)
    assert sorted(str(row["id"]) for row in rows) == sorted([other_slot["file_id"], after_delete["file_id"]])
    assert len(await stored_keys(files_settings, application_id)) == 2


# Names


async def test_chinese_file_name_survives(portal, fake_applications):
    applicant = await sign_up_applicant(portal)
    application_id = fake_applications.register(applicant.user_id, new_unit()["uscc"])
    name = "身份证 正反面.pdf"

    uploaded = await upload(applicant, application_id, "id_card", fixture_bytes("id_card.pdf"), name)
    status, _, headers = await download(applicant.portal, uploaded["file_id"])
    _, _, preview_headers = await download(applicant.portal, uploaded["file_id"], disposition="inline")

    assert uploaded["file_name"] == name
    assert status == 200
    assert headers["Content-Disposition"].startswith('attachment; filename="id_card.pdf"')
    assert filename_star(headers["Content-Disposition"]) == name
    assert preview_headers["Content-Disposition"].startswith("inline;")
    assert filename_star(preview_headers["Content-Disposition"]) == name


def raw_upload_body(boundary: str, application_id: str, kind: str, filename_params: bytes, data: bytes) -> bytes:
    """A multipart body built by hand, so that the file name's bytes are exactly `filename_params`."""
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"application_id\"\r\n\r\n"
            f"{application_id}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; ").encode()
    body += filename_params + b"\r\nContent-Type: application/pdf\r\n\r\n"
    return body + data + f"\r\n--{boundary}--\r\n".encode()


@pytest.mark.parametrize(("filename_params", "expected"), [
    ('filename="学位证.pdf"'.encode(), "学位证.pdf"),  # browsers send UTF-8 as is
    (b"filename=\"x.pdf\"; filename*=UTF-8''%E5%AD%A6%E4%BD%8D%20%E8%AF%81%E4%B9%A6.pdf", "学位 证书.pdf"),
    # Some Windows clients send GB18030; these bytes are not valid UTF-8, so the service can detect them.
    ('filename="身份证.pdf"'.encode("gb18030"), "身份证.pdf"),
    ('filename="C:\\扫描件\\学位证%0D%0A.pdf"'.encode(), "学位证.pdf"),  # a path, CR/LF escaped
    ('filename="../../etc/学位证\t.pdf"'.encode(), "学位证.pdf"),  # a relative path, a raw tab
])
async def test_file_name_from_raw_header(portal, fake_applications, filename_params, expected):
    applicant = await sign_up_applicant(portal)
    application_id = fake_applications.register(applicant.user_id, new_unit()["uscc"])
    boundary = uuid.uuid4().hex
    body = raw_upload_body(boundary, application_id, "degree", filename_params, fixture_bytes("degree.pdf"))

    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    created = await applicant.portal.post("files", "/files", data=body, headers=headers, expect=201)
    _, _, download_headers = await download(applicant.portal, created["file_id"])

    assert created["file_name"] == expected
    assert filename_star(download_headers["Content-Disposition"]) == expected
    assert "\r" not in download_headers["Content-Disposition"]


async def test_png_named_jpg_is_stored_as_png(portal, fake_applications):
    applicant = await sign_up_applicant(portal)
    application_id = fake_applications.register(applicant.user_id, new_unit()["uscc"])
    png = png_bytes()

    uploaded = await upload(applicant, application_id, "photo", png, "photo.jpg", content_type="image/jpeg")
    status, content, headers = await download(applicant.portal, uploaded["file_id"])

    assert uploaded["content_type"] == "image/png"
    assert uploaded["file_name"] == "photo.jpg"
    assert status == 200
    assert content == png
    assert headers["Content-Type"] == "image/png"


# Counts and form fields


async def test_count_limit_per_application_and_entry(portal, fake_applications, database):
    applicant = await sign_up_applicant(portal)
    application_id = fake_applications.register(applicant.user_id, new_unit()["uscc"])
    pdf, photo = fixture_bytes("employment_contract.pdf"), fixture_bytes("photo.jpg")

    await upload(applicant, application_id, "photo", photo, "1.jpg")
    second_photo = await upload(applicant, application_id, "photo", variant(photo, 2), "2.jpg", expect=409)
    for number in range(3):
        await upload(applicant, application_id, "honors", variant(pdf, number), f"{number}.pdf", entry_id="entry-a")
    fourth = await upload(applicant, application_id, "honors", variant(pdf, 3), "3.pdf", entry_id="entry-a",
                          expect=409)
    other_entry = await upload(applicant, application_id, "honors", pdf, "b.pdf", entry_id="entry-b")

    assert second_photo["code"] == "files.too_many"
    assert "最多上传 1 个" in second_photo["detail"]
    assert fourth["code"] == "files.too_many"
    assert "最多上传 3 个附件，已上传 3 个" in fourth["detail"]
    assert other_entry["entry_id"] == "entry-b"
    assert len(await file_rows(database, application_id)) == 1 + 3 + 1


@pytest.mark.parametrize(("kind", "limit"), [("part_time_posts", 3), ("enterprise_performance", 3),
                                             ("awards", 3), ("continuing_education", 3), ("publications", 20)])
async def test_entry_limit_of_each_kind(portal, fake_applications, kind, limit):
    applicant = await sign_up_applicant(portal)
    application_id = fake_applications.register(applicant.user_id, new_unit()["uscc"])
    pdf = fixture_bytes("employment_contract.pdf")

    for number in range(limit):
        await upload(applicant, application_id, kind, variant(pdf, number), f"{number}.pdf", entry_id="entry-a")
    over = await upload(applicant, application_id, kind, variant(pdf, limit), "over.pdf", entry_id="entry-a",
                        expect=409)

    assert over["code"] == "files.too_many"
    assert f"最多上传 {limit} 个附件，已上传 {limit} 个" in over["detail"]


async def test_upload_to_unsaved_entry_refused(portal, fake_applications, database):
    applicant = await sign_up_applicant(portal)
    application_id = fake_applications.register(applicant.user_id, new_unit()["uscc"])
    pdf = fixture_bytes("degree.pdf")

    problem = await upload(applicant, application_id, "honors", pdf, "荣誉.pdf", entry_id="never-saved",
                           expect=422)
    english = await upload(applicant, application_id, "honors", pdf, "荣誉.pdf", entry_id="never-saved",
                           expect=422, headers={"Accept-Language": "en"})
    saved = await upload(applicant, application_id, "honors", pdf, "荣誉.pdf", entry_id="entry-b")

    assert problem["errors"] == [{"field": "entry_id", "code": "files.entry_not_found",
                                  "message": "该条经历不存在或尚未保存，请先保存该条经历，再上传它的附件"}]
    assert "save the entry first" in english["errors"][0]["message"]
    assert saved["entry_id"] == "entry-b"
    assert len(await file_rows(database, application_id)) == 1


async def test_concurrent_uploads_respect_count_limit(portal, fake_applications, database, files_settings):
    applicant = await sign_up_applicant(portal)
    application_id = fake_applications.register(applicant.user_id, new_unit()["uscc"])
    pdf = fixture_bytes("id_card.pdf")

    forms = [upload_form(application_id, "id_card", variant(pdf, number), f"{number}.pdf") for number in range(5)]
    statuses = await asyncio.gather(*(applicant.portal.request("POST", "files", "/files", data=form)
                                      for form in forms))

    assert sorted(status for status, _ in statuses) == [201, 201, 409, 409, 409]
    assert len(await file_rows(database, application_id)) == 2
    assert len(await stored_keys(files_settings, application_id)) == 2


async def test_entry_id_required_only_for_entry_kinds(portal, fake_applications):
    applicant = await sign_up_applicant(portal)
    application_id = fake_applications.register(applicant.user_id, new_unit()["uscc"])
    pdf = fixture_bytes("degree.pdf")

    missing = await upload(applicant, application_id, "publications", pdf, "paper.pdf", expect=422)
    extra = await upload(applicant, application_id, "degree", pdf, "degree.pdf", entry_id="e1", expect=422)
    unknown_kind = await upload(applicant, application_id, "passport", pdf, "p.pdf", expect=422)

    assert missing["errors"][0] == {"field": "entry_id", "code": "files.entry_required",
                                    "message": "该类附件须指明所属经历（entry_id）"}
    assert extra["errors"][0]["code"] == "files.entry_not_allowed"
    assert unknown_kind["errors"][0]["field"] == "kind"


async def test_fields_after_file_part_are_rejected(portal, fake_applications):
    applicant = await sign_up_applicant(portal)
    application_id = fake_applications.register(applicant.user_id, new_unit()["uscc"])
    form = aiohttp.FormData()
    form.add_field("kind", "degree")
    form.add_field("file", fixture_bytes("degree.pdf"), filename="degree.pdf")
    form.add_field("application_id", application_id)

    status, problem = await applicant.portal.request("POST", "files", "/files", data=form)
    _, not_multipart = await applicant.portal.request("POST", "files", "/files", json={"kind": "degree"})

    assert status == 422
    assert problem["errors"] == [{"field": "application_id", "code": "files.field_before_file",
                                  "message": "必填项，且须在 file 部分之前发送"}]
    assert not_multipart["code"] == "files.multipart_required"


async def test_idempotent_retry_returns_first_upload(portal, fake_applications, database):
    applicant = await sign_up_applicant(portal)
    application_id = fake_applications.register(applicant.user_id, new_unit()["uscc"])
    pdf = fixture_bytes("diploma.pdf")
    key = {"Idempotency-Key": uuid.uuid4().hex}

    first = await upload(applicant, application_id, "diploma", pdf, "diploma.pdf", headers=key)
    retried = await upload(applicant, application_id, "diploma", pdf, "diploma.pdf", headers=key)
    reused = await upload(applicant, application_id, "diploma", pdf, "other.pdf", headers=key, expect=422)

    assert retried == first
    assert reused["code"] == "idempotency.conflict"
    assert len(await file_rows(database, application_id)) == 1


async def test_concurrent_retries_return_one_upload(portal, fake_applications, database):
    applicant, pdf = await sign_up_applicant(portal), fixture_bytes("degree.pdf")
    application_id = fake_applications.register(applicant.user_id, new_unit()["uscc"])
    key = {"Idempotency-Key": uuid.uuid4().hex}

    answers = await asyncio.gather(*(
        applicant.portal.request("POST", "files", "/files", headers=key,
                                 data=upload_form(application_id, "degree", pdf, "学位证.pdf"))
        for _ in range(3)))

    assert [status for status, _ in answers] == [201, 201, 201]
    assert answers[0][1] == answers[1][1] == answers[2][1]
    assert len(await file_rows(database, application_id)) == 1


# Who may change a slot


async def test_delete_only_while_editable(portal, fake_applications, database, files_settings):
    applicant = await sign_up_applicant(portal)
    application_id = fake_applications.register(applicant.user_id, new_unit()["uscc"])
    kept_file = await upload(applicant, application_id, "id_card", fixture_bytes("id_card.pdf"), "front.pdf")
    removed_file = await upload(applicant, application_id, "id_card", variant(fixture_bytes("id_card.pdf"), 1),
                                "back.pdf")

    await applicant.portal.delete("files", f"/files/{removed_file['file_id']}", expect=204)
    fake_applications.lock(application_id)
    status, problem = await applicant.portal.request("DELETE", "files", f"/files/{kept_file['file_id']}")
    form = upload_form(application_id, "degree", fixture_bytes("degree.pdf"), "d.pdf")
    upload_status, _ = await applicant.portal.request("POST", "files", "/files", data=form)

    assert status == 409
    assert problem["code"] == "files.slot_locked"
    assert problem["module"] == "materials"
    assert upload_status == 409
    assert [str(row["id"]) for row in await file_rows(database, application_id)] == [kept_file["file_id"]]
    assert await stored_keys(files_settings, application_id) == [
        f"applications/{application_id}/{kept_file['file_id']}"]
    status_after_delete, _, _ = await download(applicant.portal, removed_file["file_id"])
    assert status_after_delete == 404


async def test_returned_application_opens_ticked_modules_only(portal, fake_applications, database):
    applicant = await sign_up_applicant(portal)
    application_id = fake_applications.register(applicant.user_id, new_unit()["uscc"])
    photo = await upload(applicant, application_id, "photo", fixture_bytes("photo.jpg"), "photo.jpg")
    honor = await upload(applicant, application_id, "honors", fixture_bytes("degree.pdf"), "h.pdf", entry_id="entry-a")
    fake_applications.lock(application_id)

    fake_applications.return_for(application_id, ["materials", "honors"])
    locked_delete, locked = await applicant.portal.request("DELETE", "files", f"/files/{photo['file_id']}")
    locked_upload = await upload(applicant, application_id, "photo", png_bytes(), "new.png", expect=409)
    material = await upload(applicant, application_id, "degree", fixture_bytes("degree.pdf"), "degree.pdf")
    await applicant.portal.delete("files", f"/files/{honor['file_id']}", expect=204)
    english = Portal(applicant.portal.http, applicant.portal.bases, applicant.portal.token, language="en")
    _, locked_in_english = await english.request("DELETE", "files", f"/files/{photo['file_id']}")

    assert locked_delete == 409
    assert locked["code"] == "files.slot_locked"
    assert locked["module"] == "basic_info"
    assert "“个人照片”属于“基本信息”" in locked["detail"]
    assert "personal photo belongs to basic information" in locked_in_english["detail"]
    assert locked_upload["code"] == "files.slot_locked"
    assert material["kind"] == "degree"
    rows = await file_rows(database, application_id)
    assert sorted(str(row["id"]) for row in rows) == sorted([photo["file_id"], material["file_id"]])


# Who may read


async def test_other_applicant_gets_404(portal, fake_applications):
    owner = await sign_up_applicant(portal)
    stranger = await sign_up_applicant(portal)
    application_id = fake_applications.register(owner.user_id, new_unit()["uscc"])
    empty_application_id = fake_applications.register(owner.user_id, new_unit()["uscc"])
    uploaded = await upload(owner, application_id, "id_card", fixture_bytes("id_card.pdf"), "id.pdf")
    file_id = uploaded["file_id"]

    answers = [
        await stranger.portal.request("GET", "files", "/files", params={"application_id": application_id}),
        await stranger.portal.request("GET", "files", "/files",
                                      params={"application_id": empty_application_id}),
        await stranger.portal.request("GET", "files", f"/files/{file_id}"),
        await stranger.portal.request("GET", "files", f"/files/{file_id}/content"),
        await stranger.portal.request("DELETE", "files", f"/files/{file_id}"),
        await stranger.portal.request("GET", "files", f"/files/{file_id}/reads"),
        await stranger.portal.request("GET", "files", "/reads", params={"application_id": application_id}),
    ]
    upload_into = await upload(stranger, application_id, "photo", fixture_bytes("photo.jpg"), "p.jpg",
                               expect=404)

    assert [status for status, _ in answers] == [404] * 7
    assert answers[2][1]["code"] == "files.file_not_found"
    assert upload_into["code"] == "files.application_not_found"
    assert await owner.portal.get("files", f"/files/{file_id}") == uploaded


async def test_unknown_application_is_404(portal, fake_applications):
    applicant = await sign_up_applicant(portal)

    problem = await upload(applicant, str(uuid.uuid4()), "photo", fixture_bytes("photo.jpg"), "p.jpg",
                           expect=404)
    status, _ = await applicant.portal.request("GET", "files", f"/files/{uuid.uuid4()}")

    assert problem["code"] == "files.application_not_found"
    assert status == 404
    assert fake_applications.unauthenticated_calls == 0


async def test_unit_reviewer_reads_once_submitted_through_unit(portal, fake_applications, bus, database):
    applicant = await sign_up_applicant(portal)
    reviewer, uscc = await sign_up_unit_reviewer(portal)
    other_reviewer, _ = await sign_up_unit_reviewer(portal)
    application_id = fake_applications.register(applicant.user_id, uscc)
    empty_application_id = fake_applications.register(applicant.user_id, uscc)
    uploaded = await upload(applicant, application_id, "employment_contract",
                            fixture_bytes("employment_contract.pdf"), "聘用合同.pdf")
    file_id = uploaded["file_id"]
    before_submission, _ = await reviewer.request("GET", "files", f"/files/{file_id}")

    await submit(bus, database, application_id, applicant.user_id, uscc)
    await submit(bus, database, empty_application_id, applicant.user_id, uscc)
    listed = await reviewer.get("files", "/files", params={"application_id": application_id})
    empty = await reviewer.get("files", "/files", params={"application_id": empty_application_id})
    metadata = await reviewer.get("files", f"/files/{file_id}")
    status, content, _ = await download(reviewer, file_id, disposition="inline")
    other_unit = [
        await other_reviewer.request("GET", "files", "/files", params={"application_id": application_id}),
        await other_reviewer.request("GET", "files", "/files", params={"application_id": empty_application_id}),
        await other_reviewer.request("GET", "files", f"/files/{file_id}"),
        await other_reviewer.request("GET", "files", f"/files/{file_id}/content"),
    ]
    delete_status, _ = await reviewer.request("DELETE", "files", f"/files/{file_id}")
    reads_status, _ = await reviewer.request("GET", "files", "/reads", params={"application_id": application_id})

    assert before_submission == 404
    assert [item["file_id"] for item in listed["items"]] == [file_id]
    assert empty["items"] == []
    assert metadata == uploaded
    assert status == 200
    assert content == fixture_bytes("employment_contract.pdf")
    assert [answer[0] for answer in other_unit] == [404, 404, 404, 404]
    assert delete_status == 403
    assert reads_status == 403


async def test_department_reviewer_reads_submitted_only(portal, fake_applications, test_settings, bus,
                                                        database):
    applicant = await sign_up_applicant(portal)
    uscc = new_unit()["uscc"]
    application_id = fake_applications.register(applicant.user_id, uscc)
    uploaded = await upload(applicant, application_id, "diploma", fixture_bytes("diploma.pdf"), "学历证.pdf")
    department = await sign_up_department_reviewer(portal, test_settings)
    admin = await portal.login(test_settings.admin_account, test_settings.admin_password)
    draft_status, _ = await department.request("GET", "files", f"/files/{uploaded['file_id']}")

    await submit(bus, database, application_id, applicant.user_id, uscc)
    listed = await department.get("files", "/files", params={"application_id": application_id})
    status, content, _ = await download(department, uploaded["file_id"])
    admin_status, _ = await admin.request("GET", "files", f"/files/{uploaded['file_id']}")

    assert draft_status == 404
    assert [item["file_id"] for item in listed["items"]] == [uploaded["file_id"]]
    assert status == 200
    assert content == fixture_bytes("diploma.pdf")
    assert admin_status == 404


async def test_submission_keeps_newest_unit(portal, fake_applications, bus, database):
    applicant = await sign_up_applicant(portal)
    first_reviewer, first_uscc = await sign_up_unit_reviewer(portal)
    second_reviewer, second_uscc = await sign_up_unit_reviewer(portal)
    application_id = fake_applications.register(applicant.user_id, first_uscc)
    uploaded = await upload(applicant, application_id, "degree", fixture_bytes("degree.pdf"), "d.pdf")
    now = datetime.now(UTC)

    await submit(bus, database, application_id, applicant.user_id, second_uscc, "application.resubmitted", now)
    await submit(bus, database, application_id, applicant.user_id, first_uscc, submitted_at=now - timedelta(days=1))

    first_status, _ = await first_reviewer.request("GET", "files", f"/files/{uploaded['file_id']}")
    second_status, _ = await second_reviewer.request("GET", "files", f"/files/{uploaded['file_id']}")
    assert (first_status, second_status) == (404, 200)


async def test_applicant_sees_who_read_their_files(portal, fake_applications, bus, database):
    applicant = await sign_up_applicant(portal)
    reviewer, uscc = await sign_up_unit_reviewer(portal)
    application_id = fake_applications.register(applicant.user_id, uscc)
    kept = await upload(applicant, application_id, "degree", fixture_bytes("degree.pdf"), "学位证.pdf")
    deleted = await upload(applicant, application_id, "diploma", fixture_bytes("diploma.pdf"), "学历证.pdf")
    await submit(bus, database, application_id, applicant.user_id, uscc)

    await reviewer.get("files", "/files", params={"application_id": application_id})
    await reviewer.get("files", f"/files/{kept['file_id']}")
    await download(reviewer, kept["file_id"], disposition="inline")
    await download(reviewer, deleted["file_id"])
    await applicant.portal.get("files", f"/files/{kept['file_id']}")
    fake_applications.return_for(application_id, ["materials"])
    await applicant.portal.delete("files", f"/files/{deleted['file_id']}", expect=204)
    reads = await applicant.portal.get("files", "/reads", params={"application_id": application_id})
    with_own = await applicant.portal.get("files", "/reads",
                                          params={"application_id": application_id, "include_own": "true"})
    one_file = await applicant.portal.get("files", f"/files/{kept['file_id']}/reads")

    newest_first = [(read["file_name"], read["access"]) for read in reads["items"]]
    assert newest_first == [("学历证.pdf", "download"), ("学位证.pdf", "preview"), ("学位证.pdf", "metadata"),
                            ("学历证.pdf", "list"), ("学位证.pdf", "list")]
    first = reads["items"][0]
    assert (first["reader_role"], first["reader_unit_uscc"], first["kind"]) == ("unit_reviewer", uscc, "diploma")
    assert first["reader_name"]
    assert re.match(r"^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)$", first["read_at"])
    assert len(with_own["items"]) == len(reads["items"]) + 1
    assert with_own["items"][0]["reader_id"] == applicant.user_id
    assert [read["access"] for read in one_file["items"]] == ["preview", "metadata", "list"]
