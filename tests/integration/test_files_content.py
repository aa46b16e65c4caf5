"""Content rules of the files service with real files: formats by magic bytes, HEIC, encrypted PDFs,
empty files, size limits to the byte and disguised names.

Fixtures come from tests/fixtures (see make_file_fixtures.py); variants are made here in memory.
"""

import io
import zipfile

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from services.files.pdf_password import PdfPasswordCheck
from tests.integration import test_files
from tests.integration.test_files import (
    MIB,
    download,
    file_rows,
    fixture_bytes,
    open_multipart_uploads,
    sign_up_applicant,
    stored_keys,
    upload,
    upload_form,
)
from tests.support import Portal, new_unit

# Fixtures of test_files.py; pytest finds them among this module's names.
bus, database, fake_applications, files_settings, portal = (
    test_files.bus, test_files.database, test_files.fake_applications, test_files.files_settings,
    test_files.portal)


async def new_application(portal, fake_applications):
    applicant = await sign_up_applicant(portal)
    return applicant, fake_applications.register(applicant.user_id, new_unit()["uscc"])


async def assert_nothing_stored(database, files_settings, application_id: str) -> None:
    assert await file_rows(database, application_id) == []
    assert await stored_keys(files_settings, application_id) == []
    assert await open_multipart_uploads(files_settings, application_id) == []


def padded(data: bytes, size: int) -> bytes:
    """Return `data` grown to `size` bytes with a trailing comment, which JPEG and PDF readers skip."""
    filler = b"\n%" + b"0" * (size - len(data) - 2)
    return data + filler[: size - len(data)]


# Accepted formats


@pytest.mark.parametrize(("kind", "fixture", "content_type"), [
    ("photo", "photo.jpg", "image/jpeg"),
    ("id_card", "scan.png", "image/png"),
    ("degree", "degree.pdf", "application/pdf"),
    # Encrypted with an owner password only: it opens without a password, so reviewers can read it.
    ("diploma", "permissions_only.pdf", "application/pdf"),
])
async def test_real_file_accepted(portal, fake_applications, kind, fixture, content_type):
    applicant, application_id = await new_application(portal, fake_applications)
    data = fixture_bytes(fixture)

    uploaded = await upload(applicant, application_id, kind, data, f"扫描件{fixture[-4:]}")
    status, content, headers = await download(applicant.portal, uploaded["file_id"], disposition="inline")

    assert uploaded["content_type"] == content_type
    assert uploaded["size"] == len(data)
    assert status == 200
    assert content == data
    assert headers["Content-Type"] == content_type
    assert headers["Content-Disposition"].startswith("inline;")


# Rejected formats


async def test_heic_named_jpg_rejected_with_advice(portal, fake_applications, database, files_settings):
    applicant, application_id = await new_application(portal, fake_applications)
    heic = fixture_bytes("photo.heic")
    english = Portal(applicant.portal.http, applicant.portal.bases, applicant.portal.token, language="en")

    problem = await upload(applicant, application_id, "photo", heic, "IMG_0001.jpg", content_type="image/jpeg",
                           expect=415)
    status, in_english = await english.request("POST", "files", "/files", data=upload_form(application_id, "id_card",
                                                                                             heic, "IMG_0002.JPG"))

    assert problem["code"] == "files.heic_not_accepted"
    assert problem["title"] == "不支持 HEIC 格式的照片，请转换为 JPG 后上传"
    assert "“IMG_0001.jpg”的实际格式是 HEIC/HEIF" in problem["detail"]
    assert "在手机相册中将照片导出为 JPG" in problem["detail"]
    assert "iPhone 设置 > 相机 > 格式 中选择“兼容性最佳”" in problem["detail"]
    assert status == 415
    assert "Settings > Camera > Formats > Most Compatible" in in_english["detail"]
    await assert_nothing_stored(database, files_settings, application_id)


def webp_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 90, 200)).save(buffer, format="WEBP")
    return buffer.getvalue()


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(("kind", "data", "file_name", "code", "detected"), [
    ("photo", webp_bytes(), "photo.jpg", "files.image_format_not_accepted", "WebP"),
    ("employment_contract", docx_bytes(), "合同.pdf", "files.document_format_not_accepted", "ZIP (DOCX/XLSX/OFD)"),
    ("photo", fixture_bytes("degree.pdf"), "照片.jpg", "files.unsupported_format", "PDF"),
    ("degree", b"MZ\x90\x00" + bytes(200), "学位证.pdf", "files.unsupported_format", "EXE"),
    ("employment_contract", "劳动合同\n".encode() * 20, "合同.pdf", "files.unknown_format", None),
])
async def test_content_decides_format(portal, fake_applications, database, files_settings, kind, data, file_name,
                                      code, detected):
    applicant, application_id = await new_application(portal, fake_applications)

    problem = await upload(applicant, application_id, kind, data, file_name, content_type="application/pdf",
                           expect=415)

    assert problem["code"] == code
    assert file_name in problem["detail"]
    if detected is not None:
        assert f"实际格式是 {detected}" in problem["detail"]
    assert await file_rows(database, application_id) == []


async def test_encrypted_pdf_rejected(portal, fake_applications, database, files_settings):
    applicant, application_id = await new_application(portal, fake_applications)
    encrypted = fixture_bytes("encrypted.pdf")

    problem = await upload(applicant, application_id, "degree", encrypted, "学位证.pdf", expect=422)
    # Over one S3 part, so the rejection has to abort a multipart upload.
    large = await upload(applicant, application_id, "publications", padded(encrypted, 12 * MIB), "论文.pdf",
                         entry_id="entry-a", expect=422)

    assert problem["code"] == "files.pdf_encrypted"
    assert problem["title"] == "PDF 文件设有打开密码，请去除密码后上传"
    assert "“学位证.pdf”需要密码才能打开" in problem["detail"]
    assert problem["errors"][0]["field"] == "file"
    assert large["code"] == "files.pdf_encrypted"
    await assert_nothing_stored(database, files_settings, application_id)


def encrypt(source: bytes, user_password: str, algorithm: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(source)))
    writer.encrypt(user_password=user_password, owner_password="Owner#2026", algorithm=algorithm)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("algorithm", ["RC4-40", "RC4-128", "AES-128", "AES-256-R5", "AES-256"])
@pytest.mark.parametrize("chunk_size", [13, 4096, 256 * 1024])
def test_pdf_password_check_every_algorithm(algorithm, chunk_size):
    source = fixture_bytes("id_card.pdf")
    documents = {"plain": source, "user password": encrypt(source, "Jilin#2026", algorithm),
                 "owner password only": encrypt(source, "", algorithm)}

    verdicts = {}
    for name, data in documents.items():
        check = PdfPasswordCheck()
        for start in range(0, len(data), chunk_size):
            check.feed(data[start:start + chunk_size])
        verdicts[name] = check.needs_password()

    assert verdicts == {"plain": False, "user password": True, "owner password only": False}


def test_pdf_with_unknown_security_handler_needs_password():
    data = fixture_bytes("degree.pdf").replace(b"/Root 7 0 R", b"/Root 7 0 R /Encrypt 99 0 R")
    data += b"\n99 0 obj\n<< /Filter /Adobe.PubSec /V 4 /R 4 >>\nendobj\n"
    check = PdfPasswordCheck()

    check.feed(data)

    assert check.needs_password() is True


async def test_empty_file_rejected(portal, fake_applications, database, files_settings):
    applicant, application_id = await new_application(portal, fake_applications)

    problem = await upload(applicant, application_id, "id_card", b"", "身份证.pdf", expect=422)

    assert problem["code"] == "files.empty_file"
    assert problem["title"] == "文件内容为空，请重新选择文件"
    assert problem["errors"][0]["field"] == "file"
    await assert_nothing_stored(database, files_settings, application_id)


@pytest.mark.parametrize(("kind", "limit", "fixture"), [
    ("photo", 2 * MIB, "photo.jpg"),  # below one S3 part, so no request reaches S3 before the limit
    ("id_card", 10 * MIB, "id_card.pdf"),  # above one part: a multipart upload that must be aborted
])
async def test_size_limit_to_the_byte(portal, fake_applications, database, files_settings, kind, limit, fixture):
    applicant, application_id = await new_application(portal, fake_applications)
    data = fixture_bytes(fixture)

    over = await upload(applicant, application_id, kind, padded(data, limit + 1), f"over{fixture[-4:]}", expect=413)
    under = await upload(applicant, application_id, kind, padded(data, limit - 1), f"under{fixture[-4:]}")

    assert over["code"] == "files.too_large"
    assert str(limit) in over["detail"]
    assert under["size"] == limit - 1
    rows = await file_rows(database, application_id)
    assert [str(row["id"]) for row in rows] == [under["file_id"]]
    assert await stored_keys(files_settings, application_id) == [
        f"applications/{application_id}/{under['file_id']}"]
    assert await open_multipart_uploads(files_settings, application_id) == []


async def test_exact_limit_accepted(portal, fake_applications):
    applicant, application_id = await new_application(portal, fake_applications)

    uploaded = await upload(applicant, application_id, "degree", padded(fixture_bytes("degree.pdf"), 10 * MIB),
                            "degree.pdf")

    assert uploaded["size"] == 10 * MIB


@pytest.mark.parametrize(("file_name", "code"), [
    ("学位证.pdf.exe", "files.double_extension"),
    ("学位证.PDF .Exe. ", "files.double_extension"),
    ("证书.jpg.zip", "files.double_extension"),
    ("scan.exe", "files.executable_extension"),
    ("学位证.js", "files.executable_extension"),
])
async def test_disguised_names_rejected(portal, fake_applications, database, files_settings, file_name, code):
    applicant, application_id = await new_application(portal, fake_applications)

    problem = await upload(applicant, application_id, "degree", fixture_bytes("degree.pdf"), file_name,
                           expect=422)

    assert problem["code"] == code
    assert problem["errors"][0]["field"] == "file"
    assert file_name in problem["detail"]
    await assert_nothing_stored(database, files_settings, application_id)


@pytest.mark.parametrize("file_name", ["合同.doc.pdf", "张三.身份证.pdf", "v1.2 扫描件.pdf", "学位证"])
async def test_ordinary_names_with_dots_accepted(portal, fake_applications, file_name):
    applicant, application_id = await new_application(portal, fake_applications)

    uploaded = await upload(applicant, application_id, "degree", fixture_bytes("degree.pdf"), file_name)

    assert uploaded["file_name"] == file_name
