"""E-paper pages that exist only as page text or a page PDF: the segmenter cuts them.

The pages are Founder pc layout pages with no article list, served by a local site;
the page text is a real-shaped county page (tests/fixtures/pages) with gold articles.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from tests.pdfs import Article, needs_font, page_pdf
from tests.sites import make_config, page_response, run_sources, stored

PAGES = Path(__file__).parent / "fixtures" / "pages"
TEXT_PAGE = "page-c-after-wrapped.txt"
PUBLISHED = datetime(2024, 12, 24, 16, 0, tzinfo=UTC)  # 2024-12-25 00:00 China time
LAYOUT = "/paperpc/layout/202412/25"
PDF_PATH = "/paperpc/attachement/202412/25/aa00.pdf"
TEXT_PATH = "/paperpc/text/202412/25/01.txt"


def pc_page(number: str, section: str, files: str) -> str:
    """A pc layout page with the page navigation and ``files`` but no article list."""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>济宁日报-数字报</title>
</head><body><div class="header"><span class="newstime">2024年12月25日 星期三</span></div>
<div class="swiper-box"><div class="swiper-slide">
<a id="pageLink" href="node_{number}.html">{number}版：{section}</a></div></div>
<div class="paper-bot"><p class="left ban">第{number}版：{section}</p>{files}</div>
<img src="../../../images/202412/25/{number}/p.jpg"></body></html>"""


def site_pages(files: str) -> dict[str, str]:
    return {
        "/paperpc/layout/index.html": (
            '<meta http-equiv="refresh" content="0; url=202412/25/node_01.html">'
        ),
        f"{LAYOUT}/node_01.html": pc_page("01", "县域", files),
    }


def epaper_source(base: str) -> str:
    return f"""
[[sources]]
name = "县报"
kind = "epaper"
url = "{base}/paperpc/layout/index.html"
region = "济宁"
"""


async def test_page_text_link_is_segmented_into_articles_with_stable_urls(
    tmp_path, serve_site
) -> None:
    text = (PAGES / TEXT_PAGE).read_bytes()
    gold = json.loads((PAGES / "gold.json").read_text("utf-8"))[TEXT_PAGE]

    async def page_text(request: web.Request) -> web.StreamResponse:
        # No ETag: every poll re-reads and re-segments the page, so item URLs must repeat.
        return web.Response(body=text, content_type="text/plain")

    files = (
        f'<p class="right btn"><a href="../../../..{PDF_PATH}">PDF下载</a></p>'
        f'<a href="../../../..{TEXT_PATH}">本版文字</a>'
    )
    base, hits = await serve_site(
        "text-only", pages=site_pages(files), routes={TEXT_PATH: page_text}
    )
    config = make_config(tmp_path, epaper_source(base))

    report = (await run_sources(config))["县报"]

    assert report.error is None and (report.new, report.skipped) == (len(gold), 0)
    articles = await stored(config)
    # Where the segmenter reads no dateline place, the kicker names one (泗水县人民医院);
    # only where neither does the source's region fills in.
    assert sorted((a.kicker, a.title, a.place) for a in articles.values()) == sorted(
        (
            g["kicker"],
            g["title"],
            g["place"] or ("泗水" if g["kicker"].startswith("泗水") else "济宁"),
        )
        for g in gold
    )
    garlic = next(a for a in articles.values() if a.title == "大蒜冷链物流园投入运营")
    assert garlic.url.startswith(f"{base}{TEXT_PATH}#item-")
    assert garlic.text.startswith("本报金乡讯（通讯员 王晓明）6月以来")
    assert garlic.page == "第01版：县域"
    assert garlic.published_at == PUBLISHED
    assert garlic.extra["paper"] == "济宁日报"
    assert garlic.extra["issue_date"] == "2024-12-25"
    assert hits.count(PDF_PATH) == 0  # page text wins over the PDF: one download, no doubles

    again = (await run_sources(config))["县报"]

    assert hits.count(TEXT_PATH) == 2
    assert again.error is None and again.new == 0
    assert set(await stored(config)) == set(articles)


PDF_ARTICLES: list[Article] = [
    (
        "金乡县",
        "大蒜出口订单同比增长两成",
        "本报金乡讯（通讯员 王晓明）今年以来金乡县大蒜出口势头良好，",
        ["前五个月出口订单同比增长两成，", "产品销往一百六十多个国家和地区。"],
    ),
    (
        "汶上县",
        "老旧小区加装电梯惠及千户",
        "本报汶上讯（通讯员 李娜）汶上县今年启动老旧小区加装电梯工程，",
        ["已完工四十六部，惠及居民一千余户，", "群众上下楼难题得到有效解决。"],
    ),
]


@needs_font
async def test_page_pdf_is_segmented_and_not_segmented_again(tmp_path, serve_site) -> None:
    pdf = page_pdf(PDF_ARTICLES)

    async def page_file(request: web.Request) -> web.StreamResponse:
        return page_response(request, pdf, "application/pdf")

    files = f'<p class="right btn"><a href="../../../..{PDF_PATH}">PDF下载</a></p>'
    base, hits = await serve_site("pdf-only", pages=site_pages(files), routes={PDF_PATH: page_file})
    config = make_config(tmp_path, epaper_source(base))

    report = (await run_sources(config))["县报"]

    assert report.error is None and report.new == 2
    articles = sorted((await stored(config)).values(), key=lambda a: a.url)
    by_title = {a.title: a for a in articles}
    assert set(by_title) == {"大蒜出口订单同比增长两成", "老旧小区加装电梯惠及千户"}
    garlic = by_title["大蒜出口订单同比增长两成"]
    assert (garlic.kicker, garlic.place, garlic.page) == ("金乡县", "金乡", "第01版：县域")
    assert garlic.text.startswith("本报金乡讯") and "电梯" not in garlic.text
    assert garlic.published_at == PUBLISHED
    assert garlic.url.startswith(f"{base}{PDF_PATH}#item-")
    assert garlic.extra["pdf"] == f"{base}{PDF_PATH}"

    again = (await run_sources(config))["县报"]

    assert again.error is None and again.new == 0
    assert hits.count(PDF_PATH) == 2  # asked again, answered 304: nothing re-segmented
    assert len(await stored(config)) == 2
