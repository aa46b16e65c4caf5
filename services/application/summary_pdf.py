"""Lay out the summary table (一览表) as an A4 PDF with reportlab's platypus.

All text uses one CJK TrueType font, embedded as a subset of the characters used, so that any PDF
viewer shows it. Each page carries "第 x 页 / 共 y 页" and the application's id at its foot. The total
is known only after the last page, so the pages are kept and numbered when the document is saved.
Rendering takes a few tenths of a second of CPU, so callers in an event loop run it in a thread.
"""

import logging
from io import BytesIO

from PIL import Image as PILImage
from PIL import UnidentifiedImageError
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from services.common.fonts import register_cjk_font

from .summary import Pairs, Section, SummaryDocument

log = logging.getLogger(__name__)

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 15 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
LABEL_WIDTH = 30 * mm
PHOTO_WIDTH, PHOTO_HEIGHT = 26 * mm, 36 * mm
GRID = colors.Color(0.55, 0.55, 0.55)
SHADE = colors.Color(0.93, 0.94, 0.96)
ACCENT = colors.Color(0.62, 0.12, 0.12)


class Styles:
    def __init__(self, font: str) -> None:
        self.font = font
        base = {"fontName": font, "wordWrap": "CJK"}
        self.title = ParagraphStyle("title", fontSize=18, leading=24, alignment=TA_CENTER, textColor=ACCENT, **base)
        self.group = ParagraphStyle("group", fontSize=13, leading=18, spaceBefore=8, spaceAfter=2,
                                    textColor=ACCENT, **base)
        self.heading = ParagraphStyle("heading", fontSize=11, leading=15, spaceBefore=5, spaceAfter=3, **base)
        self.label = ParagraphStyle("label", fontSize=8.5, leading=11, textColor=colors.Color(0.25, 0.25, 0.3),
                                    **base)
        self.value = ParagraphStyle("value", fontSize=9, leading=12, **base)
        self.entry = ParagraphStyle("entry", fontSize=9, leading=12, textColor=ACCENT, **base)
        self.note = ParagraphStyle("note", fontSize=8.5, leading=12, **base)


def render_summary(document: SummaryDocument, photo: bytes | None, font_path: str) -> bytes:
    """Render the summary table and return the PDF's bytes."""
    font = register_cjk_font(font_path)
    styles = Styles(font)
    buffer = BytesIO()
    template = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                                 bottomMargin=MARGIN + 6 * mm, title=document.title, author=document.header[0][1],
                                 subject=document.footer, creator="talent grading platform",
                                 initialFontName=font)
    story = [Paragraph(document.title, styles.title), Spacer(1, 4 * mm), _header(document.header, photo, styles)]
    story += [Paragraph(document.basic_group, styles.group), Paragraph(document.basic_heading, styles.heading),
              _grid(document.basic_info, styles)]
    for section in document.sections:
        story += _section(section, styles)
    story += [Spacer(1, 5 * mm), Paragraph(_escape(document.pledge), styles.note)]
    template.build(story, canvasmaker=_numbered_canvas(font, document.footer))
    return buffer.getvalue()


def _escape(text: str) -> str:
    """Escape text for a reportlab Paragraph, which reads a small XML markup, and keep line breaks."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("\n", "<br/>")


def _rows(pairs: Pairs, styles: Styles) -> list[list]:
    """Lay label/value pairs out two to a row: label, value, label, value."""
    rows = []
    for start in range(0, len(pairs), 2):
        row = []
        for label, value in pairs[start:start + 2]:
            row += [Paragraph(_escape(label), styles.label), Paragraph(_escape(value), styles.value)]
        rows.append(row + [Paragraph("", styles.value)] * (4 - len(row)))
    return rows


def _grid(pairs: Pairs, styles: Styles) -> Table:
    value_width = (CONTENT_WIDTH - 2 * LABEL_WIDTH) / 2
    # A long grid may continue on the next page.
    table = Table(_rows(pairs, styles), colWidths=[LABEL_WIDTH, value_width, LABEL_WIDTH, value_width],
                  splitByRow=1)
    table.setStyle(_grid_style(styles))
    return table


def _header(pairs: Pairs, photo: bytes | None, styles: Styles) -> Table:
    """Put the application's header grid beside the applicant's photo, which spans its rows."""
    value_width = (CONTENT_WIDTH - PHOTO_WIDTH - 4 * mm - 2 * LABEL_WIDTH) / 2
    rows = [row + [Paragraph("", styles.value)] for row in _rows(pairs, styles)]
    rows[0][4] = _photo(photo, styles)
    table = Table(rows, colWidths=[LABEL_WIDTH, value_width, LABEL_WIDTH, value_width, PHOTO_WIDTH + 4 * mm])
    table.setStyle(_grid_style(styles, [("SPAN", (4, 0), (4, -1)), ("ALIGN", (4, 0), (4, -1), "CENTER"),
                                ("BACKGROUND", (4, 0), (4, -1), colors.white)]))
    return table


def _table_style(styles: Styles, commands: list) -> TableStyle:
    # A table draws with Helvetica unless its style names another font, and Helvetica is never embedded.
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), styles.font), *commands])


def _grid_style(styles: Styles, extra: list | None = None) -> TableStyle:
    return _table_style(styles, [
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("BACKGROUND", (0, 0), (0, -1), SHADE),
        ("BACKGROUND", (2, 0), (2, -1), SHADE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        *(extra or []),
    ])


def _photo(photo: bytes | None, styles: Styles) -> Flowable:
    if photo is not None:
        try:
            with PILImage.open(BytesIO(photo)) as image:
                image.verify()
            return Image(BytesIO(photo), width=PHOTO_WIDTH, height=PHOTO_HEIGHT, kind="proportional")
        except (UnidentifiedImageError, OSError, SyntaxError) as e:
            log.warning("the applicant's photo cannot be drawn: %r", e)
    frame = Table([[Paragraph("照片", styles.label)]], colWidths=[PHOTO_WIDTH], rowHeights=[PHOTO_HEIGHT])
    frame.setStyle(_table_style(styles, [("BOX", (0, 0), (-1, -1), 0.4, GRID), ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                                         ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return frame


def _section(section: Section, styles: Styles) -> list[Flowable]:
    # The group's and the module's headings stay on the page of the module's first table.
    lead: list[Flowable] = [Paragraph(section.group, styles.group)] if section.group else []
    lead.append(Paragraph(section.heading, styles.heading))
    if section.text is not None:
        box = Table([[Paragraph(_escape(section.text), styles.value)]], colWidths=[CONTENT_WIDTH])
        box.setStyle(_table_style(styles, [("BOX", (0, 0), (-1, -1), 0.4, GRID), ("TOPPADDING", (0, 0), (-1, -1), 4),
                                           ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
        return [KeepTogether([*lead, box])]
    flowables: list[Flowable] = []
    for index, entry in enumerate(section.entries):
        parts: list[Flowable] = [Paragraph(entry.title, styles.entry)] if entry.title else []
        parts += [_grid(entry.pairs, styles), Spacer(1, 2 * mm)]
        flowables.append(KeepTogether([*lead, *parts] if index == 0 else parts))
    return flowables


def _numbered_canvas(font: str, footer: str) -> type[Canvas]:
    class NumberedCanvas(Canvas):
        """Keeps each page until the document is saved, then prints "第 x 页 / 共 y 页" on each."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                self.setFont(font, 8)
                self.setFillColor(colors.Color(0.35, 0.35, 0.35))
                self.drawString(MARGIN, 10 * mm, footer)
                self.drawRightString(PAGE_WIDTH - MARGIN, 10 * mm, f"第 {number} 页 / 共 {total} 页")
                super().showPage()
            super().save()

    return NumberedCanvas
