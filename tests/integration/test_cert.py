"""The cert service against real PostgreSQL, RabbitMQ and the S3 server, with identity for sign-in.

Results arrive as `review.result_recorded` envelopes that the tests publish themselves.
"""

import hashlib
import json
import re
import uuid
from datetime import UTC, datetime
from io import BytesIO
from urllib.parse import quote
from zoneinfo import ZoneInfo

import aio_pika
import asyncpg
import pytest
from pypdf import PdfReader

from services.common.bus import Bus
from services.common.events import Event
from services.common.settings import SERVICE_PORTS
from services.common.validators import is_valid_certificate_identifier
from tests.conftest import eventually
from tests.support import Portal, new_person

HOLDER_NAME = "张伟明"


@pytest.fixture(scope="module")
async def portal(suite, http, test_settings) -> Portal:
    return Portal(http, {name: test_settings.service_url(name) for name in SERVICE_PORTS})


@pytest.fixture(scope="module")
async def bus(test_settings):
    bus = Bus(test_settings)
    await bus.connect()
    yield bus
    await bus.close()


@pytest.fixture(scope="module")
async def issued_events(bus):
    """A temporary queue receiving every `cert.issued` event published while this module runs."""
    channel = await bus.connection.channel()
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(bus.exchange, routing_key="cert.issued")
    yield queue
    await channel.close()


@pytest.fixture
async def database(test_settings):
    connection = await asyncpg.connect(test_settings.database_url)
    yield connection
    await connection.close()


async def signed_in_person(portal: Portal, **overrides) -> tuple[Portal, str]:
    person = new_person(**overrides)
    user_id = await portal.register_person(person)
    return await portal.login(person["mobile"], person["password"]), user_id


def result_recorded(person_id: str, *, result: str = "approved", passing: bool = True,
                    application_id: str | None = None) -> Event:
    application_id = application_id or str(uuid.uuid4())
    labels = {"approved": "认定通过", "adjusted": "调整认定", "not_approved": "不予认定"}
    data = {"result_id": str(uuid.uuid4()), "application_id": application_id, "person_id": person_id,
            "person_name": HOLDER_NAME, "id_number_masked": "220104********0316", "result": result,
            "result_label": labels[result], "passing": passing, "talent_class": "D", "level": 2,
            "recorded_at": datetime.now(UTC).isoformat()}
    return Event(source="/talent/review", type="review.result_recorded",
                 subject=f"applications/{application_id}", data=data)


async def publish(bus: Bus, event: Event) -> None:
    message = aio_pika.Message(event.model_dump_json().encode(), message_id=event.id,
                               content_type="application/cloudevents+json")
    await bus.exchange.publish(message, routing_key=event.type)


async def wait_for_certificates(holder: Portal, count: int = 1) -> list[dict]:
    async def listed():
        items = (await holder.get("cert", "/certificates"))["items"]
        return items if len(items) >= count else None

    return await eventually(listed, timeout=20)


async def wait_until_applied(database: asyncpg.Connection, *events: Event) -> None:
    """Wait until the cert consumer has recorded each event in its inbox."""
    ids = [event.id for event in events]

    async def applied():
        count = await database.fetchval(
            "SELECT count(*) FROM cert.inbox WHERE event_id = ANY($1::uuid[])", ids)
        return count == len(ids)

    await eventually(applied, timeout=20)


async def download(holder: Portal, certificate_id: str, **params) -> tuple[bytes, dict]:
    url = holder.url("cert", f"/certificates/{certificate_id}/pdf")
    async with holder.http.get(url, headers={"Authorization": f"Bearer {holder.token}"},
                               params=params) as response:
        assert response.status == 200, await response.text()
        return await response.read(), dict(response.headers)


def embedded_font_count(pdf: bytes) -> tuple[int, int]:
    """Return (fonts on the first page, fonts among them with an embedded font file)."""
    page = PdfReader(BytesIO(pdf)).pages[0]
    fonts = page["/Resources"]["/Font"].get_object()
    embedded = 0
    for reference in fonts.values():
        font = reference.get_object()
        descendants = font.get("/DescendantFonts")
        parts = [item.get_object() for item in descendants] if descendants else [font]
        descriptors = [part.get("/FontDescriptor") for part in parts]
        if all(d is not None and d.get_object().keys() & {"/FontFile2", "/FontFile3"} for d in descriptors):
            embedded += 1
    return len(fonts), embedded


async def test_passing_result_issues_certificate(portal, bus, issued_events):
    holder, user_id = await signed_in_person(portal)
    event = result_recorded(user_id)
    application_id = event.data["application_id"]

    await publish(bus, event)
    [certificate] = await wait_for_certificates(holder)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    detail = await holder.get("cert", f"/certificates/{certificate['certificate_id']}")

    assert certificate == detail
    assert certificate["application_id"] == application_id
    assert re.fullmatch(r"JL-RC-\d{4}-\d{6}", certificate["certificate_number"])
    assert is_valid_certificate_identifier(certificate["identifier"])
    assert certificate["identifier"].startswith("1.2.156.3005.2.")
    assert ".11220000013544541J." in certificate["identifier"]
    assert certificate["holder_name"] == HOLDER_NAME
    assert certificate["id_number_masked"] == "220104********0316"
    assert (certificate["talent_class"], certificate["level"]) == ("D", 2)
    assert certificate["class_label"] == "D类 省域拔尖人才"
    assert certificate["issued_on"] == today
    assert certificate["status"] == "valid"
    assert re.fullmatch(r"[A-Z0-9]{20}", certificate["verification_code"])
    assert certificate["verify_url"].endswith(f"/api/v1/cert/verify/{certificate['verification_code']}")

    async def issued():
        message = await issued_events.get(fail=False)
        if message is None:
            return None
        await message.ack()
        envelope = json.loads(message.body)
        return envelope if envelope["data"]["application_id"] == application_id else None

    envelope = await eventually(issued)
    assert envelope["data"]["certificate_id"] == certificate["certificate_id"]
    assert envelope["data"]["person_id"] == user_id
    assert envelope["data"]["certificate_number"] == certificate["certificate_number"]


async def test_holder_downloads_pdf(portal, bus):
    holder, user_id = await signed_in_person(portal)
    await publish(bus, result_recorded(user_id))
    [certificate] = await wait_for_certificates(holder)

    pdf, headers = await download(holder, certificate["certificate_id"])
    _, inline_headers = await download(holder, certificate["certificate_id"], disposition="inline")
    text = PdfReader(BytesIO(pdf)).pages[0].extract_text()
    fonts, embedded = embedded_font_count(pdf)
    utf8_name = quote(f"人才分类定级证书-{certificate['certificate_number']}.pdf", safe="")

    assert pdf.startswith(b"%PDF")
    assert hashlib.sha256(pdf).hexdigest() == certificate["pdf_sha256"]
    assert len(pdf) == certificate["pdf_size"]
    assert HOLDER_NAME in text
    assert certificate["certificate_number"] in text
    assert fonts > 0
    assert embedded == fonts
    assert headers["Content-Type"] == "application/pdf"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Disposition"] == (
        f"attachment; filename=\"certificate-{certificate['certificate_number']}.pdf\"; "
        f"filename*=UTF-8''{utf8_name}")
    assert inline_headers["Content-Disposition"].startswith("inline; ")


async def test_someone_else_gets_not_found(portal, bus, test_settings):
    holder, user_id = await signed_in_person(portal)
    stranger, _ = await signed_in_person(portal)
    admin = await portal.login(test_settings.admin_account, test_settings.admin_password)
    await publish(bus, result_recorded(user_id))
    [certificate] = await wait_for_certificates(holder)
    path = f"/certificates/{certificate['certificate_id']}"

    assert (await stranger.get("cert", "/certificates"))["items"] == []
    missing = await stranger.get("cert", path, expect=404)
    await stranger.get("cert", f"{path}/pdf", expect=404)
    await portal.get("cert", path, expect=401)
    await holder.get("cert", f"/certificates/{uuid.uuid4()}", expect=404)
    await holder.get("cert", "/certificates/not-a-uuid", expect=404)
    read_by_admin = await admin.get("cert", path)

    assert missing["code"] == "cert.not_found"
    assert read_by_admin["certificate_id"] == certificate["certificate_id"]


async def test_public_verification(portal, bus):
    holder, user_id = await signed_in_person(portal)
    await publish(bus, result_recorded(user_id))
    [certificate] = await wait_for_certificates(holder)
    code = certificate["verification_code"]

    verified = await portal.get("cert", f"/verify/{code}")
    lower_case = await portal.get("cert", f"/verify/{code.lower()}")
    unknown = await portal.get("cert", "/verify/ABCDEFGHJKLMNPQRSTUV", expect=404)
    unknown_en = await portal.get("cert", "/verify/ABCDEFGHJKLMNPQRSTUV", expect=404,
                                  headers={"Accept-Language": "en"})

    assert verified == {"valid": True, "certificate_number": certificate["certificate_number"],
                        "holder_name": "张*明", "talent_class": "D", "class_label": "D类 省域拔尖人才",
                        "level": 2, "issued_on": certificate["issued_on"],
                        "issuer_name": "吉林省人力资源和社会保障厅", "status": "valid"}
    assert lower_case == verified
    assert unknown["code"] == "cert.verification_not_found"
    assert unknown["title"] == "未找到该核验码对应的证书"
    assert unknown_en["title"] == "No certificate has this verification code"


async def test_non_passing_result_issues_nothing(portal, bus, database):
    holder, user_id = await signed_in_person(portal)
    event = result_recorded(user_id, result="not_approved", passing=False)

    await publish(bus, event)
    await wait_until_applied(database, event)

    assert (await holder.get("cert", "/certificates"))["items"] == []
    issued = await database.fetchval("SELECT count(*) FROM cert.certificates WHERE person_id = $1", user_id)
    assert issued == 0


async def test_duplicated_result_issues_one_certificate(portal, bus, database):
    holder, user_id = await signed_in_person(portal)
    event = result_recorded(user_id)
    copy = event.model_copy(update={"id": str(uuid.uuid4())})

    await publish(bus, event)
    await publish(bus, event)
    await publish(bus, copy)
    await wait_until_applied(database, event, copy)

    assert len((await holder.get("cert", "/certificates"))["items"]) == 1


async def test_verification_page_for_browsers(portal, bus):
    holder, user_id = await signed_in_person(portal)
    await publish(bus, result_recorded(user_id))
    [certificate] = await wait_for_certificates(holder)
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

    page = await portal.get("cert", f"/verify/{certificate['verification_code']}", headers=browser)
    status, missing = await portal.request("GET", "cert", "/verify/ABCDEFGHJKLMNPQRSTUV", headers=browser)
    pdf = await holder.get("cert", f"/certificates/{certificate['certificate_id']}/pdf")

    text = page.decode()
    assert "证书有效" in text
    assert "张*明" in text
    assert "张伟明" not in text
    assert status == 404
    assert "未找到该核验码对应的证书" in missing.decode()
    printed = "".join(pdf_page.extract_text() for pdf_page in PdfReader(BytesIO(pdf)).pages)
    assert certificate["verification_code"] in printed
