"""Console topics, user channels and subscriptions reach the daemon: ``once`` alerts a
subscriber's own channel, a deleted topic stops matching but its subscribers keep the
row, and a running daemon picks up a new subscription without a restart."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from daemon.config import load_config
from daemon.console_config import effective_config, mail_url
from daemon.pipeline import Pipeline
from daemon.service import Daemon
from daemon.web.passwords import hash_password
from storage import accounts, console_defs
from storage.db import Database
from tests.cli_runner import run_cli
from tests.conftest import Catcher, Site
from tests.notify_support import Receiver
from tests.test_daemon_run import start_daemon
from tests.test_pipeline_e2e import build_site, config_text
from watchers.fetch import Fetcher


async def _user(db: Database, name: str) -> int:
    user = await accounts.add_user(db, name, hash_password("pw-123456"))
    assert user.id is not None
    return user.id


async def _open(config: Path) -> Database:
    db = Database(load_config(config).storage_url())
    await db.migrate()
    return db


async def test_once_alerts_a_subscribers_own_channel_for_config_and_console_topics(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    build_site(site)
    config = write_config(config_text(tmp_path, site, catcher.url))
    mine = await Receiver().start()
    db = await _open(config)
    try:
        uid = await _user(db, "王芳")
        await console_defs.ensure_topics(db, [("燃气", "液化石油气")])
        wheat = await console_defs.create_topic(db, "小麦", {"query": "小麦"}, uid, {"燃气"})
        channel = await console_defs.add_channel(
            db, uid, "我的机器人", "chat", f"json://127.0.0.1:{mine.port}/hook", {}
        )
        gas = next(t for t in await console_defs.list_topics(db) if t.name == "燃气")
        await console_defs.set_subscriptions(db, uid, [(gas.id, channel.id), (wheat.id, None)])
    finally:
        await db.close()

    result = await run_cli("once", "--config", str(config))

    assert result.code == 0, result.err
    config_titles = sorted(m["message"].split("\n")[0] for m in catcher.received)
    assert config_titles == ["市场监管局检查充装站", "我县开展燃气安全大检查"]
    mine_titles = sorted(b["message"].split("\n")[0] for b in mine.bodies)
    # 燃气 through the user's channel; 小麦 is followed in the console only: matched, not sent
    assert mine_titles == config_titles
    with sqlite3.connect(tmp_path / "t.db") as conn:
        matched = conn.execute(
            "select count(*) from matches join topics on topics.id = matches.topic_id "
            "where topics.name = '小麦'"
        ).fetchone()[0]
    assert matched == 1
    await mine.stop()


async def test_deleted_topic_drops_out_and_its_subscribers_keep_the_row(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    path = write_config(f'[storage]\nurl = "sqlite:///{tmp_path / "t.db"}"\n')
    db = await _open(path)
    uid = await _user(db, "li")
    made = await console_defs.create_topic(db, "小麦", {"query": "小麦"}, uid, set())
    channel = await console_defs.add_channel(db, uid, "bot", "chat", "json://127.0.0.1:9/x", {})
    await console_defs.set_subscriptions(db, uid, [(made.id, channel.id)])
    before = await effective_config(load_config(path), db)
    assert [(t.name, t.channels) for t in before.topics] == [("小麦", [channel.name])]
    assert [c.name for c in before.channels] == [f"user:{uid}:{channel.id}"]

    assert made.console is not None and made.console.id is not None
    await console_defs.delete_topic(db, made.console.id, uid)

    after = await effective_config(load_config(path), db)
    assert after.topics == []
    view = await console_defs.topic_view(db, made.id)
    assert view is not None and view.name == "小麦" and view.console is None
    assert [s.topic_id for s in await console_defs.user_subscriptions(db, uid)] == [made.id]
    await db.close()


async def test_names_versions_and_audit(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 't.db'}")
    await db.migrate()
    a, b = await _user(db, "a"), await _user(db, "b")
    start = await console_defs.console_generation(db)
    with pytest.raises(console_defs.DefinitionError, match="最长 100 个字符"):
        await console_defs.create_topic(db, "长" * 101, {"query": "x"}, a, set())
    with pytest.raises(console_defs.DefinitionError, match="配置文件"):
        await console_defs.create_topic(db, "燃气", {"query": "x"}, a, {"燃气"})
    made = await console_defs.create_topic(db, "🌾 小麦 ", {"query": "小麦"}, a, set())
    assert made.name == "🌾 小麦"
    with pytest.raises(console_defs.DefinitionError, match="已存在"):
        await console_defs.create_topic(db, "🌾 小麦", {"query": "x"}, b, set())
    assert made.console is not None and made.console.id is not None
    cid = made.console.id

    _, first = await console_defs.save_topic(
        db, cid, "🌾 小麦", {"query": "小麦 OR 麦收"}, b, 1, set()
    )
    assert first is None
    # a's form was opened at version 1; b saved since: a's save wins and names b
    saved, noticed = await console_defs.save_topic(db, cid, "麦收", {"query": "麦收"}, a, 1, set())
    assert saved.version == 3 and saved.name == "麦收"
    assert noticed is not None and noticed.user_name == "b" and noticed.version == 2
    view = await console_defs.topic_view(db, made.id)
    assert view is not None and view.name == "麦收" and view.query == "麦收"

    secret = "json://127.0.0.1:9/hook?token=SeCrEtToKeN123"
    channel = await console_defs.add_channel(db, a, "bot", "chat", secret, {})
    with pytest.raises(console_defs.DefinitionError, match="渠道"):
        await console_defs.set_subscriptions(db, b, [(made.id, channel.id)])
    assert await console_defs.get_channel(db, b, channel.id or 0) is None
    await console_defs.update_channel(db, a, channel.id or 0, "bot2", None, {"mode": "digest"})
    kept = await console_defs.get_channel(db, a, channel.id or 0)
    assert kept is not None and kept.url == secret and kept.label == "bot2"
    await console_defs.delete_channel(db, a, channel.id or 0)

    generation = await console_defs.console_generation(db)
    assert generation >= start + 6
    # a password change touches no topic or channel: the daemon need not reload for it
    await console_defs.record(db, a, "user.passwd", "a")
    assert await console_defs.console_generation(db) == generation
    with sqlite3.connect(tmp_path / "t.db") as conn:
        rows = conn.execute("select action, target, detail from audit_log").fetchall()
    actions = [r[0] for r in rows]
    for action in ("topic.create", "topic.update", "channel.add", "channel.delete"):
        assert action in actions
    assert not any("SeCrEt" in str(r) for r in rows)
    await db.close()


def test_email_channels_send_through_the_configured_server() -> None:
    server = "mailtos://bot:pa55word@smtp.example.org:465?from=tingfeng@example.org&to=old@x.org"
    url = mail_url(server, "wang.fang@example.org")
    assert url.startswith("mailtos://bot:pa55word@smtp.example.org:465?")
    assert "to=wang.fang@example.org" in url and "old@x.org" not in url
    assert "from=tingfeng@example.org" in url


@pytest.mark.slow
async def test_subscription_added_while_run_is_running_applies_without_restart(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    build_site(site)
    fast = 'url = "{base}/feed.xml"\nevery = "10s"\njitter = "0s"'
    text = config_text(tmp_path, site, catcher.url).replace(
        f'url = "{site.base}/feed.xml"', fast.format(base=site.base)
    )
    config = write_config(text)
    mine = await Receiver().start()
    proc = await start_daemon(config)
    db = await _open(config)
    try:
        for _ in range(300):
            if len(catcher.received) >= 2:
                break
            await asyncio.sleep(0.1)
        assert len(catcher.received) == 2

        uid = await _user(db, "zhang")
        channel = await console_defs.add_channel(
            db, uid, "bot", "chat", f"json://127.0.0.1:{mine.port}/hook", {}
        )
        gas = next(t for t in await console_defs.list_topics(db) if t.name == "燃气")
        await console_defs.set_subscriptions(db, uid, [(gas.id, channel.id)])
        await asyncio.sleep(12)  # the daemon looks for console changes every 10 s
        feed = (
            site.pages["/feed.xml"][1]
            .decode()
            .replace(
                "</channel>",
                "<item><title>液化气站夜查</title><link>{BASE}/feed/3.html</link>"
                "<description>夜查瓶装液化石油气充装站。</description></item></channel>",
            )
        )
        site.add("/feed.xml", feed, "application/rss+xml")
        for _ in range(300):
            if mine.bodies:
                break
            await asyncio.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        await db.close()
        await mine.stop()

    assert [b["message"].split("\n")[0] for b in mine.bodies] == ["液化气站夜查"]
    assert '"event": "config reloaded"' in err.decode()
    assert proc.returncode == 0


async def test_a_digest_time_changed_in_the_console_reschedules_the_running_daemon(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    path = write_config(
        f'[storage]\nurl = "sqlite:///{tmp_path / "t.db"}"\n'
        '[web]\nemail_url = "mailto://bot:pw@127.0.0.1:2525?from=tf@example.org"\n'
    )
    config = load_config(path)
    db = Database(config.storage_url())
    await db.migrate()
    daemon = Daemon(config, Pipeline(config, db, Fetcher(config.fetch)))
    uid = await _user(db, "wang")
    settings = {"mode": "digest", "at": "08:00", "every": "daily", "weekday": "mon"}
    channel = await console_defs.add_channel(db, uid, "mail", "email", "w@example.org", settings)
    await daemon.reload()
    job = daemon.scheduler.get_job(f"digest:{channel.name}")
    assert job is not None and "hour='8', minute='0'" in str(job.trigger)

    weekly = {**settings, "at": "17:30", "every": "weekly", "weekday": "fri"}
    await console_defs.update_channel(db, uid, channel.id or 0, "mail", None, weekly)
    await daemon.reload()
    job = daemon.scheduler.get_job(f"digest:{channel.name}")
    assert job is not None
    assert "day_of_week='fri', hour='17', minute='30'" in str(job.trigger)
    assert (
        daemon.pipeline.config.channel(channel.name)
        .url.get_secret_value()
        .endswith("to=w@example.org")
    )
    await db.close()
