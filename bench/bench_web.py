"""Console load: 50 logged-in sessions browsing 今日动态 with filters over 100,000 stored
articles, first alone (baseline), then while a fetch cycle runs in the console's own
process, then while ``tingfeng once`` runs in another process.

Run: ``python bench/bench_web.py`` (about 3 minutes; ``--dir D`` keeps the generated
database in D and reuses it next time).

The server is a separate process serving the console the way ``tingfeng run`` does
(``open_pipeline`` + ``start_console`` on the daemon's event loop) and running
``Pipeline.cycle`` — what ``once`` and every daemon round run — on SIGUSR1, against 40
local feeds of fresh articles. A probe task in that process sleeps 20 ms at a time and
records how late it wakes: the event-loop lag. Page time is measured by the clients
(request sent → whole body read), each session pausing ``--think`` seconds (0.5×–1.5×)
between pages like a person reading.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web
from sqlmodel import select

from bench.web_data import PLACES, TOPIC_WORDS, config_text, generate, load_config, story
from daemon.web.passwords import hash_password
from storage import accounts, console_defs
from storage.db import Database
from storage.models import Article

LAG_STEP = 0.02
USERS = 50


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the server process -------------------------------------------------------------


async def serve(config_path: Path, listen: str, events: Path) -> list[tuple[float, float]]:
    """Serve until SIGTERM; returns the lag samples (wall time, seconds late)."""
    from daemon.runtime import open_pipeline
    from daemon.web.app import Console
    from daemon.web.serving import start_console

    loop = asyncio.get_running_loop()
    config = load_config(config_path)
    samples: list[tuple[float, float]] = []
    log: list[dict[str, Any]] = []
    stop = asyncio.Event()
    cycles: set[asyncio.Task[None]] = set()

    def note(**event: Any) -> None:
        log.append(event)
        events.write_text(json.dumps({"events": log}), encoding="utf-8")

    async def probe() -> None:
        while True:
            started = loop.time()
            await asyncio.sleep(LAG_STEP)
            samples.append((time.time(), loop.time() - started - LAG_STEP))

    async with open_pipeline(config) as pipeline:

        async def cycle() -> None:
            note(event="cycle_start", at=time.time())
            reports, _ = await pipeline.cycle()
            note(
                event="cycle_end",
                at=time.time(),
                new=sum(r.new for r in reports),
                matched=sum(r.matched for r in reports),
                failed=sum(1 for r in reports if r.error),
            )

        def start_cycle() -> None:
            task = loop.create_task(cycle())
            cycles.add(task)
            task.add_done_callback(cycles.discard)

        # Plain HTTP on localhost: the bench's client keeps cookies without ``Secure``.
        console = Console(config=pipeline.config, db=pipeline.db, secure_cookies=False)
        runner, _ = await start_console(console, listen, origin="--listen")
        prober = loop.create_task(probe())
        loop.add_signal_handler(signal.SIGUSR1, start_cycle)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        note(event="ready", at=time.time())
        await stop.wait()
        prober.cancel()
        await runner.cleanup()
    return samples


# --- local feeds --------------------------------------------------------------------


class Feeds:
    """40 feeds, each answering ``items`` articles never seen before on every request."""

    def __init__(self, items: int) -> None:
        self.items = items
        self.served = 0
        self.rng = random.Random(7)

    async def handle(self, request: web.Request) -> web.Response:
        now = datetime.now(UTC)
        entries = []
        for _ in range(self.items):
            self.served += 1
            topics = self.rng.sample(range(20), 1) if self.rng.random() < 0.3 else []
            title, text, _ = story(self.rng, topics)
            stamp = (now - timedelta(minutes=self.rng.uniform(0, 600))).strftime(
                "%a, %d %b %Y %H:%M:%S GMT"
            )
            entries.append(
                f"<item><title>{escape(title)}</title>"
                f"<link>http://live.example/{self.served}-{time.time_ns()}.html</link>"
                f"<pubDate>{stamp}</pubDate><description>{escape(text)}</description></item>"
            )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>feed</title><link>http://live.example/</link>{''.join(entries)}"
            "</channel></rss>"
        )
        return web.Response(text=body, content_type="application/rss+xml")

    async def start(self, port: int) -> web.AppRunner:
        app = web.Application()
        app.router.add_get("/{name}", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner


# --- the clients --------------------------------------------------------------------


def views(topic_ids: list[int], source_ids: list[int]) -> list[tuple[str, str]]:
    """(kind, URL) of the pages people open: mostly their own list, then filters."""
    today = datetime.now(UTC).date()
    week = (today - timedelta(days=7)).isoformat()
    out = [("mine", "/")] * 4 + [("all", "/?all=1")] * 2
    out += [("page 2-5", f"/?all=1&page={p}") for p in range(2, 6)]
    out += [("topic", f"/?all=1&topic={t}") for t in topic_ids]
    out += [("source", f"/?all=1&source={s}") for s in source_ids[:10]]
    out += [("place", f"/?all=1&place={p}") for p in PLACES[:5]]
    out += [("7 days", f"/?all=1&from={week}&to={today.isoformat()}")] * 3
    out += [("text", f"/?all=1&q={w}") for w in [*TOPIC_WORDS[:3], "巡查", "演练"]]
    out += [("topic+7 days", f"/?all=1&topic={t}&from={week}") for t in topic_ids[:5]]
    return out


async def log_in(base: str, session: aiohttp.ClientSession, name: str) -> None:
    async with session.get(base + "/login") as form:
        html = await form.text()
    token = html.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    async with session.post(
        base + "/login", data={"name": name, "password": "pw", "csrf": token, "next": "/"}
    ) as answer:
        assert answer.status == 200, await answer.text()


async def browse(
    base: str,
    session: aiohttp.ClientSession,
    pages: list[tuple[str, str]],
    think: float,
    until: asyncio.Event,
    out: list[tuple[float, str, float]],
    seed: int,
) -> None:
    rng = random.Random(seed)
    await asyncio.sleep(rng.uniform(0, think))  # sessions do not all start at once
    while not until.is_set():
        kind, url = rng.choice(pages)
        started = time.perf_counter()
        async with session.get(base + url) as answer:
            await answer.read()
            assert answer.status == 200, (url, answer.status)
        out.append((time.time(), kind, (time.perf_counter() - started) * 1000))
        if think:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(until.wait(), think * rng.uniform(0.5, 1.5))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- setup --------------------------------------------------------------------------


async def prepare(folder: Path, articles: int, clusters: int, feed_port: int) -> None:
    """The database (generated once per folder), the config, 50 staff users."""
    config_path = folder / "config.toml"
    config_path.write_text(config_text(f"sqlite:///{folder}/web.db", feed_port), encoding="utf-8")
    config = load_config(config_path)
    db = Database(config.storage_url())
    await db.migrate()
    async with db.session() as session:
        stored = await session.scalar(select(Article.id).limit(1))
    if stored is None:
        began = time.perf_counter()
        await generate(config, db, articles, clusters)
        print(f"generated {articles:,} articles in {time.perf_counter() - began:.0f} s")
    topics = [t.id for t in await console_defs.list_topics(db)]
    password = hash_password("pw")
    rng = random.Random(3)
    for n in range(USERS):
        name = f"staff{n:02d}"
        user = await accounts.find_user(db, name) or await accounts.add_user(db, name, password)
        assert user.id is not None
        picked = rng.sample(topics, 3)
        await console_defs.set_subscriptions(db, user.id, [(t, None) for t in picked])
    await db.close()


def ids(folder: Path) -> tuple[list[int], list[int], int, int]:
    with sqlite3.connect(folder / "web.db") as conn:
        topic_ids = [r[0] for r in conn.execute("SELECT id FROM topics ORDER BY id")]
        source_ids = [r[0] for r in conn.execute("SELECT id FROM sources ORDER BY id")]
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        matches = conn.execute("SELECT count(*) FROM matches").fetchone()[0]
    return topic_ids, source_ids, articles, matches


def read_events(events: Path, name: str) -> list[dict[str, Any]]:
    try:
        return [e for e in json.loads(events.read_text())["events"] if e["event"] == name]
    except (OSError, ValueError):  # not written yet, or being written
        return []


async def wait_for(events: Path, name: str, seconds: float) -> dict[str, Any]:
    deadline = time.time() + seconds
    while time.time() < deadline:
        found = await asyncio.to_thread(read_events, events, name)
        if found:
            return found[-1]
        await asyncio.sleep(0.2)
    raise TimeoutError(f"server did not report {name} within {seconds:.0f} s")


async def drive(
    args: argparse.Namespace,
    base: str,
    feed_port: int,
    events: Path,
    server: subprocess.Popen[bytes],
) -> tuple[dict[str, tuple[float, float]], list[tuple[float, str, float]]]:
    """Log 50 sessions in, browse for the baseline, start a cycle, browse until it ends."""
    topic_ids, source_ids = args.topic_ids, args.source_ids
    feed_runner = await Feeds(args.items).start(feed_port)
    phases: dict[str, tuple[float, float]] = {}
    results: list[tuple[float, str, float]] = []
    try:
        await wait_for(events, "ready", 120)
        sessions = [
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in range(USERS)
        ]
        await asyncio.gather(*(log_in(base, s, f"staff{n:02d}") for n, s in enumerate(sessions)))
        pages = views(topic_ids, source_ids)
        # warm-up: the first requests pay for templates and the database's page cache
        for s, (_, url) in zip(sessions, pages, strict=False):
            async with s.get(base + url) as answer:
                await answer.read()

        async def phase(name: str, done: Awaitable[Any]) -> None:
            until = asyncio.Event()
            began = time.time()
            tasks = [
                asyncio.create_task(browse(base, s, pages, args.think, until, results, n))
                for n, s in enumerate(sessions)
            ]
            await done
            until.set()
            await asyncio.gather(*tasks)
            phases[name] = (began, time.time())

        await phase("baseline (no cycle)", asyncio.sleep(args.seconds))
        server.send_signal(signal.SIGUSR1)
        await wait_for(events, "cycle_start", 30)
        await phase("cycle in the console's process", wait_for(events, "cycle_end", 1800))
        once = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "daemon", "once", "--config", str(args.config),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await phase("`tingfeng once` in another process", once.wait())
        for s in sessions:
            await s.close()
    finally:
        await feed_runner.cleanup()
    return phases, results


def main(args: argparse.Namespace) -> None:
    folder = Path(args.dir or tempfile.mkdtemp(prefix="bench-web-"))
    folder.mkdir(parents=True, exist_ok=True)
    feed_port, web_port = free_port(), free_port()
    asyncio.run(prepare(folder, args.articles, args.clusters, feed_port))
    args.topic_ids, args.source_ids, articles, matches = ids(folder)
    args.config = folder / "config.toml"
    print(f"database: {articles:,} articles, {matches:,} matches, folder {folder}")
    events = folder / "events.json"
    events.unlink(missing_ok=True)
    listen = f"127.0.0.1:{web_port}"
    with open(folder / "server.log", "w") as log:
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(folder / "config.toml"),
             "--listen", listen, "--events", str(events)],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )  # fmt: skip
        try:
            phases, results = asyncio.run(
                drive(args, f"http://{listen}", feed_port, events, server)
            )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(120)
    (folder / "pages.json").write_text(json.dumps({"phases": phases, "results": results}))
    report(args, folder, events, phases, results)


def report(
    args: argparse.Namespace,
    folder: Path,
    events: Path,
    phases: dict[str, tuple[float, float]],
    results: list[tuple[float, str, float]],
) -> None:
    lag: list[tuple[float, float]] = json.loads((folder / "lag.json").read_text())
    started = read_events(events, "cycle_start")[-1]["at"]
    cycle = read_events(events, "cycle_end")[-1]
    print(
        f"cycle: {cycle['at'] - started:.1f} s, {cycle['new']:,} new articles, "
        f"{cycle['matched']:,} matches, {cycle['failed']} sources failed"
    )
    print(
        f"{USERS} sessions, think {args.think:g} s; machine: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print()
    print("| phase | pages | pages/s | p50 ms | p95 ms | max ms | lag p95 ms | lag max ms |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (lo, hi) in phases.items():
        times = [ms for at, _, ms in results if lo <= at <= hi]
        lags = [s * 1000 for at, s in lag if lo <= at <= hi]
        print(
            f"| {name} | {len(times)} | {len(times) / (hi - lo):.1f} | {pct(times, 0.5):.0f} "
            f"| {pct(times, 0.95):.0f} | {max(times):.0f} | {pct(lags, 0.95):.0f} "
            f"| {max(lags):.0f} |"
        )
    print()
    print("| p95 ms by view | " + " | ".join(phases) + " |")
    print("|---" * (len(phases) + 1) + "|")
    for kind in sorted({k for _, k, _ in results}):
        cells = [
            f"{pct([ms for at, k, ms in results if k == kind and lo <= at <= hi], 0.95):.0f}"
            for lo, hi in phases.values()
        ]
        print(f"| {kind} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--clusters", type=int, default=3_000)
    parser.add_argument("--seconds", type=float, default=40, help="baseline phase length")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between pages")
    parser.add_argument("--items", type=int, default=20, help="new articles per feed per cycle")
    parser.add_argument("--dir", help="keep (and reuse) the generated database here")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--listen", help=argparse.SUPPRESS)
    parser.add_argument("--events", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        samples = asyncio.run(serve(options.serve, options.listen, options.events))
        (options.events.parent / "lag.json").write_text(json.dumps(samples), encoding="utf-8")
    else:
        main(options)
