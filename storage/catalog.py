"""Sources, topics and channels mirrored from config into the database by name.

Config is the truth for what exists; the database keeps what config cannot:
health history and the ids that matches and deliveries point at.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.console_models import AuditEntry
from storage.db import Database
from storage.models import Channel, HttpCache, Source, Topic
from storage.types import utcnow

CATALOG_LOCK = 0x7469_6E67_6361_7461  # "tingcata"


async def sync_catalog(
    session: AsyncSession,
    sources: Iterable[tuple[str, str, str]],
    topics: Iterable[tuple[str, str]],
    channels: Iterable[tuple[str, str, list[str]]],
) -> dict[str, Source]:
    """Upsert (name, kind, url) sources, (name, query) topics and (name, mode,
    recipients) channels; ``recipients`` lists the addresses of an email channel that
    has several (each is owed its own delivery row), else it is empty.

    On PostgreSQL under an advisory lock: instances starting together on one database
    would otherwise both insert the same new names and one would die of it.
    """
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CATALOG_LOCK})
    existing = {s.name: s for s in await session.exec(select(Source))}
    for name, kind, url in sources:
        row = existing.get(name)
        if row is None:
            row = existing[name] = Source(name=name, kind=kind, url=url)
        row.kind, row.url = kind, url
        session.add(row)
    known_topics = {t.name: t for t in await session.exec(select(Topic))}
    for name, query in topics:
        topic = known_topics.get(name) or Topic(name=name, query=query)
        topic.query = query
        session.add(topic)
    known_channels = {c.name: c for c in await session.exec(select(Channel))}
    for name, mode, recipients in channels:
        channel = known_channels.get(name) or Channel(name=name, mode=mode)
        channel.mode, channel.recipients = mode, list(recipients)
        session.add(channel)
    await session.flush()
    return existing


async def changed_topics(session: AsyncSession, topics: Iterable[tuple[str, str]]) -> list[str]:
    """Names among (name, query) ``topics`` that are new to the database or whose query
    differs from the stored one: those a ``backfill`` applies to (before syncing)."""
    known = {t.name: t.query for t in await session.exec(select(Topic))}
    return [name for name, query in topics if known.get(name) != query]


async def stored_sources(db: Database) -> dict[str, Source]:
    """Every source row (with its health) by name, including ones no longer configured."""
    async with db.session() as session:
        return {s.name: s for s in await session.exec(select(Source))}


class NoSuchSource(LookupError):
    """A source name the database does not know (it is added when the daemon first starts
    with it in config)."""


async def set_paused(db: Database, name: str, paused: bool, user_id: int | None) -> bool:
    """Pause (or resume) a source and audit who did it; returns whether anything changed.

    A paused source keeps its health history; the daemon and ``once`` skip its runs.
    """
    async with db.writing() as session:
        source = (await session.exec(select(Source).where(Source.name == name))).first()
        if source is None:
            raise NoSuchSource(
                f'source "{name}" is not in the database yet (the daemon adds it on its first run)'
            )
        if (source.paused_at is not None) == paused:
            return False
        source.paused_at = utcnow() if paused else None
        session.add(source)
        action = "source.pause" if paused else "source.resume"
        session.add(AuditEntry(user_id=user_id, action=action, target=name))
        await session.commit()
        return True


async def is_paused(db: Database, name: str) -> bool:
    """Read fresh on every run: a pause may come from another process (``tingfeng web``)."""
    async with db.session() as session:
        source = (await session.exec(select(Source).where(Source.name == name))).first()
        return source is not None and source.paused_at is not None


async def record_success(
    session: AsyncSession,
    source: Source,
    articles: int,
    next_run: datetime | None,
    state: dict[str, Any] | None = None,
) -> None:
    """A run worked: the incident (if any) is over and the watcher's state is kept."""
    now = utcnow()
    source.last_run_at = source.last_success_at = now
    source.failures_in_row = 0
    source.last_article_count = articles
    source.next_run_at = next_run
    source.alerted_at = None
    if state is not None:
        source.state = dict(state)
    session.add(source)


async def record_failure(
    session: AsyncSession,
    source: Source,
    error: str,
    next_run: datetime | None,
    state: dict[str, Any] | None = None,
) -> None:
    """A run failed (or, with ``state``, ran but the source has gone quiet)."""
    now = utcnow()
    source.last_run_at = source.last_error_at = now
    source.last_error = error[:2000]
    source.failures_in_row += 1
    source.next_run_at = next_run
    if state is not None:
        source.state = dict(state)
    session.add(source)


async def record_alerted(session: AsyncSession, source: Source) -> None:
    """The operator knows about this incident; do not alert again until it is over."""
    source.alerted_at = utcnow()
    session.add(source)


class RunValidators:
    """A source run's ETag/Last-Modified store: reads what is saved, buffers what is new.

    New validators are written only with the run's articles (``save``), so a run that
    fails after fetching cannot leave a 304 hiding articles that were never stored.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.fresh: dict[str, tuple[str | None, str | None]] = {}

    async def get(self, url: str) -> tuple[str | None, str | None]:
        async with self.db.session() as session:
            row = await session.get(HttpCache, url)
            return (row.etag, row.last_modified) if row else (None, None)

    async def put(self, url: str, etag: str | None, last_modified: str | None) -> None:
        self.fresh[url] = (etag, last_modified)

    async def discard(self, url: str) -> None:
        self.fresh.pop(url, None)

    async def save(self, session: AsyncSession) -> None:
        for url, (etag, last_modified) in self.fresh.items():
            row = await session.get(HttpCache, url) or HttpCache(url=url)
            row.etag, row.last_modified, row.checked_at = etag, last_modified, utcnow()
            session.add(row)
