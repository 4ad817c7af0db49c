"""Verified delivery against real local receivers: json://, a fake WeCom bot, MQTT, timeouts."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from aiohttp import web
from sqlmodel import select

from daemon.errors import UserError
from daemon.notify.outbox import deliver_due
from storage.models import Delivery
from tests.notify_support import Receiver, draft, make_config, open_db, seed

SECRET_KEY = "s3cretBotKey42"


async def rows(db: Any) -> list[Delivery]:
    async with db.session() as session:
        return list(await session.exec(select(Delivery).order_by(Delivery.id)))


@pytest.fixture
async def receiver() -> Any:
    r = await Receiver().start()
    yield r
    await r.stop()


async def test_json_alert_is_received_and_recorded_sent(tmp_path: Path, receiver: Receiver) -> None:
    config = make_config(
        tmp_path,
        f'[[channels]]\nname = "hook"\nurl = "json://127.0.0.1:{receiver.port}/hook"\n',
    )
    db = await open_db(config)
    assert await seed(db, config, [("鱼台融媒", draft(1)), ("济宁日报", draft(2))]) == 2
    report = await deliver_due(db, config)
    assert (report.sent, report.failed) == (2, 0)
    messages = [b["message"] for b in receiver.bodies]
    assert any("http://news.example/1.html" in m and "【液化石油气】" in m for m in messages)
    assert all(b["title"] == "[听风] 燃气安全" for b in receiver.bodies)
    assert [r.status for r in await rows(db)] == ["sent", "sent"]
    assert (await deliver_due(db, config)).sent == 0  # sent once, never again
    assert len(receiver.bodies) == 2
    await db.close()


async def test_bot_answering_200_with_errcode_is_a_failure_then_retried(tmp_path: Path) -> None:
    broken = {"on": True}

    async def wecom(call: int, body: dict[str, Any]) -> web.StreamResponse:
        if broken["on"]:
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    bot = await Receiver(wecom).start()
    config = make_config(
        tmp_path,
        f'[[channels]]\nname = "wecom"\nurl = "wecombot://{SECRET_KEY}"\n'
        f'api_base = "http://127.0.0.1:{bot.port}"\n',
    )
    db = await open_db(config)
    await seed(db, config, [("鱼台融媒", draft(1))])
    report = await deliver_due(db, config)
    assert (report.sent, report.failed) == (0, 1)
    (row,) = await rows(db)
    assert row.status == "failed" and "93000" in (row.last_error or "")
    assert SECRET_KEY not in (row.last_error or "")
    assert bot.bodies[0]["_path"] == f"/cgi-bin/webhook/send?key={SECRET_KEY}"
    content = bot.bodies[0]["text"]["content"]
    assert content.startswith("[听风] 燃气安全\n") and len(content.encode()) <= 2048
    broken["on"] = False
    report = await deliver_due(db, config)
    assert report.sent == 1
    (row,) = await rows(db)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    await db.close()
    await bot.stop()


async def test_endpoint_down_three_times_receives_on_fourth(tmp_path: Path) -> None:
    async def flaky(call: int, body: dict[str, Any]) -> web.StreamResponse:
        return web.Response(status=503) if call <= 3 else web.json_response({})

    hook = await Receiver(flaky).start()
    config = make_config(
        tmp_path, f'[[channels]]\nname = "hook"\nurl = "json://127.0.0.1:{hook.port}/"\n'
    )
    db = await open_db(config)
    await seed(db, config, [("鱼台融媒", draft(1))])
    statuses = []
    for _ in range(4):
        await deliver_due(db, config)
        statuses.append((await rows(db))[0].status)
    assert statuses == ["failed", "failed", "failed", "sent"]
    assert [b["_status"] for b in hook.bodies] == [503, 503, 503, 200]
    assert (await rows(db))[0].attempts == 4
    await db.close()
    await hook.stop()


async def test_mqtt_alert_reaches_a_subscriber(tmp_path: Path) -> None:
    topic = f"tingfeng/test/{uuid.uuid4().hex}"
    received: list[str] = []
    subscribed = asyncio.Event()
    loop = asyncio.get_running_loop()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *_: loop.call_soon_threadsafe(subscribed.set)
    client.on_message = lambda c, u, msg: received.append(msg.payload.decode())
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    try:
        await asyncio.wait_for(subscribed.wait(), 10)
        config = make_config(
            tmp_path, f'[[channels]]\nname = "mq"\nurl = "mqtt://127.0.0.1:1883/{topic}"\n'
        )
        db = await open_db(config)
        await seed(db, config, [("鱼台融媒", draft(7))])
        assert (await deliver_due(db, config)).sent == 1
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.05)
        assert len(received) == 1 and "http://news.example/7.html" in received[0]
        await db.close()
    finally:
        client.loop_stop()
        client.disconnect()


async def test_timeout_and_template_error_leave_others_unaffected(
    tmp_path: Path, receiver: Receiver
) -> None:
    async def slow(call: int, body: dict[str, Any]) -> web.StreamResponse:
        await asyncio.sleep(2)
        return web.json_response({"errcode": 0})

    stuck = await Receiver(slow).start()
    templates = tmp_path / "tpl"
    templates.mkdir()
    (templates / "alert.markdown.j2").write_text("{{ a.title }} {{ a.missing }}")
    config = make_config(
        tmp_path,
        f'[[channels]]\nname = "hook"\nurl = "json://127.0.0.1:{receiver.port}/"\n'
        f'[[channels]]\nname = "slow"\nurl = "wecombot://{SECRET_KEY}"\ntimeout = "0.3s"\n'
        f'api_base = "http://127.0.0.1:{stuck.port}"\n'
        f'[[channels]]\nname = "md"\nurl = "json://127.0.0.1:{receiver.port}/md"\n'
        'format = "markdown"\n',
        daemon='templates = "tpl"',
    )
    db = await open_db(config)
    await seed(db, config, [("鱼台融媒", draft(1))])
    report = await deliver_due(db, config)
    assert (report.sent, report.failed) == (1, 2)
    by_channel = {r.channel_id: r for r in await rows(db)}
    errors = sorted(r.last_error or "" for r in by_channel.values() if r.status == "failed")
    assert errors[0].startswith("channel md: template alert.markdown.j2") and "missing" in errors[0]
    assert errors[1] == "channel slow: no answer within 0.3s"
    assert [b["_path"] for b in receiver.bodies] == ["/"]
    await db.close()
    await stuck.stop()


def test_invalid_apprise_url_names_channel_never_the_secret(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        make_config(tmp_path, '[[channels]]\nname = "ops"\nurl = "wecombot://bad key!S3CRET%%"\n')
    message = str(caught.value)
    assert 'channel "ops"' in message and "channels[0].url" in message
    assert "S3CRET" not in message and "bad key" not in message


def test_channel_repr_never_shows_the_url(tmp_path: Path) -> None:
    config = make_config(tmp_path, f'[[channels]]\nname = "w"\nurl = "wecombot://{SECRET_KEY}"\n')
    assert SECRET_KEY not in repr(config) and SECRET_KEY not in json.dumps(
        config.model_dump(mode="json"), default=str
    )


async def test_a_template_failing_at_send_time_sends_nothing_and_stays_owed(
    tmp_path: Path, receiver: Receiver
) -> None:
    """A template that compiles but cannot render this alert (a field that does not exist)
    sends no half-rendered message: the delivery fails with the template named, and goes
    out whole once the template is fixed."""
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "alert.text.j2").write_text("{{ a.title }}\n{{ a.no_such_field }}\n{{ a.url }}\n")
    config = make_config(
        tmp_path,
        f'[[channels]]\nname = "hook"\nurl = "json://127.0.0.1:{receiver.port}/hook"\n',
        daemon=f'templates = "{folder}"',
    )
    db = await open_db(config)
    await seed(db, config, [("鱼台融媒", draft(1))])
    report = await deliver_due(db, config)
    assert (report.sent, report.failed) == (0, 1) and receiver.bodies == []
    (row,) = await rows(db)
    assert row.status == "failed"
    assert "alert.text.j2" in (row.last_error or "") and "no_such_field" in (row.last_error or "")
    (folder / "alert.text.j2").write_text("{{ a.title }}\n{{ a.url }}\n")
    assert (await deliver_due(db, config)).sent == 1
    assert receiver.bodies[0]["message"].endswith("http://news.example/1.html")
    await db.close()
