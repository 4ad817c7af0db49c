"""Bad input for e-paper and Hanweb sources: a recorded source error naming what was
expected, or a skipped article with its reason — never a crash ("internal error").

Complements test_epaper_platforms.py (unknown platform, empty issue, bodiless article,
broken nesting on classic pages) and test_hanweb.py (bodiless record).
"""

from __future__ import annotations

import pytest
from aiohttp import web

from tests.sites import make_config, run_sources, source_row, stored

PC_NAV = (
    '<div class="swiper-box"><div class="swiper-slide">'
    '<a id="pageLink" href="node_01.html">01版：要闻</a></div><div class="swiper-slide">'
    '<a id="pageLink" href="node_02.html">02版：综合</a></div></div>'
)


def refresh(target: str) -> str:
    return f'<meta http-equiv="refresh" content="0; url={target}">'


ENTRY = refresh("202412/25/node_01.html")
DAY = "/paperpc/layout/202412/25"
CONTENT = "/paperpc/content/202412/25"


def source(kind: str, url: str) -> str:
    return f'\n[[sources]]\nname = "bad"\nkind = "{kind}"\nurl = "{url}"\n'


def pc_page(section: str, body: str) -> str:
    """A pc-layout page whose markup is cut short: no closing tags anywhere."""
    return (
        '<html><head><meta charset="utf-8"><title>某日报</title><body>'
        '<span class="newstime">2024年12月25日</span>'
        f'{PC_NAV}<div class="paper-bot"><p class="left ban">{section}{body}'
    )


@pytest.mark.parametrize(
    ("pages", "kind", "path", "expected"),
    [
        pytest.param(
            {"/logo.png": "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"},
            "epaper",
            "/logo.png",
            "not a recognised e-paper: expected a Founder classic e-paper",
            id="not-a-newspaper-at-all",
        ),
        pytest.param(
            {"/paperpc/layout/node_01.html": pc_page("第01版：要闻", "")},
            "epaper",
            "/paperpc/layout/node_01.html",
            "Founder pc layout page without an issue date in its URL; expected",
            id="undated-issue-page",
        ),
        pytest.param(
            {
                "/a/paperindex.htm": refresh("/b/paperindex.htm"),
                "/b/paperindex.htm": refresh("/a/paperindex.htm"),
            },
            "epaper",
            "/a/paperindex.htm",
            "refresh loop: ",
            id="refresh-loop",
        ),
        pytest.param(
            {
                "/col/col1/index.html": (
                    "<script>var param_1 = {col:1,webid:2,columnid:1,unitid:3};</script>"
                ),
                "/module/web/jpage/dataproxy.jsp": "<html><body>系统繁忙，请稍后再试</body></html>",
            },
            "hanweb",
            "/col/col1/index.html",
            "no column records (expected a Hanweb JCMS column page",
            id="dataproxy-answers-an-error-page",
        ),
    ],
)
async def test_bad_source_is_a_recorded_error_naming_what_was_expected(
    tmp_path, serve_site, pages: dict[str, str], kind: str, path: str, expected: str
) -> None:
    base, _ = await serve_site("bad", pages=pages)
    config = make_config(tmp_path, source(kind, f"{base}{path}"))

    report = (await run_sources(config))["bad"]

    assert report.error is not None and expected in report.error
    assert "internal error" not in report.error
    assert (await source_row(config, "bad")).last_error == report.error


async def test_broken_nesting_and_a_missing_article_are_skipped_then_retried(
    tmp_path, serve_site
) -> None:
    article = (
        # Mismatched heading ends, misnested <b>/<p>, unclosed <p> and <div>s.
        '<html><div class="article"><h3>嘉祥县</h1><h1>农村公路提档升级</h3></div>'
        "<div id=ozoom><p><b>本报讯</b> 嘉祥县今年改造<b>农村公路</p>一百公里。</b>"
        "<p>工程年底完工。"
    )
    pages = {
        "/paperpc/layout/index.html": ENTRY,
        f"{DAY}/node_01.html": pc_page(
            "第01版：要闻",
            '<div class="news"><ul class="news-list">'
            '<li><a href="../../../content/202412/25/content_1.html">农村公路提档升级</a>',
        ),
        f"{DAY}/node_02.html": pc_page(
            "第02版：综合",
            '<div class="news"><ul class="news-list">'
            '<li><a href="../../../content/202412/25/content_2.html">暂缺的文章</a>',
        ),
        f"{CONTENT}/content_1.html": article,
    }
    late: list[str] = []  # the second article's page, once it is published

    async def second_article(request: web.Request) -> web.StreamResponse:
        if not late:
            raise web.HTTPNotFound()
        return web.Response(text=late[0], content_type="text/html")

    base, _ = await serve_site(
        "broken", pages=pages, routes={f"{CONTENT}/content_2.html": second_article}
    )
    config = make_config(tmp_path, source("epaper", f"{base}/paperpc/layout/index.html"))

    report = (await run_sources(config))["bad"]

    assert report.error is None and (report.new, report.skipped) == (1, 1)
    (stored_article,) = (await stored(config)).values()
    assert (stored_article.kicker, stored_article.title) == ("嘉祥县", "农村公路提档升级")
    # Every word of the body, in order, no markup (line breaks follow the misnesting).
    assert (
        stored_article.text.replace("\n", "")
        == "本报讯 嘉祥县今年改造农村公路一百公里。工程年底完工。"
    )
    assert stored_article.page == "第01版：要闻"

    # The missing article appears: its page is read again (not a 304) and it is stored.
    late.append(article.replace("农村公路提档升级", "暂缺的文章"))
    report = (await run_sources(config))["bad"]

    assert report.error is None and report.new == 1
    assert f"{base}{CONTENT}/content_2.html" in await stored(config)


async def test_issue_whose_only_content_is_an_unreadable_pdf_fails_with_the_reason(
    tmp_path, serve_site
) -> None:
    pages = {
        "/paperpc/layout/index.html": ENTRY,
        f"{DAY}/node_01.html": pc_page(
            "第01版：要闻", '<p class="right btn"><a href="../../../attachement/p1.pdf">PDF</a>'
        ),
        f"{DAY}/node_02.html": pc_page("第02版：综合", ""),  # no articles, no file: nothing
        "/paperpc/attachement/p1.pdf": "%PDF-1.7\n garbage without objects",
    }
    base, _ = await serve_site("broken-pdf", pages=pages)
    config = make_config(tmp_path, source("epaper", f"{base}/paperpc/layout/index.html"))

    report = (await run_sources(config))["bad"]

    # Found a page file, extracted nothing: a failing source with the reason, not "0 new".
    assert report.error is not None and report.skipped == 1
    assert "1 page files, 0 bodies: page file not segmented" in report.error
    assert "p1.pdf: not a readable PDF" in report.error
    assert await stored(config) == {}


async def test_bodiless_article_is_retried_although_its_page_answers_304(
    tmp_path, serve_site
) -> None:
    enp = "<!--enpproperty <founder-date>2024-12-25</founder-date> /enpproperty-->"
    nav = "<a id=pageLink href=node_1.htm>第01版：要闻</a><a id=pageLink href=node_2.htm>第02版</a>"
    day = "/html/2024-12/25"
    pages = {
        "/paperindex.htm": refresh(f"{day.lstrip('/')}/node_1.htm"),
        f"{day}/node_1.htm": f"{nav}<a href=content_2.htm>正常文章</a>{enp}",
        # Page 2 is unchanged between runs: the second run gets a 304 for it.
        f"{day}/node_2.htm": f"{nav}<a href=content_1.htm>改版中的文章</a>{enp}",
        f"{day}/content_2.htm": (
            f"<td class=font01>正常文章</td><div id=ozoom><p>正文二。</p></div>{enp}"
        ),
    }
    fixed: list[str] = []

    async def first_article(request: web.Request) -> web.StreamResponse:
        body = (
            fixed[0]
            if fixed
            else "<td class=font01>改版中的文章</td><div class=newbody>正文一。</div>"
        )
        return web.Response(text=body, content_type="text/html")

    base, hits = await serve_site(
        "retry", pages=pages, routes={f"{day}/content_1.htm": first_article}
    )
    config = make_config(tmp_path, source("epaper", f"{base}/paperindex.htm"))

    report = (await run_sources(config))["bad"]
    assert report.error is None and (report.new, report.skipped) == (1, 1)

    fixed.append(f"<td class=font01>改版中的文章</td><div id=ozoom><p>正文一。</p></div>{enp}")
    report = (await run_sources(config))["bad"]

    assert report.error is None and (report.new, report.skipped) == (1, 0)
    assert f"{base}{day}/content_1.htm" in await stored(config)
    assert hits.count("content_1.htm") == 2 and hits.count("content_2.htm") == 1
    assert hits.count("node_2.htm") == 2  # the second time answered 304
