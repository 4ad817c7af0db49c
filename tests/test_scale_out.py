"""Several daemons on one PostgreSQL: each source fetched once per cycle, each alert sent once.

Three real ``tingfeng run`` processes share one database; the local site counts
the requests each source gets. One instance is killed (SIGKILL) while it holds
the claim on a slow source: another instance takes the source over once the
killed one's lease has run out.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import asyncpg
import pytest
from aiohttp import web

from tests.conftest import Catcher
from tests.test_daemon_run import start_daemon
from tests.test_storage_identity import alerts, run_process, wait_for

SOURCES = [f"s{i}" for i in range(5)] + ["slow"]
EVERY = 10.0
LEASE = 3.0


def feed_for(name: str) -> str:
    title = f"{name}：液化石油气安全检查"
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>{title}</title><link>http://example.invalid/{name}.html</link>"
        f"<pubDate>{format_datetime(datetime.now(UTC))}</pubDate>"
        f"<description>{title}。</description></item></channel></rss>"
    )


def site_app(hits: dict[str, list[float]]) -> web.Application:
    async def serve(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        hits[name].append(time.monotonic())
        if name == "slow":
            await asyncio.sleep(4)
        return web.Response(text=feed_for(name), content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/{name}.xml", serve)
    return app


def config_text(pg_url: str, base: str, catch: str) -> str:
    sources = "".join(
        f'\n[[sources]]\nname = "{n}"\nkind = "feed"\nurl = "{base}/{n}.xml"\n'
        f'every = "{int(EVERY)}s"\njitter = "0s"\nsilent_after = "0s"\n'
        for n in SOURCES
    )
    return f"""
[daemon]
run_lease = "{int(LEASE)}s"

[storage]
url = "{pg_url}"

[fetch]
per_host_delay = "0s"
per_host_concurrency = 8
{sources}
[[topics]]
name = "燃气"
query = "液化石油气"
channels = ["catch"]

[[channels]]
name = "catch"
url = "{catch}"
"""


async def claimed_by(pg_url: str, source: str) -> str | None:
    conn = await asyncpg.connect(pg_url)
    try:
        return await conn.fetchval(
            "SELECT r.claimed_by FROM source_runs r JOIN sources s ON s.id = r.source_id "
            "WHERE s.name = $1 AND r.claim_token IS NOT NULL",
            source,
        )
    finally:
        await conn.close()


@pytest.mark.slow
@pytest.mark.timeout(300)  # real daemons; slow to start on a loaded machine
async def test_three_instances_fetch_each_source_once_per_cycle_and_survive_a_kill(
    serve_app: Callable[..., object],
    catcher: Catcher,
    write_config: Callable[[str], Path],
    pg_url: str,
) -> None:
    hits: dict[str, list[float]] = defaultdict(list)
    base = await serve_app(site_app(hits))  # type: ignore[misc]
    config = write_config(config_text(pg_url, str(base), catcher.url))

    procs = await asyncio.gather(*(start_daemon(config) for _ in range(3)))
    by_pid = {p.pid: p for p in procs}
    try:
        await wait_for(lambda: len(hits["slow"]) == 1, 60)
        owner = None
        for _ in range(30):
            owner = await claimed_by(pg_url, "slow")
            if owner:
                break
            await asyncio.sleep(0.1)
        assert owner is not None
        victim = by_pid[int(owner.rsplit(":", 1)[1])]
        victim.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        await victim.wait()

        await wait_for(lambda: len(alerts(catcher)) == len(SOURCES), 60)
        await asyncio.sleep(2.5 * EVERY)  # a few more cycles with the two survivors
    finally:
        survivors = [p for p in procs if p.returncode is None]
        for p in survivors:
            p.send_signal(signal.SIGTERM)
        logs = [(await asyncio.wait_for(p.communicate(), 30))[1].decode() for p in survivors]

    assert sorted(alerts(catcher)) == sorted(f"{n}：液化石油气安全检查" for n in SOURCES)
    for name in SOURCES:
        times = hits[name]
        if name == "slow":
            # the killed run, then the take-over only after the killed instance's lease
            assert times[1] - killed_at >= LEASE - 0.5, times
            times = times[1:]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # Two instances running one cycle would fetch within a second of each other; a
        # run merely started late by a busy machine shortens the next gap by its delay.
        assert gaps and min(gaps) >= 0.2 * EVERY, (name, gaps)
    for log in logs:
        before_stop = log.split('"event": "stopping: waiting for running jobs"')[0]
        assert "Traceback" not in before_stop and "IntegrityError" not in before_stop, log


STORY = (
    "本报讯 县应急管理局联合市场监管部门对全县瓶装液化石油气经营网点开展专项检查，"
    "共排查隐患十二处，责令整改八家，约谈企业负责人三名，并对两家无证经营点依法取缔。"
)


def copy_feed(name: str) -> str:
    """The same story as another paper carries it: its own URL, the same words."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>全县开展液化石油气专项检查</title>"
        f"<link>http://example.invalid/{name}/story.html</link>"
        f"<pubDate>{format_datetime(datetime.now(UTC))}</pubDate>"
        f"<description>{STORY}</description></item></channel></rss>"
    )


def copies_app() -> web.Application:
    async def serve(request: web.Request) -> web.Response:
        return web.Response(
            text=copy_feed(request.match_info["name"]), content_type="application/rss+xml"
        )

    app = web.Application()
    app.router.add_get("/{name}.xml", serve)
    return app


def copies_config(storage: str, base: str, catch: str) -> str:
    sources = "".join(
        f'\n[[sources]]\nname = "{n}"\nkind = "feed"\nurl = "{base}/{n}.xml"\n'
        for n in ("paper-a", "paper-b", "paper-c")
    )
    return (
        f'[storage]\nurl = "{storage}"\n\n[fetch]\nper_host_delay = "0s"\n'
        f"per_host_concurrency = 4\n{sources}\n"
        '[[topics]]\nname = "燃气"\nquery = "液化石油气"\nchannels = ["catch"]\n\n'
        f'[[channels]]\nname = "catch"\nurl = "{catch}"\n'
    )


@pytest.mark.slow
@pytest.mark.timeout(300)  # real daemons; slow to start on a loaded machine
async def test_two_daemons_storing_one_story_at_once_make_one_cluster_and_one_alert(
    serve_app: Callable[..., object],
    catcher: Catcher,
    write_config: Callable[[str], Path],
    storage_url: str,
) -> None:
    base = await serve_app(copies_app())  # type: ignore[misc]
    config = write_config(copies_config(storage_url, str(base), catcher.url))
    if storage_url.startswith("sqlite"):
        # created first: SQLite is single-instance, two daemons never create one together
        assert (await run_process("sources", "--config", str(config))).code == 0

    runs = await asyncio.gather(*(run_process("once", "--config", str(config)) for _ in range(2)))

    for run in runs:
        assert "IntegrityError" not in run.out + run.err and "Traceback" not in run.err, run
    if storage_url.startswith("postgresql"):
        conn = await asyncpg.connect(storage_url)
        try:
            clusters = await conn.fetchval("SELECT count(DISTINCT cluster_id) FROM articles")
            stored = await conn.fetchval("SELECT count(*) FROM articles")
        finally:
            await conn.close()
        assert (stored, clusters) == (3, 1)
        assert len(alerts(catcher)) == 1
