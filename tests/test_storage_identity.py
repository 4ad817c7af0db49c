"""The database is who it says it is: deleted, replaced or read-only under a running daemon.

Real ``tingfeng run`` processes against a local feed and a local alert receiver;
the operator channel posts to the same receiver, told apart by its title.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import asyncpg
import pytest

from tests.cli_runner import CliResult, run_cli
from tests.conftest import ADMIN_DSN, ROOT, Catcher, Site
from tests.test_daemon_run import start_daemon

OLD_ITEMS = 20


def feed(recent: list[str]) -> str:
    """OLD_ITEMS matching items from two days ago, and one per ``recent`` title published now."""
    now = datetime.now(UTC)
    items = [
        (f"旧闻{i}：液化石油气检查", f"/old/{i}.html", now - timedelta(days=2))
        for i in range(OLD_ITEMS)
    ] + [(title, f"/new/{i}.html", now) for i, title in enumerate(recent)]
    body = "".join(
        f"<item><title>{title}</title><link>{{BASE}}{path}</link>"
        f"<pubDate>{format_datetime(when)}</pubDate>"
        f"<description>{title}。县里排查液化石油气隐患。</description></item>"
        for title, path, when in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>县融媒</title><link>{{BASE}}/</link>{body}</channel></rss>"
    )


CONFIG = """
[daemon]
admin_channel = "ops"

[storage]
url = "{storage}"

[fetch]
per_host_delay = "0s"

[[sources]]
name = "feed"
kind = "feed"
url = "{base}/feed.xml"
every = "10s"
jitter = "0s"

[[topics]]
name = "燃气"
query = "液化石油气"
channels = ["catch"]

[[channels]]
name = "catch"
url = "{catch}"

[[channels]]
name = "ops"
url = "{catch}"
"""


def alerts(catcher: Catcher) -> list[str]:
    return [m["message"].split("\n")[0] for m in catcher.received if m["title"] == "[听风] 燃气"]


def operator(catcher: Catcher) -> list[str]:
    return [m["title"] for m in catcher.received if m["title"].startswith("[听风·运维]")]


async def wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    for _ in range(int(seconds * 10)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


def sqlite_files(db: Path) -> list[Path]:
    return [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]


async def run_process(*args: str) -> CliResult:
    """``tingfeng ARGS`` in a process of its own, for runs that must really overlap."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "daemon",
        *args,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    return CliResult(proc.returncode or 0, out.decode(), err.decode())


@pytest.mark.slow
@pytest.mark.timeout(300)  # real daemons; slow to start on a loaded machine
async def test_deleted_database_stops_the_daemon_and_a_restart_does_not_flood(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    site.add("/feed.xml", feed(["今天：液化石油气新规"]), "application/rss+xml")
    db = tmp_path / "t.db"
    config = write_config(
        CONFIG.format(storage=f"sqlite:///{db}", base=site.base, catch=catcher.url)
    )
    proc = await start_daemon(config)
    await wait_for(lambda: len(alerts(catcher)) == 1)
    # The first run alerted only what was published within first_run_window (24h).
    assert alerts(catcher) == ["今天：液化石油气新规"]

    for path in sqlite_files(db):
        path.unlink(missing_ok=True)
    _, err = await asyncio.wait_for(proc.communicate(), 40)

    log = err.decode()
    assert proc.returncode == 3
    assert "was deleted while tingfeng was running" in log
    assert log.count('"event": "database changed under the daemon; stopping"') == 1
    assert "Traceback" not in log, log
    assert operator(catcher).count("[听风·运维] 数据库被删除或替换，听风已停止") == 1

    restarted = await run_cli("once", "--config", str(config))
    assert restarted.code == 0, restarted.err
    # The lost history costs at most the items of the last day, never the whole feed.
    assert alerts(catcher) == ["今天：液化石油气新规"] * 2


@pytest.mark.slow
@pytest.mark.timeout(300)  # real daemons; slow to start on a loaded machine
async def test_replaced_database_stops_the_daemon(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    site.add("/feed.xml", feed(["今天：液化石油气新规"]), "application/rss+xml")
    db, other = tmp_path / "t.db", tmp_path / "other.db"
    other_config = tmp_path / "other.toml"
    other_config.write_text(
        CONFIG.format(storage=f"sqlite:///{other}", base=site.base, catch=catcher.url), "utf-8"
    )
    made = await run_cli("once", "--config", str(other_config))
    assert made.code == 0, made.err
    config = write_config(
        CONFIG.format(storage=f"sqlite:///{db}", base=site.base, catch=catcher.url)
    )
    proc = await start_daemon(config)
    await wait_for(lambda: len(alerts(catcher)) == 2)

    os.replace(other, db)
    _, err = await asyncio.wait_for(proc.communicate(), 40)

    log = err.decode()
    assert proc.returncode == 3, log[-2000:]
    assert "was replaced" in log and "Traceback" not in log
    assert operator(catcher).count("[听风·运维] 数据库被删除或替换，听风已停止") == 1


@pytest.mark.slow
@pytest.mark.timeout(300)  # real daemons; slow to start on a loaded machine
async def test_read_only_database_is_one_incident_and_recovers(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], pg_url: str
) -> None:
    site.add("/feed.xml", feed(["今天：液化石油气新规"]), "application/rss+xml")
    config = write_config(CONFIG.format(storage=pg_url, base=site.base, catch=catcher.url))
    name = pg_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(ADMIN_DSN)

    async def read_only(on: bool) -> None:
        await admin.execute(
            f'ALTER DATABASE "{name}" SET default_transaction_read_only = {"on" if on else "off"}'
        )
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )

    proc = await start_daemon(config)
    try:
        await wait_for(lambda: len(alerts(catcher)) == 1)
        await read_only(True)
        site.add(
            "/feed.xml",
            feed(["今天：液化石油气新规", "又一条液化石油气消息"]),
            "application/rss+xml",
        )
        await wait_for(lambda: "[听风·运维] 数据库写入失败" in operator(catcher))
        await asyncio.sleep(11)  # at least one more failing run: still one incident
        shown = await run_cli("sources", "--config", str(config))
        assert shown.code == 0 and "ago" in shown.out, shown.err
        await read_only(False)
        await wait_for(lambda: len(alerts(catcher)) == 2)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
        await admin.close()

    # (what happens to jobs cut short by SIGTERM is the outbox's business, not this test's)
    log = err.decode().split('"event": "stopping: waiting for running jobs"')[0]
    assert alerts(catcher) == ["今天：液化石油气新规", "又一条液化石油气消息"]
    assert log.count('"event": "storage failing; articles are fetched again when it works"') == 1
    assert '"event": "storage works again"' in log
    assert "Traceback" not in log, log
    assert operator(catcher).count("[听风·运维] 数据库写入失败") == 1
    assert "[听风·运维] 数据库已恢复写入" in operator(catcher)
    assert proc.returncode == 0


@pytest.mark.slow
@pytest.mark.timeout(300)  # real daemons; slow to start on a loaded machine
async def test_two_instances_started_at_once_on_an_empty_postgres_both_come_up(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], pg_url: str
) -> None:
    site.add("/feed.xml", feed(["今天：液化石油气新规"]), "application/rss+xml")
    config = write_config(CONFIG.format(storage=pg_url, base=site.base, catch=catcher.url))

    first, second = await asyncio.gather(
        run_process("once", "--config", str(config)), run_process("once", "--config", str(config))
    )

    assert first.code == 0 and second.code == 0, first.err + second.err
    assert "Traceback" not in first.err + second.err
    assert "IntegrityError" not in first.out + second.out
    assert alerts(catcher) == ["今天：液化石油气新规"]


@pytest.mark.slow
@pytest.mark.timeout(300)  # real daemons; slow to start on a loaded machine
async def test_once_on_a_read_only_database_exits_non_zero_in_one_line(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], pg_url: str
) -> None:
    site.add("/feed.xml", feed(["今天：液化石油气新规"]), "application/rss+xml")
    config = write_config(CONFIG.format(storage=pg_url, base=site.base, catch=catcher.url))
    assert (await run_cli("once", "--config", str(config))).code == 0
    site.add("/feed.xml", feed(["今天：液化石油气新规", "又一条"]), "application/rss+xml")
    name = pg_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        result = await run_cli("once", "--config", str(config))
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
        await admin.close()

    assert result.code == 3, result.out + result.err
    assert "feed: FAILED: storing failed" in result.out and "read-only" in result.out
    assert "the database refused this cycle's writes" in result.err
    assert "Traceback" not in result.err
    assert "[听风·运维] 数据库写入失败" in operator(catcher)
