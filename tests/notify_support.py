"""Shared helpers for the delivery tests: config, seeding through the pipeline's own store
step, and local receivers (HTTP endpoints, a fake chat bot)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlmodel import select

from daemon.config import Config, parse_config
from daemon.pipeline import Pipeline
from storage.db import Database
from storage.models import Delivery
from watchers.article import ArticleDraft
from watchers.fetch import Fetcher

ROOT = Path(__file__).resolve().parent.parent

LPG_TEXT = (
    "本报讯 为切实加强瓶装液化石油气安全管理，县应急管理局联合市场监管、住建等部门，"
    "对全县液化气充装站和餐饮场所开展专项检查，共排查隐患12处，责令整改8家。"
)


def make_config(
    tmp_path: Path,
    channels: str,
    daemon: str = "",
    topics: str | None = None,
    storage_url: str | None = None,
    extra: str = "",
) -> Config:
    """A config with one SQLite file in tmp_path; ``channels`` holds [[channels]] tables.

    ``extra`` is appended as is (``[[sources]]``, ``[fetch]``). The text is also written
    to ``tmp_path/config.toml`` for tests that run the CLI.
    """
    topics = topics or (
        '[[topics]]\nname = "燃气安全"\nquery = "液化石油气 OR 液化气"\nchannels = CHANNELS\n'
    )
    names = [line.split('"')[1] for line in channels.splitlines() if line.startswith("name =")]
    default_url = f"sqlite:///{tmp_path / 't.db'}"
    text = (
        f'[daemon]\nretry_base = "0s"\nfirst_run_window = "0s"\n{daemon}\n'
        f'[storage]\nurl = "{storage_url or default_url}"\n\n'
        f"{topics.replace('CHANNELS', json.dumps(names, ensure_ascii=False))}\n{channels}\n{extra}"
    )
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    return parse_config(text, tmp_path / "config.toml")


_FILLER = [
    "镇街",
    "社区",
    "网格员",
    "入户",
    "走访",
    "台账",
    "隐患",
    "清单",
    "整改",
    "回头看",
    "督导",
    "考核",
    "夜查",
    "暗访",
    "餐饮",
    "商户",
    "学校",
    "医院",
    "市场",
    "工地",
    "仓库",
    "车站",
    "气瓶",
    "阀门",
    "软管",
    "报警器",
    "灭火器",
    "通道",
    "线路",
    "宣传",
    "培训",
    "演练",
    "值班",
    "巡查",
    "通报",
    "约谈",
    "罚款",
    "停业",
    "复查",
    "验收",
    "档案",
    "预案",
    "物资",
    "队伍",
    "热线",
    "举报",
    "奖励",
    "群众",
    "企业",
]


def story_text(n: int) -> str:
    """LPG_TEXT plus a long tail of its own, so that deduplication keeps stories apart."""
    rng = random.Random(n)
    tail = "，".join("".join(rng.sample(_FILLER, 3)) for _ in range(30))
    return f"{LPG_TEXT}第{n}批次：{tail}。"


def draft(n: int, title: str = "", text: str = "", place: str = "鱼台") -> ArticleDraft:
    return ArticleDraft(
        url=f"http://news.example/{n}.html",
        title=title or f"液化气专项整治第{n}期",
        text=text or story_text(n),
        place=place,
        published=datetime(2024, 6, 8, 1, 30, tzinfo=UTC),
    )


async def open_db(config: Config) -> Database:
    db = Database(config.storage_url())
    await db.migrate()
    return db


async def seed(db: Database, config: Config, items: list[tuple[str, ArticleDraft]]) -> int:
    """Store (source name, draft) pairs through the pipeline's own store step (matching,
    deduplication, owed deliveries) as feed sources added to ``config``; returns alerts owed."""
    names = sorted({name for name, _ in items})
    sources = "".join(
        f'\n[[sources]]\nname = "{n}"\nkind = "feed"\nurl = "http://{n}.example/"\n' for n in names
    )
    seeded = parse_config(config.path.read_text(encoding="utf-8") + sources, config.path)
    pipeline = Pipeline(seeded, db, Fetcher(seeded.fetch))
    await pipeline.prepare()
    owed = 0
    for spec in seeded.sources:
        if spec.name in names:
            drafts = [d for s, d in items if s == spec.name]
            owed += (await pipeline.store(spec, drafts)).owed
    return owed


@dataclass
class Receiver:
    """A local HTTP endpoint that records every request body and answers via ``reply``."""

    reply: Callable[[int, dict[str, Any]], Awaitable[web.StreamResponse]] | None = None
    bodies: list[dict[str, Any]] = field(default_factory=list)
    calls: int = 0
    port: int = 0
    runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.calls += 1
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"raw": raw.decode("utf-8", "replace")}
        body["_path"] = request.path_qs
        if self.reply is not None:
            response = await self.reply(self.calls, body)
        else:
            response = web.json_response({"ok": True})
        body["_status"] = response.status
        self.bodies.append(body)
        return response

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def wecom_ok(call: int, body: dict[str, Any]) -> web.StreamResponse:
    """A WeCom bot that accepts everything (HTTP 200 with errcode 0)."""
    return web.json_response({"errcode": 0, "errmsg": "ok"})


def wecom_channel(port: int, extra: str = "", name: str = "wecom") -> str:
    """A ``wecombot://`` channel posting to a local bot instead of qyapi.weixin.qq.com."""
    return (
        f'[[channels]]\nname = "{name}"\nurl = "wecombot://localTestKey"\n'
        f'api_base = "http://127.0.0.1:{port}"\n{extra}\n'
    )


_ARTICLE_URL = re.compile(r"http://news\.example/\d+\.html")


def article_urls(bodies: list[dict[str, Any]]) -> list[str]:
    """The article links in what a receiver got (json:// or a WeCom bot), in order."""
    found: list[str] = []
    for body in bodies:
        if body.get("_status", 200) != 200:
            continue
        text = body.get("message") or body.get("text", {}).get("content", "")
        found += _ARTICLE_URL.findall(str(text))
    return found


QUIET_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>县融媒体</title><link>http://town.example/</link>
<item><title>县医院开展义诊活动</title><link>http://town.example/1.html</link>
<pubDate>Mon, 20 May 2024 04:00:00 GMT</pubDate>
<description>专家深入乡镇开展义诊，提供健康咨询服务。</description></item>
</channel></rss>"""


async def quiet_feed(call: int, body: dict[str, Any]) -> web.StreamResponse:
    """A feed that never has anything to alert: its sources only keep the daemon busy."""
    return web.Response(text=QUIET_FEED, content_type="application/rss+xml")


def feed_sources(port: int, count: int) -> str:
    """``count`` sources polling a local quiet feed every 10 s, so that several source
    jobs finish (and want alerts delivered) while the outbox is sending."""
    blocks = [
        f'[[sources]]\nname = "feed{n}"\nkind = "feed"\n'
        f'url = "http://127.0.0.1:{port}/feed{n}.xml"\nevery = "10s"\n'
        for n in range(count)
    ]
    return '[fetch]\nper_host_delay = "0s"\n\n' + "\n".join(blocks)


async def wait_until(done: Callable[[], bool], seconds: float, step: float = 0.1) -> bool:
    """Poll ``done`` until it holds or ``seconds`` passed; returns whether it held."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not done():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(step)
    return True


class DaemonProcess:
    """``tingfeng run`` in a subprocess, its JSON log in a file (a pipe nobody reads fills)."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> DaemonProcess:
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "daemon",
                "run",
                "--config",
                str(self.config),
                "--json-logs",
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
            )
        return self

    def logged(self, event: str) -> int:
        """How many times the log has recorded ``event``."""
        if not self.log.exists():
            return 0
        return self.log.read_text(encoding="utf-8", errors="replace").count(f'"event": "{event}"')

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        return await asyncio.wait_for(self.proc.wait(), 60)


async def statuses(db: Database) -> Counter[str]:
    """How many outbox rows are in each state."""
    async with db.session() as session:
        return Counter(r.status for r in await session.exec(select(Delivery)))
