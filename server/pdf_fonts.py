"""The Chinese font PDFs are drawn in (written notices, reports): an embedded TrueType font where the machine has one."""

from __future__ import annotations

import os

__all__ = ["EMBEDDED_FONT", "FALLBACK_FONT", "PDF_FONTS", "pdf_font"]

# Chinese TrueType fonts to embed (the subset used), so a PDF prints the same on every machine: an office's
# own font from XINFANG_PDF_FONT, else Debian's fonts-wqy-microhei (scripts/install-browser.sh installs it).
PDF_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
EMBEDDED_FONT, FALLBACK_FONT = "XinfangCJK", "STSong-Light"


def pdf_font() -> str:
    """The registered font name to draw in: an embedded TrueType font where one is on the machine, else
    reportlab's built-in STSong-Light, which is not embedded (the reader's viewer supplies its glyphs)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    registered = pdfmetrics.getRegisteredFontNames()
    if EMBEDDED_FONT in registered:
        return EMBEDDED_FONT
    for path in (os.environ.get("XINFANG_PDF_FONT"), *PDF_FONTS):
        if path and os.path.exists(path):
            try:
                pdfmetrics.registerFont(TTFont(EMBEDDED_FONT, path, subfontIndex=0))
                return EMBEDDED_FONT
            except TTFError:
                continue
    if FALLBACK_FONT not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT
