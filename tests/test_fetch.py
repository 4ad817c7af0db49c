"""Fetcher and decoding: politeness, headers, conditional GET, URL identity, encodings."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from storage.canonical import url_key
from tests.sites import make_config, page_response, run_sources, stored
from watchers.decode import decode
from watchers.fetch import Fetcher
from watchers.settings import FetchConfig

NAMES = "朱镕基 王喆 液化石油气"


def test_decode_order_and_wrong_guesses():
    gbk = f"<html><head><title>{NAMES}</title></head></html>".encode("gbk")
    assert NAMES in decode(gbk)  # no label anywhere: strict UTF-8 fails, GB18030 wins
    assert NAMES in decode(gbk, content_type="text/html; charset=GB2312")  # 镕 is not GB2312
    assert NAMES in decode(b'<meta charset="utf-8">' + gbk)  # the meta lies
    assert NAMES in decode(gbk, content_type="text/html; charset=iso-8859-1")  # mojibake
    utf8 = f'<meta charset="gbk"><p>{NAMES}</p>'.encode()
    assert NAMES in decode(utf8)  # GB18030 would "succeed" on these bytes: refused
    assert NAMES in decode(gbk, override="gbk")
    assert decode("\ufeff标题".encode()) == "标题"


async def test_one_host_in_sequence_at_least_delay_apart(serve_site):
    """The k-th request to a host arrives no sooner than k delays after the first was asked for.

    Each request's turn comes a delay after the previous one's; a loaded machine can
    send a request late (shortening the next gap as seen by the server), never early, so
    this bound holds however busy the machine is. The tolerance is the timer's granularity.
    """
    delay = 0.3
    base, hits = await serve_site("polite", pages={f"/p{i}": "<p>x</p>" for i in range(4)})
    async with Fetcher(FetchConfig(per_host_delay=delay)) as fetcher:
        view = fetcher.for_run(None)
        asked = time.monotonic()
        await asyncio.gather(*(view.get(f"{base}/p{i}") for i in range(4)))
    times = sorted(t for _, _, t in hits.log)
    assert len(times) == 4
    earliest = [asked + k * delay - 0.001 for k in range(4)]
    assert all(t >= bound for t, bound in zip(times, earliest, strict=True)), [
        round(t - asked, 3) for t in times
    ]


async def test_browser_like_user_agent_is_sent(serve_app):
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("User-Agent", ""))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", handler)
    base = await serve_app(app)
    async with Fetcher(FetchConfig(per_host_delay=0)) as fetcher:
        await fetcher.for_run(None).get(base + "/")
    assert seen[0].startswith("Mozilla/5.0") and "Chrome" in seen[0]


async def test_conditional_get_and_one_article_by_two_urls(tmp_path, serve_app):
    conditional: list[str | None] = []
    article = '<h1>同一篇文章</h1><div id="zoom"><p>正文。</p></div>'
    listing = (
        '<ul class="l"><li><a href="/art?id=1&utm_source=wx">一</a></li>'
        '<li><a href="/art?utm_source=feed&id=1#">一（转载）</a></li></ul>'
    )

    async def handler(request: web.Request) -> web.Response:
        if request.path == "/list":
            conditional.append(request.headers.get("If-None-Match"))
            return page_response(request, listing.encode(), "text/html")
        return page_response(request, article.encode(), "text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    base = await serve_app(app)
    config = make_config(
        tmp_path,
        f"""
[[sources]]
name = "site"
kind = "html"
url = "{base}/list"
selectors = {{ item = "ul.l a", title = "h1", text = "#zoom" }}
""",
    )
    assert (await run_sources(config))["site"].new == 1  # one article by two URLs
    assert url_key(f"{base}/art?id=1&utm_source=wx") == url_key(f"{base}/art?id=1")
    report = (await run_sources(config))["site"]
    assert report.error is None and report.new == 0
    assert conditional[0] is None and conditional[1] is not None  # If-None-Match sent: 304
    assert len(await stored(config)) == 1
