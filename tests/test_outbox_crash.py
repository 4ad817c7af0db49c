"""Crash safety: SIGKILL the real ``tingfeng once`` twenty times mid-delivery.

Every alert must arrive; a duplicate may only come from the documented window
between the receiver's confirmation and our commit, i.e. the last alert a killed
run had confirmed. The count is printed (run pytest with -s to see it).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlmodel import select

from daemon.config import Config
from storage.models import Delivery
from tests.notify_support import Receiver, draft, make_config, open_db, seed

ALERTS = 120
KILLS = 20
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.timeout(600)  # 25 real processes; minutes on a loaded 2-core machine
async def test_sigkill_during_delivery_loses_nothing(tmp_path: Path) -> None:
    run_no = {"n": 0}
    received: list[tuple[int, str]] = []
    first_in_run = asyncio.Event()

    async def reply(call: int, body: dict[str, Any]) -> web.StreamResponse:
        url = next(w for w in body["message"].split() if w.startswith("http://news.example/"))
        # The run is read from the request, not from the test's counter: a request a
        # killed run sent just before dying may be handled after the next run started.
        received.append((int(body["_path"].strip("/").removeprefix("run")), url))
        first_in_run.set()
        return web.json_response({})

    hook = await Receiver(reply).start()

    def configure(run: int) -> Config:
        """Each run posts to its own path, so every alert names the run that sent it."""
        channel = f'[[channels]]\nname = "hook"\nurl = "json://127.0.0.1:{hook.port}/run{run}"\n'
        return make_config(tmp_path, channel, daemon='max_attempts = 1000\nlease = "0.3s"')

    config = configure(0)
    db = await open_db(config)
    await seed(db, config, [("鱼台融媒", draft(n)) for n in range(ALERTS)])
    await db.close()

    cmd = [sys.executable, "-m", "daemon", "once", "--config", str(tmp_path / "config.toml")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = random.Random(7)
    killed_runs: set[int] = set()
    for _ in range(KILLS):
        run_no["n"] += 1
        configure(run_no["n"])
        first_in_run.clear()
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await asyncio.wait_for(first_in_run.wait(), 30)
            await asyncio.sleep(rng.uniform(0, 0.15))
        except TimeoutError:
            pass  # nothing left to send: the run may end by itself
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            killed_runs.add(run_no["n"])
        await proc.wait()
        await asyncio.sleep(0.35)  # let the killed run's lease expire
    for _ in range(5):  # clean runs until the outbox is empty
        run_no["n"] += 1
        configure(run_no["n"])
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL
        )
        assert await proc.wait() == 0
        db = await open_db(config)
        async with db.session() as session:
            left = [r.status for r in await session.exec(select(Delivery)) if r.status != "sent"]
        await db.close()
        if not left:
            break
        await asyncio.sleep(0.35)
    await hook.stop()

    assert left == []
    counts = Counter(url for _, url in received)
    assert set(counts) == {f"http://news.example/{n}.html" for n in range(ALERTS)}
    duplicates = {url: n - 1 for url, n in counts.items() if n > 1}
    # Each duplicate's first copy must be the last alert a killed run got confirmed.
    last_of_killed = {
        next(url for r, url in reversed(received) if r == run)
        for run in killed_runs
        if any(r == run for r, _ in received)
    }
    assert set(duplicates) <= last_of_killed
    assert all(n == 1 for n in duplicates.values())
    assert len(killed_runs) >= KILLS // 2
    print(
        "\ncrash test:",
        json.dumps(
            {
                "kills": len(killed_runs),
                "alerts": ALERTS,
                "received": len(received),
                "duplicates": sum(duplicates.values()),
            }
        ),
    )
