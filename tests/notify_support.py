"""Shared helpers for the delivery tests: config, seeding through the pipeline's own store
step, and local receivers (HTTP endpoints, a fake chat bot)."""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from daemon.config import Config, parse_config
from daemon.pipeline import Pipeline
from storage.db import Database
from watchers.article import ArticleDraft
from watchers.fetch import Fetcher

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
) -> Config:
    """A config with one SQLite file in tmp_path; ``channels`` holds [[channels]] tables.

    The text is also written to ``tmp_path/config.toml`` for tests that run the CLI.
    """
    topics = topics or (
        '[[topics]]\nname = "燃气安全"\nquery = "液化石油气 OR 液化气"\nchannels = CHANNELS\n'
    )
    names = [line.split('"')[1] for line in channels.splitlines() if line.startswith("name =")]
    default_url = f"sqlite:///{tmp_path / 't.db'}"
    text = (
        f'[daemon]\nretry_base = "0s"\nfirst_run_window = "0s"\n{daemon}\n'
        f'[storage]\nurl = "{storage_url or default_url}"\n\n'
        f"{topics.replace('CHANNELS', json.dumps(names, ensure_ascii=False))}\n{channels}"
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
