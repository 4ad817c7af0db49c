"""``tingfeng export``: stored articles as JSON lines or CSV, times in local time."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import datetime
from typing import Any

from daemon.commands._shared import config_from, parse_since, run_async
from daemon.config import Config
from daemon.runtime import open_database
from storage.listings import articles_with_topics

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
    async with open_database(config) as db:
        articles = await articles_with_topics(db, since)
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
            "topics": topics,
        }
        for a, source, topics in articles
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
