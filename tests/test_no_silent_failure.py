"""Rows of issue 12's table: a broken feed is never `ok`; a `${VAR}` secret never shows."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

from tests.cli_runner import run_cli
from tests.conftest import Catcher, Site

FEED_TOKEN = "FeedT0ken-5ecret-77"

CONFIG = """
[daemon]
admin_channel = "ops"

[storage]
url = "sqlite:///{db}"

[fetch]
per_host_delay = "0s"

[[sources]]
name = "broken"
kind = "feed"
url = "{base}/broken.xml"

[[sources]]
name = "private"
kind = "feed"
url = "{base}/private.xml?token=${{FEED_TOKEN}}&page=1"
fail_alert_after = 1

[[channels]]
name = "ops"
url = "{catch}"
"""


async def test_a_feed_that_is_not_xml_is_a_failed_run(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    # feedparser reads this as a "bozo" feed with one empty entry, not as an error
    site.add("/broken.xml", "系统维护中，请稍后再试 <item>", "application/rss+xml")
    site.add("/private.xml", "<rss version='2.0'><channel></channel></rss>", "text/xml")
    config = write_config(CONFIG.format(db=tmp_path / "t.db", base=site.base, catch=catcher.url))

    once = await run_cli("once", "--config", str(config), env={"FEED_TOKEN": FEED_TOKEN})
    shown = await run_cli("sources", "--config", str(config), env={"FEED_TOKEN": FEED_TOKEN})

    assert "broken: FAILED" in once.out and "not a usable RSS/Atom feed" in once.out
    line = next(line for line in shown.out.splitlines() if line.startswith("broken "))
    assert " failing " in line and " ok " not in line


async def test_a_secret_in_a_source_url_never_reaches_any_output(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    site.add("/broken.xml", "<rss version='2.0'><channel></channel></rss>", "text/xml")
    # /private.xml is not served: the run fails with an error that names the URL
    config = write_config(CONFIG.format(db=tmp_path / "t.db", base=site.base, catch=catcher.url))
    env = {"FEED_TOKEN": FEED_TOKEN}

    outputs = [
        await run_cli("once", "--config", str(config), "--json-logs", env=env),
        await run_cli("sources", "--config", str(config), env=env),
        await run_cli("export", "--config", str(config), env=env),
        await run_cli("check-config", "--config", str(config), env=env),
    ]

    assert "private: FAILED" in outputs[0].out and "token=***" in outputs[0].out
    assert "token=***" in outputs[1].out
    for result in outputs:
        assert FEED_TOKEN not in result.out + result.err
    ops = [m for m in catcher.received if m["title"].startswith("[听风·运维]")]
    assert ops and "token=***" in ops[0]["message"]
    # the operator reads the retry time in [daemon] timezone (default Asia/Shanghai)
    assert re.search(r"下次尝试: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", ops[0]["message"])
    assert all(FEED_TOKEN not in m["message"] + m["title"] for m in catcher.received)
    with sqlite3.connect(tmp_path / "t.db") as db:
        assert not any(FEED_TOKEN in line for line in db.iterdump())
