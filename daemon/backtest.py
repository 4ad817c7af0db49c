"""Backtesting a topic on stored articles, and showing hits as the article printed them.

``tingfeng match --stored`` and the console's 主题 workbench ask the same question
("what would this query have matched?") of the same articles, so the reading,
matching and tallying live here once; each caller only presents the answer. Storage
is imported only when stored articles are read: ``match --input`` uses the tally and
the quotes without paying for a database layer.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from rules import Document, Hit, Matcher, TopicMatch, normalize_mapped

if TYPE_CHECKING:
    from storage.db import Database

CHUNK = 1000
"""Stored articles read and matched per batch: memory stays flat however many are stored."""
EXAMPLES = 3


def original_quotes(doc: Document, hits: Iterable[Hit]) -> list[list[Any]]:
    """Each hit as printed: ``[field, start, end, text]`` into the original title or text.

    Hit spans index the normalised text (the contract outside checks rely on); people
    want the paper's words (``APP``, ``（通讯员 王强）``, ``液\\n化石油气``), so this maps
    them back through :func:`rules.normalize_mapped`. Opt-in: it costs a pass over
    each matched article.
    """
    maps = {"title": (doc.title, normalize_mapped(doc.title))}
    out: list[list[Any]] = []
    for hit in hits:
        if hit.field not in maps:
            maps[hit.field] = (doc.text, normalize_mapped(doc.text))
        original, mapped = maps[hit.field]
        start, end = mapped.original_span(hit.start, hit.end)
        out.append([hit.field, start, end, original[start:end]])
    return out


@dataclass
class TopicTally:
    articles: int = 0
    clusters: set[Any] = field(default_factory=set)
    examples: list[str] = field(default_factory=list)
    # Matched articles per local day they were fetched (when they would have alerted).
    days: Counter[date] = field(default_factory=Counter)


class Summary:
    """Per-topic counts: articles, distinct clusters, matches per day, example titles.

    Near-duplicates share a cluster, so the cluster count is roughly how many alerts
    the topic would have sent; an article without a cluster counts as its own.
    """

    def __init__(self, topics: Iterable[str], examples: int = EXAMPLES) -> None:
        self.scanned = 0
        self.examples = examples
        self.tallies = {name: TopicTally() for name in topics}

    def add(
        self, doc: Document, cluster: int | None, found: list[TopicMatch], day: date | None = None
    ) -> None:
        self.scanned += 1
        for match in found:
            tally = self.tallies[match.topic]
            tally.articles += 1
            tally.clusters.add(("cluster", cluster) if cluster is not None else ("id", doc.id))
            if day is not None:
                tally.days[day] += 1
            if len(tally.examples) < self.examples:
                where = f" [{doc.source}]" if doc.source else ""
                tally.examples.append(f"{doc.title or doc.id}{where}")


@dataclass(frozen=True)
class StoredDoc:
    id: int
    doc: Document
    cluster: int | None
    # Local day it was fetched (when it would have alerted), in the backtest's zone.
    day: date


async def stored_documents(
    db: Database, since: datetime | None, tz: tzinfo
) -> AsyncIterator[list[StoredDoc]]:
    """Stored articles fetched since ``since`` in id order, :data:`CHUNK` at a time."""
    from storage.listings import article_chunks

    async for rows in article_chunks(db, since, CHUNK):
        yield [
            StoredDoc(
                a.id or 0,
                Document(str(a.id), a.title, a.text, source, a.place),
                a.cluster_id,
                a.fetched_at.astimezone(tz).date(),
            )
            for a, source in rows
        ]


async def backtest(
    db: Database,
    matcher: Matcher,
    since: datetime | None,
    tz: tzinfo,
    each: Callable[[StoredDoc, list[TopicMatch]], None],
    scanned_so_far: Callable[[int], None] | None = None,
    *,
    on_total: Callable[[int], None] | None = None,
) -> int:
    """Match stored articles chunk by chunk (in a worker thread), handing each article
    and its matches to ``each``; returns how many were scanned. For a progress display,
    ``on_total`` first hears how many there are (a count query) and ``scanned_so_far``
    the running count after each chunk."""
    if on_total is not None:
        from storage.listings import count_articles

        on_total(await count_articles(db, since))
    scanned = 0
    async for chunk in stored_documents(db, since, tz):
        found = await asyncio.to_thread(matcher.match_many, [s.doc for s in chunk])
        for stored, matches in zip(chunk, found, strict=True):
            each(stored, matches)
        scanned += len(chunk)
        if scanned_so_far is not None:
            scanned_so_far(scanned)
    return scanned
