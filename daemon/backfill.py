"""Backfill: a topic that is new, or whose query changed, is matched against the articles
already stored from its ``backfill`` span, and what it matches is owed once.

Without it a topic written today sees only what is fetched from now on, while the
article that prompted it was collected yesterday. The matches go through the same
``store_matches`` as a fetched run, so a story's copies (its cluster) alert once per
topic and channel, and a match already recorded is never owed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from daemon.config import Config, TopicConfig
from daemon.pipeline import combined_hits, run_cpu, topic_rules
from rules import Document
from rules.cache import compile_cached
from storage.articles import new_matches, store_matches
from storage.db import Database
from storage.listings import article_chunks

log = structlog.get_logger("tingfeng.backfill")
CHUNK = 500


@dataclass
class BackfillReport:
    articles: int = 0
    matched: int = 0
    owed: int = 0


async def backfill(
    db: Database, config: Config, topics: Sequence[TopicConfig], since: datetime | None
) -> BackfillReport:
    """Match stored articles fetched since ``since`` against ``topics``; owe the new matches."""
    report = BackfillReport()
    names = {t.name for t in topics}
    if not names:
        return report
    rules = [r for r in topic_rules(config) if r.name in names]
    matcher = await run_cpu(compile_cached, rules)
    topic_channels = {t.name: list(t.channels) for t in topics}
    async for chunk in article_chunks(db, since, CHUNK):
        documents = [
            Document(id=str(a.id), title=a.title, text=a.text, source=source, place=a.place)
            for a, source in chunk
        ]
        found = await run_cpu(matcher.match_many, documents)
        pairs = [
            (article, m.topic, combined_hits(article.title, m.hits))
            for (article, _), matches in zip(chunk, found, strict=True)
            for m in matches
        ]
        report.articles += len(chunk)
        if not pairs:
            continue
        async with db.writing() as session:
            fresh = await new_matches(session, pairs)
            report.matched += len(fresh)
            report.owed += await store_matches(session, fresh, topic_channels)
            await session.commit()
    log.info(
        "backfill done",
        topics=sorted(names),
        articles=report.articles,
        matched=report.matched,
        owed=report.owed,
    )
    return report
