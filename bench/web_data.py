"""A realistic stored history for the console benchmark, written fast.

100,000 articles through the pipeline would take most of an hour (fetch, dedup
sketches, matching); the console only reads, so this writes the same rows the pipeline
writes — sources and topics synced from a real config by ``Pipeline.prepare``, then
articles, clusters and matches with hits in bulk. Texts are built from CJK words and
full-width punctuation with no spaces, so ``normalize`` keeps every offset and the
stored hit spans are exactly where the topic words were put.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from daemon.config import Config, parse_config
from daemon.pipeline import Pipeline
from storage.db import Database
from storage.models import Article, Match, Source, Topic
from watchers.dates import SITE_TZ
from watchers.fetch import Fetcher

PLACES = [
    "鱼台", "金乡", "嘉祥", "汶上", "泗水", "梁山", "曲阜", "邹城", "微山", "兖州",
    "任城", "高新区", "太白湖", "经开区", "济宁",
]  # fmt: skip
TOPIC_WORDS = [
    "液化石油气", "安全生产", "防汛", "森林防火", "食品安全", "校园欺凌", "电动自行车",
    "燃气泄漏", "地质灾害", "危化品", "消防通道", "农民工工资", "医保基金", "养老服务",
    "河长制", "秸秆焚烧", "非法集资", "电信诈骗", "大气污染", "高标准农田",
]  # fmt: skip
FILLER = [
    "镇街", "社区", "网格员", "入户", "走访", "台账", "隐患", "清单", "整改", "督导",
    "考核", "夜查", "暗访", "餐饮", "商户", "学校", "医院", "市场", "工地", "仓库",
    "车站", "阀门", "宣传", "培训", "演练", "值班", "巡查", "通报", "约谈", "复查",
    "验收", "档案", "预案", "物资", "队伍", "热线", "举报", "群众", "企业", "部署",
]  # fmt: skip
PUNCT = ["，", "。", "；", "、", "：", "（", "）"]
SOURCES = 40
EPAPERS = 10  # the first sources are e-papers: dated, no time of day, with a 版面


def config_text(db_url: str, feed_port: int) -> str:
    """Twenty topics (one word each) and forty feed sources on a local feed server."""
    topics = "".join(
        f'[[topics]]\nname = "主题{n:02d}{word}"\nquery = "{word}"\n\n'
        for n, word in enumerate(TOPIC_WORDS)
    )
    sources = "".join(
        f'[[sources]]\nname = "{PLACES[n % len(PLACES)]}{"日报" if n < EPAPERS else "融媒"}{n}"\n'
        f'kind = "feed"\nurl = "http://127.0.0.1:{feed_port}/feed{n}.xml"\n'
        f'region = "{PLACES[n % len(PLACES)]}"\n\n'
        for n in range(SOURCES)
    )
    return (
        '[daemon]\nfirst_run_window = "0s"\n\n'
        f'[storage]\nurl = "{db_url}"\n\n'
        '[fetch]\nper_host_delay = "0s"\n\n'
        f"{topics}{sources}"
    )


def load_config(path: Path) -> Config:
    return parse_config(path.read_text(encoding="utf-8"), path)


def _sentence(rng: random.Random) -> str:
    words = rng.choices(FILLER, k=rng.randint(4, 9))
    return "".join(w + (rng.choice(PUNCT) if rng.random() < 0.3 else "") for w in words) + "。"


def story(rng: random.Random, topics: list[int]) -> tuple[str, str, list[tuple[int, int, int]]]:
    """(title, text, [(topic index, start, end) into combined_text])."""
    title = "".join(rng.choices(FILLER, k=rng.randint(3, 6)))
    hits: list[tuple[int, int, int]] = []
    if topics and rng.random() < 0.5:
        cut = rng.randint(0, len(title))
        word = TOPIC_WORDS[topics[0]]
        title = title[:cut] + word + title[cut:]
        hits.append((topics[0], cut, cut + len(word)))
    parts: list[str] = []
    length = 0
    shift = len(title) + 1
    placed = list(topics)
    for _ in range(rng.randint(15, 40)):
        sentence = _sentence(rng)
        if placed and rng.random() < 0.3:
            word = TOPIC_WORDS[placed.pop()]
            start = shift + length + 2
            sentence = sentence[:2] + word + sentence[2:]
            hits.append((TOPIC_WORDS.index(word), start, start + len(word)))
        parts.append(sentence)
        length += len(sentence)
    for word_index in placed:
        word = TOPIC_WORDS[word_index]
        hits.append((word_index, shift + length, shift + length + len(word)))
        parts.append(word)
        length += len(word)
    return title, "".join(parts), hits


async def generate(
    config: Config, db: Database, articles: int, clusters: int, seed: int = 14
) -> None:
    """Store ``articles`` articles over the last 60 days: ``clusters`` stories carried by
    2–6 sources, the rest by one; about a quarter match one or two of the 20 topics."""
    await Pipeline(config, db, Fetcher(config.fetch)).prepare()
    rng = random.Random(seed)
    async with db.session() as session:
        sources = dict((await session.execute(select(Source.name, Source.id))).all())
        by_name = dict((await session.execute(select(Topic.name, Topic.id))).all())
    topic_ids = [by_name[t.name] for t in config.topics]
    source_ids = [sources[s.name] for s in config.sources]
    now = datetime.now(UTC)
    article_rows: list[dict[str, Any]] = []
    match_rows: list[dict[str, Any]] = []
    next_id = 1
    while next_id <= articles:
        copies = rng.randint(2, 6) if rng.random() < clusters / (articles / 1.5) else 1
        copies = min(copies, articles - next_id + 1)
        picked = rng.sample(range(len(source_ids)), copies)
        topics = rng.sample(range(20), rng.randint(1, 2)) if rng.random() < 0.25 else []
        title, text, hits = story(rng, topics)
        when = now - timedelta(seconds=rng.uniform(0, 60 * 86400))
        cluster_id = next_id
        for copy, source_index in enumerate(picked):
            article_id = next_id
            next_id += 1
            fetched = when + timedelta(minutes=30 * copy + rng.uniform(0, 20))
            epaper = source_index < EPAPERS
            if epaper:
                day = fetched.astimezone(SITE_TZ).date()
                published = datetime(day.year, day.month, day.day, tzinfo=SITE_TZ)
            else:
                published = fetched - timedelta(minutes=rng.uniform(5, 120))
            url = f"http://src{source_index}.example/{article_id}.html"
            article_rows.append(
                {
                    "id": article_id,
                    "source_id": source_ids[source_index],
                    "url": url,
                    "url_key": url,
                    "title": title,
                    "kicker": "",
                    "subtitle": "",
                    "author": "",
                    "text": text,
                    "place": PLACES[source_index % len(PLACES)],
                    "page": f"第{rng.randint(1, 8):02d}版：要闻" if epaper else "",
                    "kind": "article",
                    "published_at": published.astimezone(UTC),
                    "fetched_at": fetched,
                    "content_hash": hashlib.sha1(text.encode()).hexdigest(),
                    "cluster_id": cluster_id,
                    "extra": {"pdf": f"http://src{source_index}.example/p{article_id}.pdf"}
                    if epaper
                    else {},
                }
            )
            by_topic: dict[int, list[list[Any]]] = {}
            for topic_index, start, end in hits:
                by_topic.setdefault(topic_index, []).append([start, end, TOPIC_WORDS[topic_index]])
            for topic_index, topic_hits in by_topic.items():
                match_rows.append(
                    {
                        "article_id": article_id,
                        "topic_id": topic_ids[topic_index],
                        "cluster_id": cluster_id,
                        "hits": topic_hits,
                        "created_at": fetched,
                        "story_at": published.astimezone(UTC),
                    }
                )
        if len(article_rows) >= 5000:
            await _flush(db, article_rows, match_rows)
    await _flush(db, article_rows, match_rows)


async def _flush(
    db: Database, article_rows: list[dict[str, Any]], match_rows: list[dict[str, Any]]
) -> None:
    async with db.writing() as session:
        if article_rows:
            await session.execute(insert(Article), article_rows)
        if match_rows:
            await session.execute(insert(Match), match_rows)
        await session.commit()
    article_rows.clear()
    match_rows.clear()
