"""The summary table (一览表) PDF of an application at its maximum, against a one-line PDF in the same font.

The application (tests/fixtures/full_form.py) has every list at its entry limit (20 entries of 专业获奖,
which the manual does not limit), every text field at its length limit and every entry with its
maximum of attachments. Each round builds the table's content and renders it with the applicant's
photo, exactly as GET /applications/{id}/summary.pdf does after loading the data; the baseline renders
one short paragraph with reportlab's platypus and the same CJK font. Both run in this process after
one warm-up render, which also registers the font. The benchmark prints the median and the slowest
time per PDF, their ratio to the baseline, and the size and pages of the table.
"""

import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, SimpleDocTemplate

from services.application.summary import SummarySource, build_summary
from services.application.summary_pdf import render_summary
from services.common.fonts import find_cjk_font, register_cjk_font
from tests.fixtures.full_form import PERSON_NAME, full_form

ROUNDS = 20
ROOT = Path(__file__).resolve().parents[1]
HEADER = {"person_name": PERSON_NAME, "id_number_masked": "220104********0316", "uscc": "91220104MA17QH2R73",
          "unit_name": "长春光华智能装备有限公司", "call_title": "2026年度吉林省人才分类定级评定申报通知",
          "talent_class": "D", "level": 2}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    return f"{len(os.sched_getaffinity(0))} CPUs (nproc), {cpu}, Python {sys.version.split()[0]}"


def timed(render: Callable[[], bytes], rounds: int) -> tuple[list[float], bytes]:
    times, pdf = [], b""
    for _ in range(rounds):
        started = time.perf_counter()
        pdf = render()
        times.append(time.perf_counter() - started)
    return times, pdf


def summary_renderer(font_path: str) -> Callable[[], bytes]:
    modules, files = full_form(date.today())
    photo = (ROOT / "tests" / "fixtures" / "photo.jpg").read_bytes()
    source = SummarySource("0f5c3a52-1111-4222-8333-944455556666", HEADER, modules, files, 1,
                           datetime.now(UTC), "已申报")
    return lambda: render_summary(build_summary(source, datetime.now(UTC)), photo, font_path)


def one_line_renderer(font_path: str) -> Callable[[], bytes]:
    font = register_cjk_font(font_path)
    style = ParagraphStyle("line", fontName=font, fontSize=10, wordWrap="CJK")

    def render() -> bytes:
        buffer = BytesIO()
        SimpleDocTemplate(buffer, pagesize=A4, initialFontName=font).build([Paragraph(f"{PERSON_NAME} 一览表", style)])
        return buffer.getvalue()
    return render


async def main() -> None:
    print(f"machine: {machine()}", flush=True)
    font_path = find_cjk_font(os.environ.get("TALENT_CJK_FONT"))
    summary, baseline = summary_renderer(font_path), one_line_renderer(font_path)
    first, _ = timed(summary, 1)
    summary_times, pdf = timed(summary, ROUNDS)
    baseline_times, _ = timed(baseline, ROUNDS)

    pages = len(PdfReader(BytesIO(pdf)).pages)
    median, slowest = statistics.median(summary_times), max(summary_times)
    base = statistics.median(baseline_times)
    print(f"font: {font_path}")
    print(f"summary table: {pages} pages, {len(pdf) / 1024:.0f} KiB; first render (font registration included) "
          f"{first[0] * 1000:.0f} ms")
    print(f"{'':>24} {'median ms':>10} {'slowest ms':>11}")
    print(f"{'summary table':>24} {median * 1000:>10.1f} {slowest * 1000:>11.1f}")
    print(f"{'one-line PDF (baseline)':>24} {base * 1000:>10.1f} {max(baseline_times) * 1000:>11.1f}")
    print(f"ratio (median): {median / base:.1f}x the baseline; {ROUNDS} rounds each")
