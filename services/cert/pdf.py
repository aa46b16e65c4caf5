"""Render the electronic talent certificate (人才分类定级证书) as a one-page PDF.

All text uses one CJK TrueType font, embedded as a subset, so any PDF viewer renders the page.
"""

from datetime import date
from io import BytesIO
from typing import Literal

import qrcode
from pydantic import BaseModel, ConfigDict, Field
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from services.common.fonts import register_cjk_font

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
FRAME_COLOR = Color(0.62, 0.12, 0.12)
ACCENT_COLOR = Color(0.72, 0.55, 0.20)
LEVEL_NUMERALS = {1: "一", 2: "二", 3: "三"}


class CertificateContent(BaseModel):
    """Fields printed on a certificate. The ID number arrives already masked."""

    model_config = ConfigDict(frozen=True)

    holder_name: str = Field(min_length=1)
    id_number_masked: str
    talent_class: Literal["A", "B", "C", "D", "E"]
    class_label: str = Field(min_length=1, examples=["D类 省域拔尖人才"])
    level: int = Field(ge=1, le=3)
    certificate_number: str = Field(min_length=1)
    identifier: str = Field(min_length=1, description="GB/T 36904 licence identifier")
    issuer_name: str = "吉林省人力资源和社会保障厅"
    issued_on: date
    verify_url: str = Field(min_length=1)
    # Printed under the QR code, for people who verify by typing rather than scanning.
    verification_code: str = ""


def render_certificate(cert: CertificateContent, font_path: str) -> bytes:
    """Render `cert` as an A4 landscape PDF and return its bytes."""
    font_name = register_cjk_font(font_path)
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), initialFontName=font_name)
    canvas.setTitle(f"吉林省人才分类定级证书 {cert.certificate_number}")
    canvas.setAuthor(cert.issuer_name)
    canvas.setSubject("Jilin Talent Classification Certificate")

    _draw_frame(canvas)
    _draw_title(canvas, font_name)
    _draw_fields(canvas, font_name, cert)
    _draw_issuer(canvas, font_name, cert)
    _draw_verification_qr(canvas, font_name, cert.verify_url, cert.verification_code)

    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_frame(canvas: Canvas) -> None:
    canvas.setStrokeColor(FRAME_COLOR)
    canvas.setLineWidth(3)
    canvas.rect(10 * mm, 10 * mm, PAGE_WIDTH - 20 * mm, PAGE_HEIGHT - 20 * mm)
    canvas.setStrokeColor(ACCENT_COLOR)
    canvas.setLineWidth(1)
    canvas.rect(14 * mm, 14 * mm, PAGE_WIDTH - 28 * mm, PAGE_HEIGHT - 28 * mm)


def _draw_title(canvas: Canvas, font_name: str) -> None:
    canvas.setFillColor(FRAME_COLOR)
    canvas.setFont(font_name, 32)
    canvas.drawCentredString(PAGE_WIDTH / 2, PAGE_HEIGHT - 42 * mm, "吉林省人才分类定级证书")
    canvas.setFont(font_name, 14)
    canvas.drawCentredString(PAGE_WIDTH / 2, PAGE_HEIGHT - 52 * mm, "Jilin Talent Classification Certificate")


def _field_lines(cert: CertificateContent) -> list[tuple[str, str]]:
    level_text = f"第{LEVEL_NUMERALS[cert.level]}层次 (Level {cert.level})"
    return [
        ("持证人 Holder", cert.holder_name),
        ("身份证号 ID No.", cert.id_number_masked),
        ("人才类别 Class", f"{cert.class_label} (Class {cert.talent_class})"),
        ("人才层次 Level", level_text),
        ("证书编号 Certificate No.", cert.certificate_number),
        ("证照标识 Licence ID", cert.identifier),
    ]


def _draw_fields(canvas: Canvas, font_name: str, cert: CertificateContent) -> None:
    label_x = 35 * mm
    value_x = 95 * mm
    y = PAGE_HEIGHT - 70 * mm
    for label, value in _field_lines(cert):
        canvas.setFillColor(FRAME_COLOR)
        canvas.setFont(font_name, 12)
        canvas.drawString(label_x, y, label)
        canvas.setFillColor(black)
        # The licence identifier is about 70 characters long, so it gets a smaller size.
        canvas.setFont(font_name, 10 if value == cert.identifier else 16)
        canvas.drawString(value_x, y, value)
        y -= 12 * mm


def _draw_issuer(canvas: Canvas, font_name: str, cert: CertificateContent) -> None:
    issued = cert.issued_on
    right_x = PAGE_WIDTH - 85 * mm
    canvas.setFillColor(black)
    canvas.setFont(font_name, 14)
    canvas.drawRightString(right_x, 40 * mm, f"颁发机构 Issuer：{cert.issuer_name}")
    canvas.drawRightString(
        right_x,
        30 * mm,
        f"颁发日期 Issued on：{issued.year}年{issued.month}月{issued.day}日 ({issued.isoformat()})",
    )


def _draw_verification_qr(canvas: Canvas, font_name: str, verify_url: str, code: str) -> None:
    size = 42 * mm
    x = PAGE_WIDTH - 25 * mm - size
    y = 32 * mm
    canvas.drawImage(ImageReader(BytesIO(_qr_png(verify_url))), x, y, size, size)
    canvas.setFillColor(black)
    canvas.setFont(font_name, 10)
    canvas.drawCentredString(x + size / 2, y - 6 * mm, "扫码核验 / Scan to verify")
    if code:
        canvas.setFont(font_name, 8)
        canvas.drawCentredString(x + size / 2, y - 11 * mm, f"核验码 Code：{code}")


def _qr_png(data: str) -> bytes:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=2)
    qr.add_data(data)
    qr.make(fit=True)
    buffer = BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()
