"""``tingfeng export``: stored articles as JSON lines or CSV, times in local time."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from daemon.commands._shared import config_from, parse_since, run_async
from daemon.config import Config
from daemon.runtime import open_database
from storage.models import Article, Match, Source, Topic

FIELDS = [
    "id",
    "source",
    "url",
    "title",
    "kicker",
    "text",
    "place",
    "page",
    "pdf",
    "published",
    "fetched",
    "cluster",
    "topics",
]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("export", parents=[common], help="export stored articles")
    parser.add_argument("--since", help="a date (2024-05-20) or an age (7d, 12h)")
    parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    parser.set_defaults(handler=run)


async def rows(config: Config, since: datetime | None) -> list[dict[str, Any]]:
    async with open_database(config) as db, db.session() as session:
        query = select(Article, Source.name).join(Source, col(Source.id) == col(Article.source_id))
        if since is not None:
            query = query.where(col(Article.fetched_at) >= since)
        articles = list(await session.exec(query.order_by(col(Article.id))))
        topics: dict[int, list[str]] = defaultdict(list)
        ids = [a.id for a, _ in articles]
        for start in range(0, len(ids), 500):
            pairs = await session.exec(
                select(Match.article_id, Topic.name)
                .join(Topic, col(Topic.id) == col(Match.topic_id))
                .where(col(Match.article_id).in_(ids[start : start + 500]))
                .order_by(col(Match.id))
            )
            for article_id, name in pairs:
                topics[article_id].append(name)
    tz = config.tz
    return [
        {
            "id": a.id,
            "source": source,
            "url": a.url,
            "title": a.title,
            "kicker": a.kicker,
            "text": a.text,
            "place": a.place,
            "page": a.page,
            "pdf": str(a.extra.get("pdf") or ""),
            "published": a.published_at.astimezone(tz).isoformat() if a.published_at else None,
            "fetched": a.fetched_at.astimezone(tz).isoformat(),
            "cluster": a.cluster_id,
            "topics": topics.get(a.id or 0, []),
        }
        for a, source in articles
    ]


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    records = run_async(rows(config, parse_since(args.since, config)))
    if args.format == "jsonl":
        for record in records:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        writer = csv.DictWriter(sys.stdout, fieldnames=FIELDS)
        writer.writeheader()
        for record in records:
            writer.writerow(record | {"topics": ";".join(record["topics"])})
    return 0
