"""Outbox benchmark: alerts/s through one paced and one unpaced channel, and the
duplicates ``tingfeng run`` sends when it is SIGKILLed again and again mid-delivery.

Run: ``python bench/bench_outbox.py`` (a few minutes; ``--kills 0`` skips the kill loop).

Throughput is one delivery pass (``deliver_due``: claim under a token, renew before each
send, render, send, fenced record) over alerts already owed in SQLite, to local
receivers. The baseline, in the same run, reads, renders and sends the same alerts with the same
sender and no outbox state at all, so the ratio is what ownership and durability cost.
The paced channel is a WeCom-like bot (errcode 0) at ``rate_limit``; its figure is
compared with that pace. The unpaced channel is ``json://`` through Apprise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import structlog
from aiohttp import web

from daemon.config import Config
from daemon.notify.channels import sender_for
from daemon.notify.outbox import deliver_due
from daemon.notify.render import Renderer
from storage import deliveries
from tests.notify_support import (
    DaemonProcess,
    Receiver,
    article_urls,
    draft,
    feed_sources,
    make_config,
    open_db,
    quiet_feed,
    seed,
    statuses,
    wait_until,
    wecom_channel,
    wecom_ok,
)


async def owed(tmp: Path, channel: str, alerts: int) -> Config:
    config = make_config(tmp, channel, daemon='lease = "30s"')
    db = await open_db(config)
    await seed(db, config, [("鱼台融媒", draft(n)) for n in range(alerts)])
    await db.close()
    return config


async def through_outbox(config: Config, receiver: Receiver, alerts: int) -> float:
    """Seconds for one delivery pass of every owed alert."""
    db = await open_db(config)
    start = time.perf_counter()
    report = await deliver_due(db, config)
    seconds = time.perf_counter() - start
    assert report.sent == alerts and (await statuses(db)) == {"sent": alerts}, report
    assert len(set(article_urls(receiver.bodies))) == alerts
    await db.close()
    return seconds


async def without_outbox(config: Config, alerts: int) -> float:
    """The baseline: read, render and send the same alerts with the same sender, with no
    outbox state at all (no claim, lease or recorded outcome)."""
    db = await open_db(config)
    channel = config.channels[0]
    sender = sender_for(channel)
    renderer = Renderer(config.tz, config.templates_dir())
    matches = [r.delivery.match_id or 0 for r in await deliveries.listing(db, ["sent"])][:alerts]
    start = time.perf_counter()
    for match_id in matches:
        item = await deliveries.alert_for(db, match_id)
        title, body = renderer.alert(item, sender.format, sender.service.snippet_radius)
        await sender.pace()
        await sender.send(title, body)
    seconds = time.perf_counter() - start
    await db.close()
    return seconds


async def throughput(label: str, channel: str, reply: Any, alerts: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        receiver = await Receiver(reply).start()
        config = await owed(Path(tmp), channel.replace("PORT", str(receiver.port)), alerts)
        outbox = await through_outbox(config, receiver, alerts)
        baseline = await without_outbox(config, alerts)
        await receiver.stop()
    row = {
        "channel": label,
        "alerts": alerts,
        "outbox_per_s": round(alerts / outbox, 1),
        "baseline_per_s": round(alerts / baseline, 1),
        "outbox/baseline": round(baseline / outbox, 2),
    }
    print(json.dumps(row, ensure_ascii=False), flush=True)
    return row


async def kills(count: int, alerts: int) -> dict[str, Any]:
    """SIGKILL ``tingfeng run`` ``count`` times while it sends; then let a last run finish."""
    received: list[tuple[int, str]] = []

    async def reply(call: int, body: dict[str, Any]) -> web.StreamResponse:
        for url in article_urls([body]):
            received.append((int(body["_path"].strip("/").removeprefix("run")), url))
        return web.json_response({})

    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        hook = await Receiver(reply).start()
        feeds = await Receiver(quiet_feed).start()

        def configure(run: int) -> Config:
            channel = (
                f'[[channels]]\nname = "hook"\nurl = "json://127.0.0.1:{hook.port}/run{run}"\n'
                'rate_limit = "20/s"\n'
            )
            return make_config(
                tmp,
                channel,
                daemon='max_attempts = 1000\nlease = "0.5s"\noutbox_every = "0.2s"',
                extra=feed_sources(feeds.port, 3),
            )

        db = await open_db(configure(0))
        await seed(db, configure(0), [("鱼台融媒", draft(n)) for n in range(alerts)])
        rng = random.Random(7)
        killed = 0
        for run in range(1, count + 1):
            configure(run)
            daemon = await DaemonProcess(tmp / "config.toml", tmp / "run.log").start()
            if not await wait_until(lambda run=run: any(r == run for r, _ in received), 60):
                break
            await asyncio.sleep(rng.uniform(0, 0.3))
            await daemon.stop(signal.SIGKILL)
            killed += 1
        configure(count + 1)
        daemon = await DaemonProcess(tmp / "config.toml", tmp / "run.log").start()
        everything = {f"http://news.example/{n}.html" for n in range(alerts)}
        await wait_until(lambda: {u for _, u in received} >= everything, 300)
        await daemon.stop()
        left = await statuses(db)
        await db.close()
        await hook.stop()
        await feeds.stop()
    counts = Counter(url for _, url in received)
    row = {
        "kills": killed,
        "alerts": alerts,
        "lost": len(everything - set(counts)),
        "duplicates": sum(n - 1 for n in counts.values()),
        "left_unsent": sum(n for status, n in left.items() if status != "sent"),
    }
    print(json.dumps(row), flush=True)
    return row


async def main(alerts: int, paced_rate: str, kill_count: int, kill_alerts: int) -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    await throughput(
        f"paced: WeCom-like bot at {paced_rate}",
        wecom_channel(0, f'rate_limit = "{paced_rate}"').replace(":0", ":PORT"),
        wecom_ok,
        alerts,
    )
    await throughput(
        "unpaced: json:// (Apprise)",
        '[[channels]]\nname = "hook"\nurl = "json://127.0.0.1:PORT/hook"\n',
        None,
        alerts,
    )
    if kill_count:
        await kills(kill_count, kill_alerts)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=500, help="alerts per throughput run")
    parser.add_argument("--paced", default="100/s", help="the paced channel's rate_limit")
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs of tingfeng run")
    parser.add_argument("--kill-alerts", type=int, default=120, help="alerts in the kill run")
    args = parser.parse_args()
    asyncio.run(main(args.alerts, args.paced, args.kills, args.kill_alerts))
