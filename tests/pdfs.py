"""Newspaper page PDFs the tests generate themselves (fpdf2 + a CJK system font).

No PDF is checked in: the text layer must hold real CJK glyphs, which needs a CJK
font. Tests that need one are marked ``needs_font`` and skipped when none is installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

FONT_CANDIDATES = [
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
]
CJK_FONT = next((p for p in FONT_CANDIDATES if p.exists()), None)
needs_font = pytest.mark.skipif(
    CJK_FONT is None, reason="no CJK TTF font; install apt package fonts-wqy-microhei"
)

# (kicker, title, first body line, further body lines)
Article = tuple[str, str, str, list[str]]


def page_pdf(articles: list[Article]) -> bytes:
    """Each headline (kicker 12 pt, title 20 pt) above its hard-wrapped 10 pt body."""
    import fpdf

    assert CJK_FONT is not None, "mark the test needs_font"
    pdf = fpdf.FPDF()
    pdf.add_font("cjk", "", str(CJK_FONT))
    pdf.add_page()
    for kicker, title, first, rest in articles:
        pdf.set_font("cjk", size=12)
        pdf.cell(0, 8, kicker, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=20)
        pdf.cell(0, 12, title, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.set_font("cjk", size=10)
        for line in [first, *rest]:
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(10)
    return bytes(pdf.output())
