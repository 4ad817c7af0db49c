"""Digests through a real SMTP server (aiosmtpd): MIME parts, recipients, grouping, retries."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import socket
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlmodel import select

from daemon.notify.digest import build_digest
from daemon.notify.outbox import deliver_due
from storage.models import Delivery
from tests.cli_runner import cli
from tests.notify_support import (
    DaemonProcess,
    Receiver,
    draft,
    make_config,
    open_db,
    seed,
    wait_until,
)

PASSWORD = "mailPa55word"
TOPICS = """
[[topics]]
name = "燃气安全"
query = "液化石油气 OR 液化气"
channels = CHANNELS

[[topics]]
name = "防汛"
query = "防汛 OR 暴雨"
channels = CHANNELS
"""


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Any:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def mail_channel(port: int, extra: str = "", user: str = "") -> str:
    auth = f"{user}:{PASSWORD}@" if user else ""
    return (
        '[[channels]]\nname = "morning"\nmode = "digest"\nat = "08:00"\n'
        f'url = "mailto://{auth}127.0.0.1:{port}?from=tingfeng@example.com'
        f'&to=alice@example.com,bob@example.org&mode=insecure"\n{extra}'
    )


ITEMS = [
    ("鱼台融媒", draft(1)),
    ("鱼台融媒", draft(2)),
    ("济宁日报", draft(3)),
    ("济宁日报", draft(4, title="暴雨预警 全县防汛值守", text="各镇街做好防汛准备，转移群众。")),
]


async def test_digest_email_parts_recipients_titles_links_and_marks(
    tmp_path: Path, smtp: Any, storage_url: str
) -> None:
    inbox, port = smtp
    config = make_config(tmp_path, mail_channel(port), topics=TOPICS, storage_url=storage_url)
    db = await open_db(config)
    assert await seed(db, config, ITEMS) == 8  # one row per recipient
    assert (await deliver_due(db, config)).sent == 0  # digest channels wait for their digest
    assert len(await build_digest(db, config.channel("morning"))) == 2
    report = await deliver_due(db, config)
    assert (report.sent, report.failed) == (2, 0)
    assert sorted(r for rcpts, _ in inbox.messages for r in rcpts) == [
        "alice@example.com",
        "bob@example.org",
    ]
    for rcpts, message in inbox.messages:
        assert message["To"] == rcpts[0]  # nobody sees the other recipient
        assert "bob" not in str(message["Cc"] or "") + str(message["Bcc"] or "")
        assert message["Subject"].startswith("[听风] ")
        assert message["Subject"].endswith(" 2个主题 4条")
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        plain = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert '<meta charset="utf-8">' in html
        for _, item in ITEMS:
            assert f'<a href="{item.url}" style="' in html
            assert html.count(f">{item.title}</a>") == 1  # the story's title links to it
            assert html.count(item.title) == 2  # once in the contents, once as the story
            assert item.title in plain and item.url in plain
        assert ">液化石油气</mark>" in html and ">防汛</mark>" in html
        shown = re.sub(r'<span style="display:none[^"]*">[^<]*</span>', "", html)
        assert "【" not in shown  # the HTML marks hits once, by <mark>
        # The plain part a person reads: contents, then each story, hits marked once by 【】.
        lines = plain.replace("\r\n", "\n").split("\n")
        assert lines[:3] == [message["Subject"], "", "目录"]
        assert "燃气安全（3条）" in lines[3:8] and "<mark" not in plain
        assert plain.count("【液化石油气】") >= 1 and "【防汛】" in plain
        assert "【【" not in plain and "】】" not in plain
        assert plain.count("【") == len(re.findall("<mark", html))
        assert "\n\n\n" not in plain.replace("\r\n", "\n")
        assert html.index("燃气安全</a>（3条）") < html.index("防汛</a>（1条）")
        assert html.index("燃气安全（3条）</h2>") < html.index("防汛（1条）</h2>")
        assert "http" not in html.split("<body", 1)[1].split("href=")[0]  # no external files
    async with db.session() as session:
        statuses = sorted(r.status for r in await session.exec(select(Delivery)))
    assert statuses == ["sent"] * 10
    # Everything was had: the next digest is empty, and empty digests are not sent.
    assert await build_digest(db, config.channel("morning")) == []
    await db.close()


async def test_refused_login_keeps_the_digest_owed_then_dead_hands_items_back(
    tmp_path: Path,
) -> None:
    def refuse(*_: Any) -> AuthResult:
        return AuthResult(success=False, handled=False)

    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, authenticator=refuse, auth_require_tls=False
    )
    controller.start()
    try:
        config = make_config(
            tmp_path, mail_channel(port, user="mailer"), daemon="max_attempts = 2", topics=TOPICS
        )
        db = await open_db(config)
        await seed(db, config, ITEMS[:2])
        digest_ids = await build_digest(db, config.channel("morning"))
        assert len(digest_ids) == 2  # one per recipient
        first = await deliver_due(db, config)
        assert (first.sent, first.failed, first.dead) == (0, 2, 0)
        assert first.errors[0].startswith("channel morning: ")
        assert PASSWORD not in first.errors[0]
        async with db.session() as session:
            items = list(await session.exec(select(Delivery).where(Delivery.kind == "alert")))
        assert {(i.status, i.digest_id) for i in items} == {("batched", d) for d in digest_ids}
        second = await deliver_due(db, config)
        assert second.dead == 2
        async with db.session() as session:
            rows = {r.id: r for r in await session.exec(select(Delivery))}
        for digest_id in digest_ids:
            assert rows[digest_id].status == "dead"
            assert rows[digest_id].operator_alerted_at is not None  # logged: no admin channel
        assert {(r.status, r.digest_id) for r in rows.values() if r.kind == "alert"} == {
            ("pending", None)
        }
        assert inbox.messages == []
        await db.close()
    finally:
        controller.stop()


def test_digest_cli_dry_run_writes_html_and_sends_nothing(tmp_path: Path, smtp: Any) -> None:
    inbox, port = smtp
    config = make_config(tmp_path, mail_channel(port), topics=TOPICS)

    async def prepare() -> None:
        db = await open_db(config)
        await seed(db, config, ITEMS)
        await db.close()

    asyncio.run(prepare())
    args = ["digest", "--config", str(tmp_path / "config.toml")]
    out = tmp_path / "digest.html"
    dry = cli(*args, "--dry-run", "--out", str(out))
    assert dry.code == 0 and "2个主题 4条 (4 items)" in dry.out
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html
    assert all(f'<a href="{item.url}" style="' in html for _, item in ITEMS)
    assert inbox.messages == []
    unknown = cli(*args, "--channel", "nope")
    assert unknown.code == 2 and 'no digest channel "nope"' in unknown.err
    sent = cli(*args)
    assert sent.code == 0 and "digests built: 1" in sent.out
    assert len(inbox.messages) == 2


class RefusingInbox(Inbox):
    """Answers ``451`` to RCPT TO for ``refused`` the first ``times`` times."""

    def __init__(self, refused: str, times: int) -> None:
        super().__init__()
        self.refused, self.times = refused, times

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address == self.refused and self.times > 0:
            self.times -= 1
            return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


async def test_digest_to_two_recipients_one_refusing_reaches_each_exactly_once(
    tmp_path: Path, storage_url: str
) -> None:
    """Issue 12: bob answering 451 must not make alice receive the digest again."""
    inbox = RefusingInbox("bob@example.org", times=3)
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config = make_config(tmp_path, mail_channel(port), topics=TOPICS, storage_url=storage_url)
        db = await open_db(config)
        await seed(db, config, ITEMS)
        assert await build_digest(db, config.channel("morning"))
        for _ in range(5):
            await deliver_due(db, config)
        received = sorted(r for rcpts, _ in inbox.messages for r in rcpts)
        assert received == ["alice@example.com", "bob@example.org"]
        async with db.session() as session:
            rows = list(await session.exec(select(Delivery)))
        assert {r.status for r in rows} == {"sent"}
        assert sorted(r.recipient for r in rows if r.kind == "digest") == [
            "alice@example.com",
            "bob@example.org",
        ]
        await db.close()
    finally:
        controller.stop()


@pytest.mark.slow
@pytest.mark.timeout(300)  # real daemons; slow to start on a loaded machine
async def test_digest_whose_time_passed_while_down_is_sent_once_at_start_up(
    tmp_path: Path, storage_url: str
) -> None:
    """Issue 12: started after the digest's time, the daemon sends that digest at once
    (and only once: a second start does not send it again)."""
    hook = await Receiver().start()
    config = make_config(
        tmp_path,
        f'[[channels]]\nname = "morning"\nmode = "digest"\nat = "08:00"\n'
        f'url = "json://127.0.0.1:{hook.port}/digest"\n',
        daemon='outbox_every = "0.3s"',
        topics=TOPICS,
        storage_url=storage_url,
    )
    db = await open_db(config)
    await seed(db, config, ITEMS)
    async with db.writing() as session:  # owed since two days ago: the daemon was down
        for row in await session.exec(select(Delivery)):
            row.created_at -= timedelta(days=2)
            session.add(row)
        await session.commit()
    config_path, log = tmp_path / "config.toml", tmp_path / "run.log"
    try:
        first = await DaemonProcess(config_path, log).start()
        assert await wait_until(lambda: len(hook.bodies) >= 1, 60)
        assert await first.stop() == 0
        second = await DaemonProcess(config_path, log).start()
        assert await wait_until(lambda: second.logged("daemon started") == 2, 60)
        await asyncio.sleep(2)  # several outbox passes
        assert await second.stop() == 0
    finally:
        await hook.stop()
    (digest,) = hook.bodies
    assert digest["title"].endswith(" 2个主题 4条")
    assert all(item.url in digest["message"] for _, item in ITEMS)
    async with db.session() as session:
        assert {r.status for r in await session.exec(select(Delivery))} == {"sent"}
    await db.close()
