"""The summary table (一览表) PDF: its text, headings, photo, page numbers and embedded font subset."""

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from services.application.form import GROUPS, MODULES
from services.application.summary import SummarySource, build_summary
from services.application.summary_pdf import render_summary
from services.application.validation import Context, validate_application
from services.common.fonts import find_cjk_font
from tests.fixtures.full_form import PERSON_NAME, full_form

FIXTURES = Path(__file__).parents[1] / "fixtures"
TODAY = date(2026, 6, 15)
HEADER = {"person_name": PERSON_NAME, "id_number_masked": "220104********0316", "uscc": "91220104MA17QH2R73",
          "unit_name": "长春光华智能装备有限公司", "call_title": "2026年度人才分类定级评定申报通知",
          "talent_class": "D", "level": 2}


@pytest.fixture(scope="module")
def rendered() -> tuple[bytes, PdfReader, str]:
    modules, files = full_form(TODAY)
    source = SummarySource("0f5c3a52-1111-4222-8333-944455556666", HEADER, modules, files, 2,
                           datetime(2026, 6, 15, 2, 30, tzinfo=UTC), "已申报")
    pdf = render_summary(build_summary(source, datetime.now(UTC)), (FIXTURES / "photo.jpg").read_bytes(),
                         find_cjk_font())
    reader = PdfReader(io.BytesIO(pdf))
    return pdf, reader, "\n".join(page.extract_text() for page in reader.pages)


def test_full_form_is_valid():
    modules, files = full_form(TODAY)
    context = Context(call_classes=("D",), today=TODAY)
    assert validate_application(modules, files, context) == []


def test_summary_text_names_applicant_and_modules(rendered):
    pdf, reader, text = rendered
    assert pdf.startswith(b"%PDF")
    assert "人才分类定级认定一览表" in text
    assert PERSON_NAME in text
    for module in MODULES.values():
        assert module.label in text, module.name
    for group, _ in GROUPS.values():
        assert group in text
    assert "材料附件" in text
    assert "D类 省域拔尖人才 第二层次" in text
    assert "本人承诺" in text


def test_summary_numbers_every_page(rendered):
    _, reader, _ = rendered
    total = len(reader.pages)
    assert total > 5
    for number, page in enumerate(reader.pages, 1):
        assert f"第 {number} 页 / 共 {total} 页" in page.extract_text()


def test_summary_pages_are_a4(rendered):
    _, reader, _ = rendered
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)


def test_summary_embeds_font_subset(rendered):
    _, reader, _ = rendered
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font
    assert fonts
    for name, font in fonts.items():
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = descendant["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, name
        # A subset's name starts with six capital letters and a plus sign.
        assert name[1:7].isalpha(), name
        assert name[7] == "+", name


def test_summary_draws_photo(rendered):
    _, reader, _ = rendered
    images = reader.pages[0].images
    assert len(images) == 1


def test_summary_without_photo_draws_frame():
    modules, files = full_form(TODAY)
    source = SummarySource("draft", HEADER, modules, files, None, None, "草稿 (未提交)")
    pdf = render_summary(build_summary(source, datetime.now(UTC)), b"not an image", find_cjk_font())
    reader = PdfReader(io.BytesIO(pdf))

    assert len(reader.pages[0].images) == 0
    assert "照片" in reader.pages[0].extract_text()
    assert "尚未提交" in "".join(page.extract_text() for page in reader.pages)
