"""The whole pipeline through the CLI: local site → once → stored, matched, alerted once."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import openpyxl

from tests.cli_runner import run_cli
from tests.conftest import Catcher, Site

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>县融媒体</title><link>{BASE}/</link>
<item><title>我县开展燃气安全大检查</title><link>{BASE}/feed/1.html</link>
<pubDate>Mon, 20 May 2024 02:30:00 GMT</pubDate>
<description>本报讯 县应急管理局对全县瓶装液
化石油气经营网点开展检查，排查隐患12处。</description></item>
<item><title>县医院开展义诊活动</title><link>{BASE}/feed/2.html</link>
<pubDate>Mon, 20 May 2024 04:00:00 GMT</pubDate>
<description>专家深入乡镇开展义诊，提供健康咨询服务。</description></item>
</channel></rss>"""

LIST = """<html><head><meta charset="utf-8"></head><body><ul class="list">
<li><a href="/art/1.html">市场监管局检查充装站</a></li>
<li><a href="/art/2.html">小麦夏收工作有序推进</a></li>
</ul></body></html>"""

ART1 = """<html><body><h1>市场监管局检查充装站</h1><div class="date">2024-05-21 10:00</div>
<div id="zoom"><p>县市场监管局对辖区液化石油气充装站开展安全检查。</p></div></body></html>"""
ART2 = """<html><body><h1>小麦夏收工作有序推进</h1><div class="date">2024-05-21 11:00</div>
<div id="zoom"><p>全县已收获小麦五十万亩。</p></div></body></html>"""

CONFIG = """
[daemon]
# fixture pages are dated 2024: alert them on the first run too
first_run_window = "0s"

[storage]
url = "sqlite:///{db}"

[fetch]
per_host_delay = "0s"

[[sources]]
name = "feed-src"
kind = "feed"
url = "{base}/feed.xml"

[[sources]]
name = "html-src"
kind = "html"
url = "{base}/list.html"
selectors = {{ item = "ul.list a", title = "h1", text = "#zoom", date = ".date" }}
{extra_sources}
[[topics]]
name = "燃气"
query = "液化石油气"
channels = ["catch"]

[[channels]]
name = "catch"
url = "{catch}"
"""


def build_site(site: Site) -> None:
    site.add("/feed.xml", FEED, "application/rss+xml")
    site.add("/list.html", LIST)
    site.add("/art/1.html", ART1)
    site.add("/art/2.html", ART2)


def config_text(tmp_path: Path, site: Site, catch: str, extra_sources: str = "") -> str:
    return CONFIG.format(
        db=tmp_path / "t.db", base=site.base, catch=catch, extra_sources=extra_sources
    )


async def test_once_stores_matches_and_alerts_exactly_once(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    build_site(site)
    config = write_config(config_text(tmp_path, site, catcher.url))

    first = await run_cli("once", "--config", str(config))
    assert first.code == 0, first.err
    titles = sorted(m["message"].split("\n")[0] for m in catcher.received)
    # the wrapped 液\n化石油气 in the feed and the plain one on the HTML site both match
    assert titles == ["市场监管局检查充装站", "我县开展燃气安全大检查"]
    assert all(m["title"] == "[听风] 燃气" for m in catcher.received)

    with sqlite3.connect(tmp_path / "t.db") as db:
        assert db.execute("select count(*) from articles").fetchone()[0] == 4
        assert db.execute("select count(*) from deliveries where status='sent'").fetchone()[0] == 2

    second = await run_cli("once", "--config", str(config))
    assert second.code == 0, second.err
    assert len(catcher.received) == 2
    assert "0 new" in second.out


async def test_unreachable_source_is_reported_and_others_still_run(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    build_site(site)
    dead = '\n[[sources]]\nname = "dead"\nkind = "feed"\nurl = "http://127.0.0.1:9/feed.xml"\n'
    config = write_config(config_text(tmp_path, site, catcher.url, dead))

    result = await run_cli("once", "--config", str(config))

    assert result.code == 0, result.err
    assert "dead: FAILED" in result.out and "cannot connect" in result.out
    assert "Traceback" not in result.err
    assert len(catcher.received) == 2
    health = await run_cli("sources", "--config", str(config))
    assert health.code == 0
    dead_line = next(line for line in health.out.splitlines() if line.startswith("dead "))
    assert "failing" in dead_line and "cannot connect" in dead_line


async def test_failed_delivery_stays_owed_and_is_retried(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    build_site(site)
    config = write_config(config_text(tmp_path, site, catcher.url))
    catcher.fail_next = 100

    first = await run_cli("once", "--config", str(config))
    assert first.code == 0
    assert "2 failed" in first.out
    with sqlite3.connect(tmp_path / "t.db") as db:
        rows = db.execute("select status, attempts, last_error from deliveries").fetchall()
        assert [r[0] for r in rows] == ["failed", "failed"]
        assert all(r[1] == 1 and r[2] for r in rows)
        # make the retry due now instead of after the backoff
        db.execute("update deliveries set next_attempt_at = '2000-01-01 00:00:00'")

    catcher.fail_next = 0
    second = await run_cli("once", "--config", str(config))
    assert second.code == 0
    assert "2 sent" in second.out
    assert len(catcher.received) == 2


async def test_feed_that_is_not_xml_is_a_source_error(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    build_site(site)
    site.add("/feed.xml", "<html><body>维护中</body></html>")
    site.add("/list.html", "<html><body></body></html>")
    config = write_config(config_text(tmp_path, site, catcher.url))

    result = await run_cli("once", "--config", str(config))

    assert result.code == 0
    assert "feed-src: FAILED" in result.out and "not an RSS/Atom feed" in result.out
    assert "html-src: FAILED" in result.out and "no article links" in result.out
    assert "Traceback" not in result.err


async def test_export_lists_articles_with_topics_and_clusters(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    build_site(site)
    config = write_config(config_text(tmp_path, site, catcher.url))
    assert (await run_cli("once", "--config", str(config))).code == 0

    result = await run_cli("export", "--config", str(config))

    records = [json.loads(line) for line in result.out.splitlines()]
    assert len(records) == 4
    keys = {
        "id",
        "source",
        "url",
        "title",
        "kicker",
        "text",
        "place",
        "page",
        "pdf",
        "published",
        "cluster",
        "topics",
    }
    assert all(keys <= set(r) for r in records)
    by_title = {r["title"]: r for r in records}
    assert by_title["我县开展燃气安全大检查"]["topics"] == ["燃气"]
    assert by_title["县医院开展义诊活动"]["topics"] == []
    assert by_title["我县开展燃气安全大检查"]["published"] == "2024-05-20T10:30:00+08:00"
    csv_out = await run_cli("export", "--config", str(config), "--format", "csv")
    assert csv_out.out.splitlines()[0].startswith("id,source,url,title")  # a pipe: plain
    csv_path = tmp_path / "articles.csv"
    await run_cli("export", "--config", str(config), "--format", "csv", "--out", str(csv_path))
    # In a file, the byte-order mark makes Excel on Chinese Windows read UTF-8, not GBK.
    assert csv_path.read_bytes().startswith("\ufeffid,source,url,title".encode())
    assert "我县开展燃气安全大检查" in csv_path.read_text(encoding="utf-8-sig")

    book_path = tmp_path / "articles.xlsx"
    xlsx = await run_cli(
        "export", "--config", str(config), "--format", "xlsx", "--out", str(book_path)
    )
    assert xlsx.code == 0 and xlsx.out == ""
    sheet = openpyxl.load_workbook(book_path).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    assert header[:4] == ["id", "source", "url", "title"] and {"page", "pdf"} <= set(header)
    rows = {row[3].value: row for row in sheet.iter_rows(min_row=2)}
    assert set(rows) == set(by_title)
    link = rows["我县开展燃气安全大检查"][2]
    assert link.hyperlink is not None and link.hyperlink.target == link.value
    assert link.value == by_title["我县开展燃气安全大检查"]["url"]
    assert sheet.column_dimensions["D"].width == 50  # the title column is wide

    no_out = await run_cli("export", "--config", str(config), "--format", "xlsx")
    assert no_out.code == 2 and "--out PATH" in no_out.err


async def test_a_storage_failure_costs_one_source_not_the_cycle(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    build_site(site)
    config = write_config(config_text(tmp_path, site, catcher.url))
    assert (await run_cli("check-config", "--config", str(config))).code == 0
    assert (await run_cli("sources", "--config", str(config))).code == 0  # creates the schema
    with sqlite3.connect(tmp_path / "t.db") as db:
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON articles WHEN NEW.title LIKE '%燃气%'"
            " BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
        )

    first = await run_cli("once", "--config", str(config))

    assert first.code == 0 and "Traceback" not in first.out
    assert "feed-src: FAILED: storing failed" in first.out and "disk I/O error" in first.out
    assert "html-src: 2 new" in first.out
    with sqlite3.connect(tmp_path / "t.db") as db:
        db.execute("DROP TRIGGER refuse")
        assert db.execute("select count(*) from articles").fetchone()[0] == 2
    second = await run_cli("once", "--config", str(config))
    assert "feed-src: 2 new" in second.out
    assert sorted(m["message"].split("\n")[0] for m in catcher.received) == [
        "市场监管局检查充装站",
        "我县开展燃气安全大检查",
    ]


async def test_a_new_topic_with_backfill_alerts_stored_articles_once(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    build_site(site)
    text = config_text(tmp_path, site, catcher.url)
    config = write_config(text)
    assert (await run_cli("once", "--config", str(config))).code == 0
    assert len(catcher.received) == 2  # the two 燃气 stories

    # added the day after: 义诊 was collected yesterday, 小麦 has no backfill
    config.write_text(
        text
        + '\n[[topics]]\nname = "义诊"\nquery = "义诊"\nbackfill = "3d"\nchannels = ["catch"]\n'
        + '\n[[topics]]\nname = "小麦"\nquery = "小麦"\nchannels = ["catch"]\n',
        encoding="utf-8",
    )
    second = await run_cli("once", "--config", str(config))
    assert second.code == 0, second.err
    assert [m["message"].split("\n")[0] for m in catcher.received[2:]] == ["县医院开展义诊活动"]
    assert [m["title"] for m in catcher.received[2:]] == ["[听风] 义诊"]

    assert (await run_cli("once", "--config", str(config))).code == 0
    assert len(catcher.received) == 3  # owed once, not at every start

    # on demand: the topics without backfill get their stored matches too, once
    sent = await run_cli("match", "--stored", "--send", "--config", str(config))
    assert sent.code == 0, sent.err
    assert "backfill: 1 new match in 4 articles, 1 alert owed" in sent.out
    assert [m["title"] for m in catcher.received[3:]] == ["[听风] 小麦"]
    again = await run_cli("match", "--stored", "--send", "--config", str(config))
    assert "backfill: 0 new matches in 4 articles, 0 alerts owed" in again.out
    assert len(catcher.received) == 4


async def test_a_backfill_span_is_checked_like_every_duration(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    config = write_config('[[topics]]\nname = "义诊"\nquery = "义诊"\nbackfill = "3x"\n')
    result = await run_cli("check-config", "--config", str(config))
    assert result.code == 2
    assert f"{config}:4 topics[0].backfill:" in result.err and "3x" in result.err
