"""The CJK TrueType font that generated PDFs (certificates, summary tables) embed as a subset."""

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_NAME = "WQYMicroHei"
FONT_PATH_ENV = "TALENT_CJK_FONT"

# TrueType-outlined CJK fonts from common Linux packages. Noto CJK .ttc files are left out because they
# have CFF outlines, which reportlab's TTFont (5.1) rejects.
KNOWN_FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


def find_cjk_font(explicit: str | None = None) -> str:
    """Return the path of a CJK TrueType font: `explicit` if given, else the first known path found.

    Raises RuntimeError if `explicit` does not exist or no known font is installed.
    """
    if explicit:
        if Path(explicit).is_file():
            return explicit
        raise RuntimeError(
            f"CJK font file not found: {explicit!r}. Set {FONT_PATH_ENV} to an existing .ttf or .ttc file."
        )

    for candidate in KNOWN_FONT_PATHS:
        if Path(candidate).is_file():
            return candidate
    raise RuntimeError(
        "No CJK TrueType font found in "
        f"{', '.join(KNOWN_FONT_PATHS)}. Install the Debian package fonts-wqy-microhei "
        f"or set {FONT_PATH_ENV} to the path of a TrueType CJK font (.ttf or .ttc)."
    )


def register_cjk_font(font_path: str) -> str:
    """Register the font under FONT_NAME unless that name already maps to `font_path`, and return the name.

    reportlab keeps one process-wide font registry, so the latest path registered wins.
    """
    try:
        registered = pdfmetrics.getFont(FONT_NAME)
    except KeyError:
        registered = None
    if registered is None or getattr(registered.face, "filename", None) != font_path:
        pdfmetrics.registerFont(TTFont(FONT_NAME, font_path, subfontIndex=0))
    return FONT_NAME
