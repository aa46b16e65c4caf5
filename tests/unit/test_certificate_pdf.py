from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from services.cert.pdf import CertificateContent, render_certificate
from services.common.fonts import find_cjk_font

HOLDER_NAME = "张伟明"


@pytest.fixture(scope="module")
def certificate_pdf() -> bytes:
    content = CertificateContent(
        holder_name=HOLDER_NAME,
        id_number_masked="220104********0316",
        talent_class="D",
        class_label="D类 省域拔尖人才",
        level=2,
        certificate_number="JLRC-2025-D2-000123",
        identifier="1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
        issued_on=date(2025, 6, 30),
        verify_url="https://talent.example.gov.cn/verify/8f3c2a1e",
    )
    return render_certificate(content, find_cjk_font(None))


def _font_descriptors(font: DictionaryObject) -> list[DictionaryObject | None]:
    """Return the descriptor of a simple font, or of each descendant of a Type0 font."""
    if font["/Subtype"] == "/Type0":
        fonts = [descendant.get_object() for descendant in font["/DescendantFonts"]]
    else:
        fonts = [font]
    return [item.get("/FontDescriptor") for item in fonts]


def test_certificate_pdf_header(certificate_pdf: bytes) -> None:
    assert certificate_pdf.startswith(b"%PDF")


def test_certificate_pdf_single_page(certificate_pdf: bytes) -> None:
    assert len(PdfReader(BytesIO(certificate_pdf)).pages) == 1


def test_certificate_pdf_text(certificate_pdf: bytes) -> None:
    text = PdfReader(BytesIO(certificate_pdf)).pages[0].extract_text()

    assert HOLDER_NAME in text
    assert "吉林省人才分类定级证书" in text
    assert "扫码核验" in text


def test_certificate_pdf_fonts_embedded(certificate_pdf: bytes) -> None:
    page = PdfReader(BytesIO(certificate_pdf)).pages[0]
    fonts = page["/Resources"]["/Font"].get_object()
    assert fonts

    for name, reference in fonts.items():
        for descriptor in _font_descriptors(reference.get_object()):
            assert descriptor is not None, f"font {name} has no descriptor, so it is a standard 14 font"
            font_files = descriptor.get_object().keys() & {"/FontFile2", "/FontFile3"}
            assert font_files, f"font {name} is not embedded"


def test_certificate_pdf_has_qr_image(certificate_pdf: bytes) -> None:
    page = PdfReader(BytesIO(certificate_pdf)).pages[0]

    assert len(page.images) == 1


def test_certificate_content_rejects_level() -> None:
    with pytest.raises(ValueError):
        CertificateContent(
            holder_name=HOLDER_NAME,
            id_number_masked="220104********0316",
            talent_class="D",
            class_label="D类 省域拔尖人才",
            level=4,
            certificate_number="JLRC-2025-D2-000123",
            identifier="1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
            issued_on=date(2025, 6, 30),
            verify_url="https://talent.example.gov.cn/verify/8f3c2a1e",
        )


def test_find_cjk_font_explicit_missing() -> None:
    with pytest.raises(RuntimeError, match="TALENT_CJK_FONT"):
        find_cjk_font("/nonexistent/font.ttc")


def test_find_cjk_font_none_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("services.common.fonts.KNOWN_FONT_PATHS", ("/nonexistent/font.ttc",))

    with pytest.raises(RuntimeError, match="fonts-wqy-microhei"):
        find_cjk_font(None)
