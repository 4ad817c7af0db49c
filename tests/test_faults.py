"""Fault injection against local servers: every fault is recorded on its source, the
daemon and the other sources carry on, and nothing already stored is lost."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiohttp import web

from daemon.runtime import open_pipeline
from daemon.service import Daemon
from storage.types import utcnow
from tests.sites import make_config, run_sources, source_row, stored

LIST = '<html><body><ul class="list">{items}</ul></body></html>'
ARTICLE = (
    '<html><head><meta charset="utf-8"></head>'
    '<body><h1>{t}</h1><div id="zoom"><p>{t}的正文。</p></div>'
)


def listing(*paths: str) -> str:
    return LIST.format(items="".join(f'<li><a href="{p}">标题{p}</a></li>' for p in paths))


class FaultySite:
    """One route per fault; ``redesigned`` flips the list page to a layout with no items."""

    def __init__(self) -> None:
        self.redesigned = False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/slow", self.slow)
        app.router.add_get("/e500", self.e500)
        app.router.add_get("/e429", self.too_many)
        app.router.add_get("/big", self.big)
        app.router.add_get("/loop", self.loop)
        app.router.add_get("/wrongmeta", self.wrong_meta)
        app.router.add_get("/truncated", self.truncated)
        app.router.add_get("/redesign", self.redesign)
        app.router.add_get("/a/{n}", self.article)
        return app

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.Response(text=listing("/a/slow"), content_type="text/html")

    async def e500(self, request: web.Request) -> web.Response:
        return web.Response(status=500, text="error")

    async def too_many(self, request: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "7200"})

    async def big(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        for _ in range(40):  # 40 × 8 KB, no Content-Length: the cap must stop the stream
            await response.write(b"<p>" + b"x" * 8192 + b"</p>")
        return response

    async def loop(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def wrong_meta(self, request: web.Request) -> web.Response:
        html = '<meta charset="utf-8">' + listing("/a/gbk1")
        return web.Response(body=html.encode("gbk"), content_type="text/html")

    async def truncated(self, request: web.Request) -> web.Response:
        cut = '<html><body><ul class="list"><li><a href="/a/t1">标题一</a></li><li><a hr'
        return web.Response(text=cut, content_type="text/html")

    async def redesign(self, request: web.Request) -> web.Response:
        if self.redesigned:
            return web.Response(
                text='<div class="new-layout"><a href="/a/r1">标题</a></div>',
                content_type="text/html",
            )
        return web.Response(text=listing("/a/r1", "/a/r2"), content_type="text/html")

    async def article(self, request: web.Request) -> web.Response:
        n = request.match_info["n"]
        if n == "gbk1":
            page = '<meta charset="utf-8"><h1>朱镕基与王喆</h1><div id="zoom"><p>正文镕喆</p></div>'
            return web.Response(body=page.encode("gbk"), content_type="text/html")
        return web.Response(text=ARTICLE.format(t=f"文章{n}"), content_type="text/html")


def html_source(name: str, url: str) -> str:
    return f"""
[[sources]]
name = "{name}"
kind = "html"
url = "{url}"
selectors = {{ item = "ul.list a", title = "h1", text = "#zoom" }}
fail_alert_after = 2
"""


async def alert_receiver(serve_app) -> tuple[str, list[dict]]:
    posts: list[dict] = []

    async def receive(request: web.Request) -> web.Response:
        posts.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/alert", receive)
    base = await serve_app(app)
    return base.replace("http://", "json://") + "/alert", posts


async def test_faults_are_recorded_and_cost_nothing_else(tmp_path, serve_app, serve_site):
    site = FaultySite()
    faulty = await serve_app(site.app())
    healthy, _ = await serve_site(
        "healthy",
        pages={
            "/list": listing("/ok1"),
            "/ok1": ARTICLE.format(t="健康源文章"),
        },
    )
    alert_url, alerts = await alert_receiver(serve_app)
    names = ["slow", "e500", "e429", "big", "loop", "wrongmeta", "truncated", "redesign"]
    sources = "".join(html_source(n, f"{faulty}/{n}") for n in names)
    sources += html_source("healthy", f"{healthy}/list")
    config = make_config(
        tmp_path,
        sources,
        fetch='max_bytes = "100KB"',
        extra=f"""
[daemon]
admin_channel = "ops"

[[channels]]
name = "ops"
url = "{alert_url}"
""",
    )
    reports = await run_sources(config)
    assert "timed out" in (reports["slow"].error or "")
    assert "HTTP 500" in (reports["e500"].error or "")
    assert "HTTP 429" in (reports["e429"].error or "")
    assert "cap" in (reports["big"].error or "")
    assert "redirects" in (reports["loop"].error or "")
    assert reports["wrongmeta"].error is None and reports["wrongmeta"].new == 1
    assert reports["truncated"].error is None and reports["truncated"].new == 1
    assert reports["redesign"].error is None and reports["redesign"].new == 2
    assert reports["healthy"].error is None and reports["healthy"].new == 1
    articles = await stored(config)
    assert articles[f"{faulty}/a/gbk1"].title == "朱镕基与王喆"
    assert articles[f"{faulty}/a/gbk1"].text == "正文镕喆"
    # Retry-After is honoured: the next attempt is no sooner than the server asked.
    row = await source_row(config, "e429")
    assert row.next_run_at is not None
    assert row.next_run_at >= utcnow() + timedelta(seconds=7100)
    assert row.failures_in_row == 1 and "HTTP 429" in (row.last_error or "")

    # The site is redesigned: zero articles is an alarm, not "no news"; stored ones stay.
    site.redesigned = True
    reports = await run_sources(config)
    assert "no article links" in (reports["redesign"].error or "")
    assert reports["healthy"].error is None
    assert len(await stored(config)) == len(articles)
    subjects = [post["title"] for post in alerts]
    assert any("redesign" in s and "没有文章" in s for s in subjects)
    # Two failures in a row (fail_alert_after = 2): one alert per failing source…
    for name in ("slow", "e500", "e429", "big", "loop"):
        assert sum(f"源 {name} " in s for s in subjects) == 1, name
    # …and not again while the incident lasts.
    count = len(alerts)
    await run_sources(config, "e500", "redesign")
    assert len(alerts) == count
    row = await source_row(config, "e500")
    assert row.failures_in_row == 3 and row.alerted_at is not None
    # Recovery closes the incident and says so.
    site.redesigned = False
    assert (await run_sources(config, "redesign"))["redesign"].error is None
    assert "已恢复" in alerts[-1]["title"]
    assert (await source_row(config, "redesign")).alerted_at is None


async def test_backoff_delays_only_the_failing_job(tmp_path, serve_app, serve_site):
    site = FaultySite()
    faulty = await serve_app(site.app())
    healthy, _ = await serve_site("healthy", pages={"/list": listing("/ok1"), "/ok1": ARTICLE})
    config = make_config(
        tmp_path, html_source("e500", f"{faulty}/e500") + html_source("ok", f"{healthy}/list")
    )
    async with open_pipeline(config) as pipeline:
        daemon = Daemon(config, pipeline)
        daemon.build_jobs()
        daemon.scheduler.start(paused=True)
        try:
            before = daemon.scheduler.get_job("source:ok").next_run_time
            for job_id in ("source:e500", "source:ok"):
                await daemon.scheduler.get_job(job_id).func()
            failing = daemon.scheduler.get_job("source:e500").next_run_time
            assert failing - before >= timedelta(seconds=1700)  # interval 30 min, then doubling
            assert daemon.scheduler.get_job("source:ok").next_run_time == before
            await daemon.scheduler.get_job("source:e500").func()
            second = daemon.scheduler.get_job("source:e500").next_run_time
            assert second - failing >= timedelta(seconds=1700)  # 1 h after the 2nd failure
        finally:
            daemon.scheduler.shutdown(wait=False)
    row = await source_row(config, "e500")
    assert row.failures_in_row == 2
