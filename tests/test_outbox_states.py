"""Outbox states seen by operators: quiet hours, dead letters, `tingfeng outbox` and retry."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import structlog.testing
from aiohttp import web
from sqlmodel import select

from daemon.notify.outbox import deliver_due
from storage.models import Delivery
from tests.cli_runner import run_cli
from tests.notify_support import (
    DaemonProcess,
    Receiver,
    article_urls,
    draft,
    make_config,
    open_db,
    seed,
    wait_until,
)
from tests.notify_support import statuses as row_statuses

# Tomorrow 23:30 and the morning after, 07:30, Asia/Shanghai (after the rows are owed).
_TOMORROW = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)
NIGHT = _TOMORROW.replace(hour=23, minute=30, second=0, microsecond=0)
MORNING = NIGHT + timedelta(hours=8)
TOKEN = "adminT0kenXYZ"


@pytest.fixture
async def receiver() -> Any:
    r = await Receiver().start()
    yield r
    await r.stop()


async def statuses(db: Any) -> list[tuple[str, str]]:
    async with db.session() as session:
        rows = await session.exec(select(Delivery).order_by(Delivery.id))
        return [(r.kind, r.status) for r in rows]


async def test_quiet_hours_hold_alerts_until_they_end(
    tmp_path: Path, receiver: Receiver, storage_url: str
) -> None:
    config = make_config(
        tmp_path,
        f'[[channels]]\nname = "chat"\nurl = "json://127.0.0.1:{receiver.port}/"\n'
        'quiet_hours = "22:00-07:00"\n',
        storage_url=storage_url,
    )
    db = await open_db(config)
    await seed(db, config, [("鱼台融媒", draft(1)), ("鱼台融媒", draft(2))])
    assert (await deliver_due(db, config, now=NIGHT)).sent == 0
    assert receiver.bodies == [] and await statuses(db) == [("alert", "pending")] * 2
    assert (await deliver_due(db, config, now=MORNING)).sent == 2
    assert len(receiver.bodies) == 2
    await db.close()


async def test_quiet_hours_fold_into_one_digest_at_their_end(
    tmp_path: Path, receiver: Receiver, storage_url: str
) -> None:
    config = make_config(
        tmp_path,
        f'[[channels]]\nname = "chat"\nurl = "json://127.0.0.1:{receiver.port}/"\n'
        'quiet_hours = "22:00-07:00"\nquiet = "digest"\n',
        storage_url=storage_url,
    )
    db = await open_db(config)
    await seed(db, config, [("鱼台融媒", draft(1)), ("鱼台融媒", draft(2))])
    assert (await deliver_due(db, config, now=NIGHT)).sent == 0
    assert await statuses(db) == [("alert", "batched")] * 2 + [("digest", "pending")]
    assert (await deliver_due(db, config, now=MORNING)).sent == 1
    (body,) = receiver.bodies
    assert body["title"].endswith(" 1个主题 2条")
    assert "1.html" in body["message"] and "2.html" in body["message"]
    assert await statuses(db) == [("alert", "sent")] * 2 + [("digest", "sent")]
    await db.close()


async def test_dead_letter_alerts_operator_once_lists_and_retries(
    tmp_path: Path, receiver: Receiver, storage_url: str
) -> None:
    async def down(call: int, body: dict[str, Any]) -> web.StreamResponse:
        return web.Response(status=500, text="boom")

    broken = await Receiver(down).start()
    config = make_config(
        tmp_path,
        f'[[channels]]\nname = "chat"\nurl = "json://user:{TOKEN}@127.0.0.1:{broken.port}/"\n'
        f'[[channels]]\nname = "admin"\nurl = "json://127.0.0.1:{receiver.port}/admin"\n',
        daemon='max_attempts = 2\nadmin_channel = "admin"',
        topics='[[topics]]\nname = "燃气安全"\nquery = "液化气"\nchannels = ["chat"]\n',
        storage_url=storage_url,
    )
    db = await open_db(config)
    await seed(db, config, [("鱼台融媒", draft(1))])
    assert (await deliver_due(db, config)).failed == 1
    assert receiver.bodies == []
    assert (await deliver_due(db, config)).dead == 1
    (alert,) = receiver.bodies
    assert alert["title"] == "[听风·运维] 渠道 chat 投递失败：1 条已放弃"
    assert "tingfeng outbox retry --all-dead" in alert["message"]
    assert "500" in alert["message"] and TOKEN not in alert["message"]
    await deliver_due(db, config)
    assert len(receiver.bodies) == 1  # once per outage
    await db.close()
    await broken.stop()

    cli = ["outbox", "--config", str(tmp_path / "config.toml")]
    listed = await run_cli(*cli)
    assert listed.code == 0, listed.err
    assert "\tchat\tdead\tattempts=2\t" in listed.out and "500" in listed.out
    # which topic and article the row is for
    assert "\talert\t燃气安全\t液化气专项整治第1期\tchat\t" in listed.out
    assert TOKEN not in listed.out
    retried = await run_cli(*cli, "retry", "--all-dead")
    assert retried.code == 0 and "1 delivery due again" in retried.out
    pending = await run_cli(*cli, "--status", "pending")
    assert pending.code == 0 and "\tchat\tpending\tattempts=0\t" in pending.out
    missing = await run_cli(*cli, "retry", "99")
    assert missing.code == 2 and "no delivery with id 99" in missing.err


@pytest.mark.slow
@pytest.mark.timeout(300)  # real daemons; slow to start on a loaded machine
def channel_news(receiver: Receiver) -> list[dict[str, Any]]:
    """Operator messages about channels (seeding 21 matching articles in one run also
    flags the topic as too broad, which is not what these tests count)."""
    return [b for b in receiver.bodies if b["title"].startswith("[听风·运维] 渠道 ")]


@pytest.mark.slow
@pytest.mark.timeout(300)  # a real daemon; slow to start on a loaded machine
async def test_channel_outage_alerts_once_and_recovery_requeues_its_dead_rows(
    tmp_path: Path, receiver: Receiver, storage_url: str
) -> None:
    """Issue 12: 21 rows dead in one outage → one operator message (with the count), then
    a later delivery that works → one recovery message, and the 21 are sent after all."""
    down = {"on": True}

    async def chat(call: int, body: dict[str, Any]) -> web.StreamResponse:
        return web.Response(status=500, text="boom") if down["on"] else web.json_response({})

    broken = await Receiver(chat).start()
    config = make_config(
        tmp_path,
        f'[[channels]]\nname = "chat"\nurl = "json://127.0.0.1:{broken.port}/"\n'
        f'[[channels]]\nname = "admin"\nurl = "json://127.0.0.1:{receiver.port}/admin"\n',
        daemon='max_attempts = 2\nadmin_channel = "admin"\noutbox_every = "0.3s"',
        topics='[[topics]]\nname = "燃气安全"\nquery = "液化气"\nchannels = ["chat"]\n',
        storage_url=storage_url,
    )
    db = await open_db(config)
    await seed(db, config, [("鱼台融媒", draft(n)) for n in range(21)])
    daemon = await DaemonProcess(tmp_path / "config.toml", tmp_path / "run.log").start()
    try:
        assert await wait_until(lambda: len(channel_news(receiver)) >= 1, 60)
        assert not await wait_until(lambda: len(channel_news(receiver)) > 1, 2)
        assert (await row_statuses(db)) == {"dead": 21}
        down["on"] = False
        await seed(db, config, [("鱼台融媒", draft(21))])  # a later alert gets through
        assert await wait_until(lambda: len(set(article_urls(broken.bodies))) >= 22, 60)
        assert await wait_until(lambda: len(channel_news(receiver)) >= 2, 30)
        assert not await wait_until(lambda: len(channel_news(receiver)) > 2, 2)
    finally:
        assert await daemon.stop() == 0
        await broken.stop()
    outage, recovery = channel_news(receiver)
    assert outage["title"] == "[听风·运维] 渠道 chat 投递失败：21 条已放弃"
    assert "500" in outage["message"]
    assert recovery["title"] == "[听风·运维] 渠道 chat 已恢复：21 条重新排队"
    assert (await row_statuses(db)) == {"sent": 22}
    assert Counter(article_urls(broken.bodies)).most_common(1)[0][1] == 1
    await db.close()


async def test_rows_of_a_removed_channel_go_dead_and_the_operator_hears_once(
    tmp_path: Path, receiver: Receiver
) -> None:
    admin = f'[[channels]]\nname = "admin"\nurl = "json://127.0.0.1:{receiver.port}/admin"\n'
    settings = 'max_attempts = 1\nadmin_channel = "admin"'
    config = make_config(
        tmp_path,
        f'[[channels]]\nname = "chat"\nurl = "json://127.0.0.1:{receiver.port}/chat"\n{admin}',
        daemon=settings,
        topics='[[topics]]\nname = "燃气安全"\nquery = "液化气"\nchannels = ["chat"]\n',
    )
    db = await open_db(config)
    await seed(db, config, [("鱼台融媒", draft(n)) for n in range(3)])
    edited = make_config(
        tmp_path,
        admin,
        daemon=settings,
        topics='[[topics]]\nname = "燃气安全"\nquery = "液化气"\nchannels = ["admin"]\n',
    )
    report = await deliver_due(db, edited)
    assert (report.sent, report.dead) == (0, 3)
    assert report.errors == ["channel is no longer in the config"] * 3
    await deliver_due(db, edited)
    (alert,) = receiver.bodies
    assert alert["title"] == "[听风·运维] 渠道 chat 已从配置中删除：3 条已放弃"
    assert await row_statuses(db) == {"dead": 3}
    await db.close()


async def test_each_delivery_is_logged_with_topic_channel_and_title(
    tmp_path: Path, receiver: Receiver, storage_url: str
) -> None:
    config = make_config(
        tmp_path,
        f'[[channels]]\nname = "ops-chat"\nurl = "json://127.0.0.1:{receiver.port}/"\n',
        topics='[[topics]]\nname = "燃气安全"\nquery = "液化气"\nchannels = ["ops-chat"]\n',
        storage_url=storage_url,
    )
    db = await open_db(config)
    await seed(db, config, [("鱼台融媒", draft(1, title="鱼台县开展液化气钢瓶专项整治行动"))])
    with structlog.testing.capture_logs() as logged:
        assert (await deliver_due(db, config)).sent == 1
    await db.close()
    assert "sent 燃气安全 → ops-chat: 鱼台县开展液化气钢瓶专…" in [e["event"] for e in logged]
