"""``segment_pdf`` on PDFs the tests generate themselves (fpdf2 + a CJK system font)."""

from __future__ import annotations

import pytest

from tests.pdfs import Article, needs_font, page_pdf
from watchers.segment import SegmentError, segment_bytes, segment_pdf

fpdf = pytest.importorskip("fpdf")

ARTICLES: list[Article] = [
    (
        "鱼台县",
        "稻田养虾带富一方百姓",
        "本报鱼台讯（通讯员 刘洋）今年鱼台县推广稻虾共作模式，",
        [
            "种养面积达到十二万亩，示范区每亩稻田在产出优质大米的同时，",
            "还能收获小龙虾一百多斤，农户收入明显增加。",
        ],
    ),
    (
        "梁山县",
        "水浒文化旅游节开幕",
        "本报梁山讯（通讯员 赵强）第十届水浒文化旅游节日前开幕，",
        [
            "武术表演、非遗展示和特色美食集市吸引了大批游客，",
            "景区还推出联票优惠和研学线路，丰富游客的文化体验。",
        ],
    ),
]


@needs_font
def test_pdf_page_yields_articles_with_large_font_titles() -> None:
    items = segment_pdf(page_pdf(ARTICLES))
    assert [(i.kind, i.kicker, i.title, i.place) for i in items] == [
        ("article", "鱼台县", "稻田养虾带富一方百姓", "鱼台"),
        ("article", "梁山县", "水浒文化旅游节开幕", "梁山"),
    ]
    assert items[0].text.startswith("本报鱼台讯")
    assert "示范区每亩稻田" in items[0].text and "水浒" not in items[0].text
    assert items[1].text.endswith("丰富游客的文化体验。")


@needs_font
def test_segment_bytes_sniffs_pdf() -> None:
    assert len(segment_bytes(page_pdf(ARTICLES), name="page.pdf")) == 2


def test_pdf_without_text_layer_is_a_clear_error() -> None:
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_fill_color(120, 120, 120)
    pdf.rect(20, 20, 150, 200, style="F")  # a "scan": graphics, no text
    with pytest.raises(SegmentError, match=r"scan\.pdf: no text layer"):
        segment_bytes(bytes(pdf.output()), name="scan.pdf")


def test_broken_pdf_is_a_clear_error() -> None:
    with pytest.raises(SegmentError, match=r"broken\.pdf"):
        segment_bytes(b"%PDF-1.7\n garbage without objects", name="broken.pdf")
