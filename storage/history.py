"""When a source last had articles, and on which days: what "gone quiet" is judged by."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Article


def _aware(value: datetime) -> datetime:
    """Aggregates may come back naive on SQLite; every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def last_article_at(session: AsyncSession, source_id: int) -> datetime | None:
    """When the source's newest stored article was fetched (None if it has none)."""
    newest = (
        await session.exec(
            select(func.max(Article.fetched_at)).where(col(Article.source_id) == source_id)
        )
    ).one()
    return _aware(newest) if newest is not None else None


async def article_days(
    session: AsyncSession, source_id: int, until: datetime, days: int, tz: tzinfo
) -> list[date]:
    """Local dates, in the ``days`` up to ``until``, on which the source stored articles."""
    rows = await session.exec(
        select(Article.fetched_at).where(
            col(Article.source_id) == source_id,
            col(Article.fetched_at) >= until - timedelta(days=days),
        )
    )
    return sorted({_aware(t).astimezone(tz).date() for t in rows if t is not None})
