"""Reading stored articles back: exports, backtests and (later) the console.

The CLI and any future console page read articles through these operations, so a
change of schema or of how a query is paged is made once, here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime

from sqlmodel import col, func, select

from storage.db import Database
from storage.models import Article, Match, Source, Topic

_IN_CHUNK = 500  # ids per IN (...) list, well under every driver's parameter limit


async def articles_with_topics(
    db: Database, since: datetime | None
) -> list[tuple[Article, str, list[str]]]:
    """(article, source name, matched topic names) for every article fetched since ``since``."""
    async with db.session() as session:
        query = select(Article, Source.name).join(Source, col(Source.id) == col(Article.source_id))
        if since is not None:
            query = query.where(col(Article.fetched_at) >= since)
        articles = list(await session.exec(query.order_by(col(Article.id))))
        topics: dict[int, list[str]] = defaultdict(list)
        ids = [a.id for a, _ in articles]
        for start in range(0, len(ids), _IN_CHUNK):
            pairs = await session.exec(
                select(Match.article_id, Topic.name)
                .join(Topic, col(Topic.id) == col(Match.topic_id))
                .where(col(Match.article_id).in_(ids[start : start + _IN_CHUNK]))
                .order_by(col(Match.id))
            )
            for article_id, name in pairs:
                topics[article_id].append(name)
    return [(a, source, topics.get(a.id or 0, [])) for a, source in articles]


async def count_articles(db: Database, since: datetime | None) -> int:
    """How many stored articles :func:`article_chunks` will yield: a progress display's total."""
    query = select(func.count()).select_from(Article)
    if since is not None:
        query = query.where(col(Article.fetched_at) >= since)
    async with db.session() as session:
        return int((await session.exec(query)).one())


async def article_chunks(
    db: Database, since: datetime | None, size: int
) -> AsyncIterator[list[tuple[Article, str]]]:
    """Stored articles (with their source's name) in id order, ``size`` at a time.

    Each chunk is its own short read, so memory stays flat however many are stored.
    """
    last = 0
    while True:
        query = (
            select(Article, Source.name)
            .join(Source, col(Source.id) == col(Article.source_id))
            .where(col(Article.id) > last)
            .order_by(col(Article.id))
            .limit(size)
        )
        if since is not None:
            query = query.where(col(Article.fetched_at) >= since)
        async with db.session() as session:
            rows = list(await session.exec(query))
        if not rows:
            return
        yield rows
        last = rows[-1][0].id or 0
