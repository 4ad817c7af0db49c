"""Catch-up after downtime: missed issue days are fetched once the site is back."""

from __future__ import annotations

from datetime import date, timedelta

from aiohttp import web

from tests.sites import make_config, page_response, run_sources, source_row, stored

FIRST = date(2024, 12, 20)


def classic_issue(day: date) -> dict[str, str]:
    """One classic-Founder issue of two pages, one article each, for ``day``."""
    d = f"{day:%Y-%m}/{day:%d}"
    enp = f"<!--enpproperty <founder-date>{day.isoformat()}</founder-date> /enpproperty-->"
    nav = (
        "<a id=pageLink href=node_1.htm>第01版：要闻</a>"
        "<a id=pageLink href=node_2.htm>第02版：综合</a>"
    )
    pages = {}
    for n in (1, 2):
        article = f"{day:%m%d}{n}"
        pages[f"/html/{d}/node_{n}.htm"] = (
            f"{nav}<a href=content_{article}.htm>标题{article}</a>{enp}"
        )
        pages[f"/html/{d}/content_{article}.htm"] = (
            f"<table><tr><td class=font01>{day:%m月%d日}第{n}版新闻</td></tr></table>"
            f"<div id=ozoom><p>{day.isoformat()} 第{n}版正文。</p></div>{enp}"
        )
    return pages


class Paper:
    """A paper whose published days and outage the test controls."""

    def __init__(self) -> None:
        self.days: list[date] = []
        self.down = False

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.down:
            raise web.HTTPInternalServerError()
        if request.path == "/paperindex.htm":
            latest = max(self.days)
            target = f"html/{latest:%Y-%m}/{latest:%d}/node_1.htm"
            return web.Response(
                text=f'<meta http-equiv="refresh" content="0; URL={target}">',
                content_type="text/html",
            )
        pages: dict[str, str] = {}
        for day in self.days:
            pages.update(classic_issue(day))
        if request.path not in pages:
            raise web.HTTPNotFound()
        return page_response(request, pages[request.path].encode("gbk"), "text/html")


async def serve_paper(tmp_path, serve_app, catchup_days):
    """A paper whose first issue is out, and a config watching it."""
    paper = Paper()
    paper.days = [FIRST]
    app = web.Application()
    app.router.add_get("/{tail:.*}", paper.handle)
    base = await serve_app(app)
    config = make_config(
        tmp_path,
        f"""
[[sources]]
name = "paper"
kind = "epaper"
url = "{base}/paperindex.htm"
catchup_days = {catchup_days}
""",
    )
    return paper, config


async def test_three_missed_issues_are_fetched_when_the_site_is_back(tmp_path, serve_app):
    paper, config = await serve_paper(tmp_path, serve_app, 5)
    assert (await run_sources(config))["paper"].new == 2
    # Down for three days: runs fail, nothing stored is lost, the state stays put.
    paper.down = True
    for _ in range(3):
        assert (await run_sources(config))["paper"].error is not None
    assert len(await stored(config)) == 2
    assert (await source_row(config, "paper")).state == {"last_issue": "2024-12-20"}
    # Back, with three issues published meanwhile (21st, 22nd, 23rd) — no paper on the 24th
    # is not a problem — and today's (25th).
    paper.down = False
    paper.days = [FIRST + timedelta(days=n) for n in (0, 1, 2, 3, 5)]
    report = (await run_sources(config))["paper"]
    assert report.error is None and report.new == 8
    titles = sorted(a.title for a in (await stored(config)).values())
    for day in ("12月21日", "12月22日", "12月23日", "12月25日"):
        assert f"{day}第1版新闻" in titles and f"{day}第2版新闻" in titles
    assert (await source_row(config, "paper")).state == {"last_issue": "2024-12-25"}


async def test_catch_up_stops_at_catchup_days(tmp_path, serve_app):
    paper, config = await serve_paper(tmp_path, serve_app, 2)
    await run_sources(config)
    paper.days = [FIRST + timedelta(days=n) for n in range(6)]
    report = (await run_sources(config))["paper"]
    # 12-25 back to 12-23 only: three issues of two articles.
    assert report.new == 6
    assert not any("12月21日" in a.title for a in (await stored(config)).values())
