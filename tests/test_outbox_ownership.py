"""Ownership of a claim, with the real daemon (``tingfeng run``) and a local WeCom bot.

A claimed row belongs to one worker's token: a lease that runs out while the
channel's pace is still working through a burst must not let another pass send
the same alerts again, and a clean stop hands unsent claims back at once.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

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

BURST = 200


@pytest.mark.slow
@pytest.mark.timeout(300)  # real daemons; slow to start on a loaded machine
async def test_burst_to_a_paced_bot_under_a_short_lease_sends_each_alert_once(
    tmp_path: Path, storage_url: str
) -> None:
    """Issue 12: 200 alerts at the bot's pace outlast a 1 s lease (no crash): 0 duplicates."""
    bot = await Receiver(wecom_ok).start()
    feeds = await Receiver(quiet_feed).start()
    config = make_config(
        tmp_path,
        wecom_channel(bot.port, 'rate_limit = "20/s"'),
        daemon='lease = "1s"\noutbox_every = "0.3s"',
        storage_url=storage_url,
        extra=feed_sources(feeds.port, 3),
    )
    db = await open_db(config)
    await seed(db, config, [("鱼台融媒", draft(n)) for n in range(BURST)])
    daemon = await DaemonProcess(tmp_path / "config.toml", tmp_path / "run.log").start()
    try:
        assert await wait_until(lambda: len(set(article_urls(bot.bodies))) >= BURST, 120)
        # A second pass re-sending an expired claim would post within a lease or two.
        assert not await wait_until(lambda: len(article_urls(bot.bodies)) > BURST, 3)
    finally:
        assert await daemon.stop() == 0
        await bot.stop()
        await feeds.stop()
    counts = Counter(article_urls(bot.bodies))
    assert set(counts) == {f"http://news.example/{n}.html" for n in range(BURST)}
    assert [url for url, n in counts.items() if n > 1] == []
    assert await statuses(db) == {"sent": BURST}
    await db.close()


@pytest.mark.slow
@pytest.mark.timeout(300)  # real daemons; slow to start on a loaded machine
async def test_sigterm_hands_back_claims_and_a_restart_sends_the_rest_at_once(
    tmp_path: Path,
) -> None:
    """A clean stop leaves nothing claimed, even under an hour-long lease."""
    bot = await Receiver(wecom_ok).start()
    config = make_config(
        tmp_path,
        wecom_channel(bot.port, 'rate_limit = "5/s"'),
        daemon='lease = "1h"\noutbox_every = "0.3s"',
    )
    db = await open_db(config)
    await seed(db, config, [("鱼台融媒", draft(n)) for n in range(30)])
    config_path, log = tmp_path / "config.toml", tmp_path / "run.log"
    try:
        first = await DaemonProcess(config_path, log).start()
        assert await wait_until(lambda: len(bot.bodies) >= 3, 60)
        assert await first.stop() == 0
        sent_by_first = len(article_urls(bot.bodies))
        assert sent_by_first < 30  # it stopped sending instead of finishing the burst
        left = await statuses(db)
        assert left["claimed"] == 0 and left["sent"] == sent_by_first

        second = await DaemonProcess(config_path, log).start()
        assert await wait_until(lambda: len(set(article_urls(bot.bodies))) >= 30, 60)
        assert await second.stop() == 0
    finally:
        await bot.stop()
    counts = Counter(article_urls(bot.bodies))
    assert len(counts) == 30 and set(counts.values()) == {1}
    assert await statuses(db) == {"sent": 30}
    await db.close()
