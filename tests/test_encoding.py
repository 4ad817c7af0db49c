"""A source's ``encoding`` key is honoured by every kind, page files and ``tingfeng segment``.

Big5 (traditional Chinese, Hong Kong/Taiwan sites) is the case the guesses get wrong:
without a declared charset its bytes are not UTF-8 and GB18030 "succeeds" on them with
nonsense, so only the configured ``encoding`` can read them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web

from daemon.cli import main
from tests.sites import make_config, run_sources, site_app, stored
from tests.test_epaper_pagefile import TEXT_PATH, epaper_source, site_pages
from watchers.decode import decode

TITLE = "縣政府部署液化石油氣安全檢查"
BODY = "本報訊 為加強瓶裝液化氣安全管理，縣政府定於五月下旬開展專項檢查，各鄉鎮要逐戶排查用氣隱患。"
PAGE_TEXT = f"{TITLE}\n\n{BODY}\n"


def test_big5_is_misread_without_the_key() -> None:
    """The premise of the tests below: the guesses alone get Big5 wrong."""
    data = PAGE_TEXT.encode("big5")
    assert TITLE not in decode(data)
    assert TITLE in decode(data, override="big5")


def source(kind: str, url: str, extra: str = "") -> str:
    return f"""
[[sources]]
name = "hk"
kind = "{kind}"
url = "{url}"
encoding = "big5"
{extra}
"""


async def test_feed_source_reads_big5(tmp_path: Path, serve_app) -> None:  # type: ignore[no-untyped-def]
    feed = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>hk</title>
<item><title>{TITLE}</title><link>http://hk.example/1.html</link>
<description>{BODY}</description></item></channel></rss>"""
    app, _ = site_app("", encoding="big5", pages={"/feed.xml": feed.replace('"1.0"?', '"1.0" ?')})
    base = await serve_app(app)
    config = make_config(tmp_path, source("feed", f"{base}/feed.xml"))

    report = (await run_sources(config))["hk"]

    assert report.error is None and report.new == 1
    (article,) = (await stored(config)).values()
    assert (article.title, article.text) == (TITLE, BODY)


async def test_html_source_reads_big5(tmp_path: Path, serve_app) -> None:  # type: ignore[no-untyped-def]
    pages = {
        "/list.html": '<html><body><ul><li><a href="/a1.html">通知</a></li></ul></body></html>',
        "/a1.html": f"<html><body><h1>{TITLE}</h1><div id='zoom'><p>{BODY}</p></div></body></html>",
    }
    app, _ = site_app("", encoding="big5", pages=pages)
    base = await serve_app(app)
    extra = 'selectors = { item = "li a", title = "h1", text = "#zoom" }'
    config = make_config(tmp_path, source("html", f"{base}/list.html", extra))

    report = (await run_sources(config))["hk"]

    assert report.error is None and report.new == 1, report.error
    (article,) = (await stored(config)).values()
    assert (article.title, article.text) == (TITLE, BODY)


async def test_hanweb_source_reads_big5(tmp_path: Path, serve_app) -> None:  # type: ignore[no-untyped-def]
    """A Hanweb column and its article in Big5, no charset in the header or the page."""
    record = f'<li><a href="/art/2024/5/20/art_1_1.html" title="{TITLE}">{TITLE}</a></li>'
    pages = {
        "/col/col1/index.html": (
            "<html><head><title>通知公告</title></head><body><div id='1'>"
            '<script type="text/xml"><datastore><recordset>'
            f"<record><![CDATA[{record}]]></record>"
            "</recordset></datastore></script></div></body></html>"
        ),
        "/art/2024/5/20/art_1_1.html": (
            f'<html><head><meta name="ArticleTitle" content="{TITLE}"></head><body>'
            f"<!--ContentStart--><div id='zoom'><p>{BODY}</p></div><!--ContentEnd-->"
            "</body></html>"
        ),
    }
    app, _ = site_app("", encoding="big5", pages=pages)
    base = await serve_app(app)
    config = make_config(tmp_path, source("hanweb", f"{base}/col/col1/index.html"))

    report = (await run_sources(config))["hk"]

    assert report.error is None and report.new == 1, report.error
    (article,) = (await stored(config)).values()
    assert (article.title, article.text) == (TITLE, BODY)


async def test_text_source_reads_big5(tmp_path: Path, serve_app) -> None:  # type: ignore[no-untyped-def]
    app, _ = site_app("", encoding="big5", pages={"/page.txt": PAGE_TEXT})
    base = await serve_app(app)
    config = make_config(tmp_path, source("text", f"{base}/page.txt"))

    report = (await run_sources(config))["hk"]

    assert report.error is None, report.error
    assert any(TITLE in a.title + a.text for a in (await stored(config)).values())


async def test_epaper_page_file_reads_big5(tmp_path: Path, serve_site) -> None:  # type: ignore[no-untyped-def]
    async def page_text(request: web.Request) -> web.StreamResponse:
        return web.Response(body=PAGE_TEXT.encode("big5"), content_type="text/plain")

    files = f'<a href="../../../..{TEXT_PATH}">本版文字</a>'
    base, _ = await serve_site("text-only", pages=site_pages(files), routes={TEXT_PATH: page_text})
    config = make_config(tmp_path, epaper_source(base) + 'encoding = "big5"\n')

    report = (await run_sources(config))["县报"]

    assert report.error is None, report.error
    # The e-paper's own pages are UTF-8: the override does not garble them.
    articles = (await stored(config)).values()
    assert any(TITLE in a.title + a.text for a in articles)
    assert {a.page for a in articles} == {"第01版：县域"}


def test_segment_command_reads_big5(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.txt"
    page.write_bytes(PAGE_TEXT.encode("big5"))

    assert main(["segment", str(page), "--format", "text", "--encoding", "big5"]) == 0

    assert TITLE in capsys.readouterr().out
