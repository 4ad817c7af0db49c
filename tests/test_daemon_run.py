"""The long-running daemon: scheduled cycles, alerts, and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from daemon.config import parse_config
from daemon.pipeline import Pipeline
from daemon.service import MISFIRE_GRACE, Daemon
from storage.db import Database
from tests.conftest import ROOT, Catcher, Site
from tests.test_pipeline_e2e import build_site, config_text
from watchers.fetch import Fetcher


async def start_daemon(config: Path) -> asyncio.subprocess.Process:
    """``tingfeng run`` in a subprocess with JSON logs on stderr."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "daemon",
        "run",
        "--config",
        str(config),
        "--json-logs",
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.slow
async def test_run_alerts_then_stops_cleanly_on_sigterm(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    build_site(site)
    config = write_config(config_text(tmp_path, site, catcher.url))
    proc = await start_daemon(config)
    for _ in range(300):
        if len(catcher.received) >= 2:
            break
        await asyncio.sleep(0.1)
    assert len(catcher.received) == 2

    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), 30)

    assert proc.returncode == 0
    assert '"event": "daemon stopped"' in err.decode()
    with sqlite3.connect(tmp_path / "t.db") as db:
        rows = db.execute("select name, last_success_at, next_run_at from sources").fetchall()
    assert {r[0] for r in rows} == {"feed-src", "html-src"}
    assert all(r[1] is not None for r in rows)


async def test_jobs_are_one_per_enabled_source_and_never_dropped(tmp_path: Path) -> None:
    text = """
[[sources]]
name = "a"
kind = "feed"
url = "http://127.0.0.1/a.xml"
every = "15m"

[[sources]]
name = "b"
kind = "feed"
url = "http://127.0.0.1/b.xml"
cron = "0 6-22 * * *"

[[sources]]
name = "off"
kind = "feed"
url = "http://127.0.0.1/c.xml"
enabled = false
"""
    config = parse_config(text, tmp_path / "c.toml")
    db = Database(config.storage_url())
    daemon = Daemon(config, Pipeline(config, db, Fetcher(config.fetch)))
    daemon.build_jobs()
    jobs = {job.id: job for job in daemon.scheduler.get_jobs()}
    assert set(jobs) == {"source:a", "source:b", "config"}
    for job in jobs.values():
        assert job.max_instances == 1 and job.coalesce is True
        assert job.misfire_grace_time == MISFIRE_GRACE >= 60
    assert "hour='6-22'" in str(jobs["source:b"].trigger)
    await db.close()


@pytest.mark.slow
async def test_edited_topics_apply_without_restart_and_a_broken_edit_is_ignored(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    build_site(site)
    fast = 'url = "{base}/feed.xml"\nevery = "10s"\njitter = "0s"'
    text = config_text(tmp_path, site, catcher.url).replace(
        f'url = "{site.base}/feed.xml"', fast.format(base=site.base)
    )
    config = write_config(text)
    proc = await start_daemon(config)
    try:
        for _ in range(300):
            if len(catcher.received) >= 2:
                break
            await asyncio.sleep(0.1)
        assert len(catcher.received) == 2

        config.write_text(text.replace('query = "液化石油气"', 'query = "液化石油气 OR"'), "utf-8")
        proc.send_signal(signal.SIGHUP)
        await asyncio.sleep(1)
        config.write_text(
            text.replace('query = "液化石油气"', 'query = "液化石油气 OR 小麦"'), "utf-8"
        )
        proc.send_signal(signal.SIGHUP)
        feed = (
            site.pages["/feed.xml"][1]
            .decode()
            .replace(
                "</channel>",
                "<item><title>小麦收购价格稳定</title><link>{BASE}/feed/3.html</link>"
                "<description>今年小麦收购价格保持稳定。</description></item></channel>",
            )
        )
        site.add("/feed.xml", feed, "application/rss+xml")
        for _ in range(300):
            if len(catcher.received) >= 3:
                break
            await asyncio.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)

    assert [m["message"].split("\n")[0] for m in catcher.received][2] == "小麦收购价格稳定"
    log = err.decode()
    assert '"event": "config reload failed; keeping the running config"' in log
    assert "topics[0].query" in log
    assert '"event": "config reloaded"' in log
    assert proc.returncode == 0
