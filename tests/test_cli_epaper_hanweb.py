"""E-paper and Hanweb sources driven through the CLI, as an operator runs them.

``python -m daemon once`` against a local Founder pc-layout paper and a local Hanweb
county site, alerts caught by a ``json://`` catcher; then ``tingfeng sources``.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web

from daemon.config import parse_config
from tests.cli_runner import run_cli
from tests.conftest import Catcher, SiteFactory
from tests.sites import SITES, Hits, page_response, source_row

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The daemon must show Asia/Shanghai whatever the machine's own zone is.
FOREIGN_TZ = {"TZ": "America/New_York"}

CONFIG = """
[daemon]
# fixture pages are dated 2024: alert them on the first run too
first_run_window = "0s"

[storage]
url = "sqlite:///{db}"

[fetch]
per_host_delay = "0s"
{sources}
[[topics]]
name = "防汛"
query = "防汛"
channels = ["catch"]

[[channels]]
name = "catch"
url = "{catch}"
"""


def source(name: str, kind: str, url: str, extra: str = "") -> str:
    return f'\n[[sources]]\nname = "{name}"\nkind = "{kind}"\nurl = "{url}"\n{extra}\n'


async def hanweb_site(serve_site: SiteFactory) -> tuple[str, Hits]:
    """The Hanweb fixture site, its dataproxy.jsp answering from dataproxy.xml."""

    async def dataproxy(request: web.Request) -> web.StreamResponse:
        xml = (SITES / "hanweb" / "dataproxy.xml").read_bytes()
        return page_response(request, xml, "text/xml")

    return await serve_site("hanweb", routes={"/module/web/jpage/dataproxy.jsp": dataproxy})


async def test_once_stores_epaper_and_hanweb_articles_and_alerts_once(
    tmp_path: Path,
    serve_site: SiteFactory,
    catcher: Catcher,
    write_config: Callable[[str], Path],
) -> None:
    paper, paper_hits = await serve_site("pc")
    county, county_hits = await hanweb_site(serve_site)
    sources = source(
        "jnrb", "epaper", f"{paper}/paperpc/layout/index.html", 'region = "济宁"'
    ) + source("jiaxiang", "hanweb", f"{county}/col/col1234/index.html", 'region = "嘉祥"')
    config = write_config(CONFIG.format(db=tmp_path / "t.db", sources=sources, catch=catcher.url))

    first = await run_cli("once", "--config", str(config))

    assert first.code == 0, first.err
    assert "jnrb: 3 new, 1 matched" in first.out
    assert "jiaxiang: 3 new, 1 matched" in first.out and "1 article page failed" in first.out
    assert "alerts: 2 sent, 0 failed" in first.out
    assert sorted(m["message"].split("\n")[0] for m in catcher.received) == [
        "全市防汛工作会议召开",
        "嘉祥县2024年防汛抗旱应急预案",
    ]
    with sqlite3.connect(tmp_path / "t.db") as db:
        rows = db.execute(
            "select kicker, title, page, published_at, place from articles where url = ?",
            (f"{paper}/paperpc/content/content_166730.html",),
        ).fetchall()
        notice = db.execute(
            "select title, published_at, place from articles where url like '%art_1234_1003%'"
        ).fetchone()
    kicker, title, page, published, place = rows[0]
    assert (kicker, title, page, place) == (
        "打通“最后一公里”",
        "济宁港航内河集装箱航线开通",
        "第01版：要闻",
        "济宁",
    )
    assert published.startswith("2024-12-24 16:00")  # the issue day, China midnight, in UTC
    assert notice[0] == "关于开展瓶装液化气安全检查的通知" and notice[2] == "嘉祥"
    assert notice[1].startswith("2024-05-20 01:30")  # 发布日期 09:30 China time

    exported = await run_cli("export", "--config", str(config), "--format", "csv")
    by_url = {row["url"]: row for row in csv.DictReader(io.StringIO(exported.out))}
    front = by_url[f"{paper}/paperpc/content/content_166730.html"]
    assert front["page"] == "第01版：要闻"
    assert (
        front["pdf"]
        == f"{paper}/paperpc/attachement/202412/25/8f0c2a1e-1b2c-4d5e-9f00-aa11bb22cc33.pdf"
    )
    assert [(r["page"], r["pdf"]) for u, r in by_url.items() if "/art/" in u] == [("", "")] * 3

    articles_fetched = paper_hits.count("/content/"), county_hits.count("/art/")
    second = await run_cli("once", "--config", str(config))

    assert second.code == 0, second.err
    assert "jnrb: 0 new" in second.out and "jiaxiang: 0 new" in second.out
    assert "alerts: 0 sent" in second.out
    assert len(catcher.received) == 2
    # Nothing fetched again but the one bodiless Hanweb article, which is on the retry list.
    assert (paper_hits.count("/content/"), county_hits.count("/art/") - 1) == articles_fetched


ROW = re.compile(
    r"^(?P<name>\S+)\s+(?P<kind>\S+)\s+(?P<state>\S+)\s+"
    r"(?P<success>\d{4}-\d\d-\d\d \d\d:\d\d|-)\s+(?P<fails>\d+)\s+"
    r"(?P<next>\d{4}-\d\d-\d\d \d\d:\d\d|-)\s+(?P<age>\d+[smhd] ago|-)\s*(?P<error>.*)$"
)


def local(value: datetime | None) -> str:
    assert value is not None
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


async def test_sources_shows_health_in_shanghai_time(
    tmp_path: Path,
    serve_site: SiteFactory,
    catcher: Catcher,
    write_config: Callable[[str], Path],
) -> None:
    paper, _ = await serve_site("pc")
    sources = (
        source("paper", "epaper", f"{paper}/paperpc/layout/index.html")
        + source("county", "hanweb", f"{paper}/col/col9/index.html")  # 404: failing
        + source("parked", "epaper", f"{paper}/paperindex.htm", "enabled = false")
    )
    text = CONFIG.format(db=tmp_path / "t.db", sources=sources, catch=catcher.url)
    path = write_config(text)
    for _ in range(2):
        assert (await run_cli("once", "--config", str(path), env=FOREIGN_TZ)).code == 0

    result = await run_cli("sources", "--config", str(path), env=FOREIGN_TZ)

    assert result.code == 0, result.err
    rows = {}
    for line in result.out.splitlines()[1:]:
        match = ROW.match(line)
        assert match, line
        rows[match["name"]] = match
    config = parse_config(text, path)
    healthy, failing = await source_row(config, "paper"), await source_row(config, "county")
    assert rows["paper"]["state"] == "ok" and rows["paper"]["fails"] == "0"
    assert rows["paper"]["success"] == local(healthy.last_success_at)
    assert rows["paper"]["error"] == ""
    assert rows["county"]["state"] == "failing" and rows["county"]["fails"] == "2"
    assert rows["county"]["success"] == "-"
    assert rows["county"]["next"] == local(failing.next_run_at)
    assert "/col/col9/index.html: HTTP 404" in rows["county"]["error"]
    parked = rows["parked"]
    assert (parked["state"], parked["success"], parked["fails"], parked["next"]) == (
        "disabled",
        "-",
        "0",
        "-",
    )
    assert parked["error"] == ""
