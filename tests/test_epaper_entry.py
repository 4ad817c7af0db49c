"""A dated e-paper URL copied from the browser is followed as the paper's entry.

``…/nfdaily/html/202511/22/node_A01.html`` names one issue; configured as is, it must not
be fetched forever ("0 new", ok). The watcher puts today's date in, steps back to the
newest issue that is out, and ``check-config``/``sources`` tell the user so.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from aiohttp import web

from daemon.config import parse_config
from tests.cli_runner import run_cli
from tests.sites import page_response, run_sources, stored
from watchers.dates import SITE_TZ

TODAY = datetime.now(SITE_TZ).date()


class Paper:
    """南方日报-shaped issues (``html/YYYYMM/DD/node_A01.html``) for the given days; the
    articles live on another host name (as on epaper.nfnews.com), here ``localhost``."""

    def __init__(self, days: list[date]) -> None:
        self.days = days
        self.article_host = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        for day in self.days:
            folder = f"/nfdaily/html/{day:%Y%m}/{day:%d}"
            enp = f"<!--enpproperty <founder-date>{day}</founder-date> /enpproperty-->"
            if request.path == f"{folder}/node_A01.html":
                links = "".join(
                    f"<a href={self.article_host}{folder}/content_{day:%m%d}{n}.html>"
                    f"<div id=mp{n}>第{n}条</div></a>"
                    for n in (1, 2)
                )
                body = f"<a id=pageLink href=node_A01.html>A01版：要闻</a>{links}{enp}"
                return page_response(request, body.encode(), "text/html")
            for n in (1, 2):
                if request.path == f"{folder}/content_{day:%m%d}{n}.html":
                    body = (
                        f"<founder-title>{day:%m月%d日}第{n}条</founder-title>"
                        f"<div id=ozoom><p>本报广州讯 {day} 第{n}条正文。</p></div>{enp}"
                    )
                    return page_response(request, body.encode(), "text/html")
        raise web.HTTPNotFound()


async def test_dated_url_follows_the_newest_issue_and_says_so(tmp_path: Path, serve_app) -> None:
    old, latest = TODAY - timedelta(days=4), TODAY - timedelta(days=1)  # today's not out yet
    paper = Paper([old, latest])
    app = web.Application()
    app.router.add_get("/{tail:.*}", paper.handle)
    base = await serve_app(app)
    paper.article_host = base.replace("127.0.0.1", "localhost")
    dated = f"{base}/nfdaily/html/{old:%Y%m}/{old:%d}/node_A01.html"
    text = f"""
[storage]
url = "sqlite:///{tmp_path / "t.db"}"

[fetch]
per_host_delay = "0s"

[[sources]]
name = "nfdaily"
kind = "epaper"
url = "{dated}"
"""
    path = tmp_path / "config.toml"
    path.write_text(text, "utf-8")

    config = parse_config(text, path)

    check = await run_cli("check-config", "--config", str(path))
    assert check.code == 0, check.err
    checked = check.out
    report = (await run_sources(config))["nfdaily"]
    sources = await run_cli("sources", "--config", str(path))

    template = f"{base}/nfdaily/html/YYYYMM/DD/node_A01.html"
    assert f"note: nfdaily: {dated} is the issue of {old}" in checked
    assert f"following the newest issue instead: {template}" in checked
    assert report.error is None and report.new == 2
    articles = await stored(config)
    folder = f"{paper.article_host}/nfdaily/html/{latest:%Y%m}/{latest:%d}"
    assert sorted(articles) == [f"{folder}/content_{latest:%m%d}{n}.html" for n in (1, 2)]
    assert all(a.page == "A01版：要闻" for a in articles.values())
    assert "nfdaily" in sources.out and f"note: nfdaily: {dated} is the issue of" in sources.out
    assert " ok " in sources.out.splitlines()[1]
