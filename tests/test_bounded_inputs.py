"""Inputs with no natural bound are bounded: deep queries, long NEAR chains.

Each test is a row of issue 12's table: what used to crash or flood, now one clear line.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest

from rules import QuerySyntaxError, parse_query
from tests.cli_runner import run_cli
from tests.conftest import Catcher, Site
from tests.test_daemon_run import start_daemon
from tests.test_pipeline_e2e import build_site, config_text

DEEP = "(" * 200 + "液化气" + ")" * 200
NEAR_CHAIN = " NEAR/5 ".join(["燃气"] * 500)


@pytest.mark.parametrize(
    ("query", "column"),
    [
        (DEEP, 51),
        (NEAR_CHAIN, len(" NEAR/5 ".join(["燃气"] * 51)) + 2),
        ("-(" * 30 + "A" + ")" * 30, 51),
    ],
)
def test_deep_queries_are_refused_with_one_clear_error(query: str, column: int) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert info.value.message == "query nested deeper than 50"
    assert info.value.column == column


def test_queries_up_to_the_limit_still_parse() -> None:
    assert parse_query("(" * 50 + "液化气" + ")" * 50).terms[0].text == "液化气"
    assert len(parse_query(" NEAR/5 ".join(["燃气"] * 51)).terms) == 51


async def test_check_config_reports_a_deep_query_in_one_line(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    config = write_config(f'[[topics]]\nname = "深"\nquery = "{NEAR_CHAIN}"\n')

    result = await run_cli("check-config", "--config", str(config))

    assert result.code == 2
    assert "topics[0].query: query nested deeper than 50" in result.err
    assert "Traceback" not in result.err and "RecursionError" not in result.err


@pytest.mark.slow
async def test_sighup_with_a_deep_query_logs_one_failed_reload(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    build_site(site)
    text = config_text(tmp_path, site, catcher.url)
    config = write_config(text)
    proc = await start_daemon(config)
    try:
        for _ in range(300):
            if len(catcher.received) >= 2:
                break
            await asyncio.sleep(0.1)
        config.write_text(text.replace('query = "液化石油气"', f'query = "{DEEP}"'), "utf-8")
        proc.send_signal(signal.SIGHUP)
        await asyncio.sleep(2)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)

    log = err.decode()
    # one SIGHUP, and the 10-second config check may see the same edit: at most two lines
    assert 1 <= log.count('"event": "config reload failed; keeping the running config"') <= 2
    assert "query nested deeper than 50" in log
    assert "Traceback" not in log and "RecursionError" not in log
    assert proc.returncode == 0


BIG_CONFIG = """
[daemon]
admin_channel = "ops"

[storage]
url = "sqlite:///{db}"

[fetch]
per_host_delay = "0s"
max_article_chars = 5000

[[sources]]
name = "feed"
kind = "feed"
url = "{base}/feed.xml"

[[topics]]
name = "宽"
query = "检查"
channels = ["catch"]

[[topics]]
name = "长"
query = "/液{{3,}}/"
channels = ["catch"]

[[channels]]
name = "catch"
url = "{catch}"

[[channels]]
name = "ops"
url = "{catch}"
"""


def big_feed(items: int, long_text: str) -> str:
    now = format_datetime(datetime.now(UTC))
    body = "".join(
        f"<item><title>第{i}次安全检查</title><link>{{BASE}}/a/{i}.html</link>"
        f"<pubDate>{now}</pubDate><description>县里开展第{i}次安全检查。</description></item>"
        for i in range(items)
    )
    body += (
        f"<item><title>超长稿件</title><link>{{BASE}}/a/long.html</link><pubDate>{now}</pubDate>"
        f"<description>{long_text}</description></item>"
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>{body}</channel></rss>'
    )


async def test_long_articles_are_cut_hits_shown_short_and_a_broad_topic_is_flagged(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    site.add("/feed.xml", big_feed(25, "液" * 50_000), "application/rss+xml")
    config = write_config(
        BIG_CONFIG.format(db=tmp_path / "t.db", base=site.base, catch=catcher.url)
    )

    result = await run_cli("once", "--config", str(config))

    assert result.code == 0, result.err
    with sqlite3.connect(tmp_path / "t.db") as db:
        text, extra = db.execute(
            "select text, extra from articles where title = '超长稿件'"
        ).fetchone()
        matches = db.execute("select count(*) from matches").fetchone()[0]
    assert len(text) == 5000 and json.loads(extra)["truncated_from"] == 50_000
    assert matches == 26  # 25 for the broad topic, 1 for the regex: stored in bulk
    long_alert = next(m for m in catcher.received if m["title"] == "[听风] 长")
    assert len(long_alert["message"]) < 1000  # the hit spans 5000 characters
    flagged = [m for m in catcher.received if m["title"] == "[听风·运维] 主题 宽 范围过宽"]
    assert len(flagged) == 1 and "26 new articles" in flagged[0]["message"]
