"""Acceptance for issue 13: what people read quotes the paper, through ``once`` and ``digest``.

An article with full-width punctuation, a hit wrapped across lines, mixed-case ``APP``
and a traditional-character variant goes through the real pipeline to a json://
catcher (instant alerts) and a real SMTP server (the digest). Every quote either
shows must be a piece of the stored original text, each hit marked once.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
import socket
import sqlite3
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.cli_runner import run_cli
from tests.conftest import Catcher, Site

TEXT = (
    "本报金乡讯（通讯员 王强）近日，手机扶贫APP提示：瓶装液\n"
    "化石油气钢瓶须定期检验，過期的液化石油氣鋼瓶停用。县应急管理局已责令整改。"
)
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>金乡融媒</title><link>{base}/</link>
<item><title>金乡县开展燃气安全检查</title><link>{base}/a/1.html</link>
<pubDate>Tue, 01 Dec 2026 02:30:00 GMT</pubDate>
<description>{text}</description></item>
</channel></rss>"""

CONFIG = """
[daemon]
first_run_window = "0s"

[storage]
url = "sqlite:///{db}"

[fetch]
per_host_delay = "0s"

[[sources]]
name = "金乡融媒"
kind = "feed"
url = "{base}/feed.xml"

[[topics]]
name = "燃气安全"
query = "液化石油气 OR app OR 通讯员王强"
mode = "substring"
channels = ["chat", "mail"]

[[channels]]
name = "chat"
url = "{catch}"

[[channels]]
name = "mail"
mode = "digest"
at = "08:00"
url = "mailto://127.0.0.1:{smtp}?from=tingfeng@example.com&to=office@example.com&mode=insecure"
"""


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def assert_quotes_the_original(snippet: str, hits: list[str], original: str) -> None:
    """Each run of the snippet between ``…`` cuts, and each hit, is in the original, but
    for whitespace: the page's line wraps are taken out of quotes."""
    assert hits, snippet
    bare = re.sub(r"\s+", "", original)
    for hit in hits:
        assert re.sub(r"\s+", "", hit) in bare, hit
    for piece in snippet.split("…"):
        assert re.sub(r"\s+", "", piece) in bare, piece


async def test_alert_and_digest_quote_the_stored_original(
    site: Site,
    catcher: Catcher,
    smtp: tuple[Inbox, int],
    write_config: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    inbox, port = smtp
    site.add("/feed.xml", FEED.format(base=site.base, text=TEXT), "application/rss+xml")
    config = write_config(
        CONFIG.format(db=tmp_path / "t.db", base=site.base, catch=catcher.url, smtp=port)
    )

    once = await run_cli("once", "--config", str(config))
    assert once.code == 0, once.err
    with sqlite3.connect(tmp_path / "t.db") as db:
        (stored,) = db.execute("select text from articles").fetchone()
    assert "（通讯员 王强）" in stored and "APP" in stored and "液化石油氣" in stored

    # The chat alert (text format): title, where, snippet, link.
    (alert,) = catcher.received
    lines = alert["message"].split("\n")
    assert lines[0] == "金乡县开展燃气安全检查"
    assert lines[1] == "金乡融媒 · 金乡 · 2026-12-01 10:30"  # place found in the text
    snippet = "\n".join(lines[2:-1])
    hits = re.findall(r"【(.*?)】", snippet, re.S)
    assert "APP" in hits and "通讯员 王强" in hits and "液化石油氣" in hits
    assert "液化石油气" in hits  # wrapped in the paper (液\n化石油气), whole in the alert
    assert "\n" not in snippet  # the page's line wraps are not the writer's
    assert "【【" not in snippet and "】】" not in snippet
    assert_quotes_the_original(snippet.replace("【", "").replace("】", ""), hits, stored)

    # The digest by email: HTML quotes with <mark> only, the plain part readable.
    digest = await run_cli("digest", "--config", str(config), "--channel", "mail")
    assert digest.code == 0, digest.err
    (message,) = inbox.messages
    body = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    body = body.replace("\r\n", "\n")  # SMTP's line ends, not the paper's
    shown = re.sub(r'<span style="display:none[^"]*">[^<]*</span>', "", body)
    assert '<meta charset="utf-8">' in body and "【" not in shown  # <mark> alone in HTML
    (quote,) = re.findall(r'<p class="quote"[^>]*>(.*?)</p>', shown, re.S)
    marked = [html.unescape(m) for m in re.findall(r"<mark[^>]*>(.*?)</mark>", quote, re.S)]
    assert "<mark" not in "".join(marked)  # never nested
    plain_quote = html.unescape(re.sub(r"</?mark[^>]*>", "", quote))
    assert_quotes_the_original(plain_quote, marked, stored)
    plain = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "金乡县开展燃气安全检查" in plain
    plain_hits = re.findall(r"【(.*?)】", plain)
    assert sorted(plain_hits) == sorted(marked) and "液化石油气" in plain_hits
    assert_quotes_the_original(plain_hits[0], plain_hits, stored)
