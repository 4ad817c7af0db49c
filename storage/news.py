"""Reading matched stories back for people: 今日动态, one story, and the feeds.

The console's news page, its story page and the RSS/Atom feeds all show "what matched,
newest first, one row per story" — this module is the one place that knows how to fold
a cluster's copies into one row and how to page through them quickly, so the three
views (and any later API) agree on what a story is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.console_models import ConsoleChannel, Subscription, User
from storage.db import Database
from storage.models import Article, Channel, Delivery, Match, Source, Topic
from storage.types import utcnow

# Spans tried before grouping every match: most pages are filled by recent stories.
RECENT = (timedelta(days=2), timedelta(days=14), timedelta(days=90))


@dataclass(frozen=True)
class NewsFilter:
    """What a reader asked to see. Times are UTC bounds (``until`` exclusive); the page
    turns the reader's local dates into them.

    ``topic_ids`` are the topics picked in the form (any of them); with ``subscriber``
    (a user id) only matches of topics that user follows count — a staff member's
    default view and their personal feed. Both together: topics in both.
    """

    topic_ids: tuple[int, ...] = ()
    subscriber: int | None = None
    place: str = ""
    source_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str = ""


@dataclass
class StoryRow:
    """One story (cluster) as a row: its first matching copy, folded with the others."""

    article_id: int
    cluster_id: int
    title: str
    url: str
    source: str
    page: str
    place: str
    time: datetime | None  # published_at, else fetched_at
    published: datetime | None
    text: str
    topics: list[str]
    # Stored hits of this copy's matches: [start, end, term] into combined_text.
    hits: list[list[Any]]
    also: list[str] = field(default_factory=list)  # other sources that carried it
    copies: int = 1


@dataclass
class StoryPage:
    rows: list[StoryRow]
    total: int  # stories (clusters) that match, over all pages
    page: int
    per_page: int
    # (id, name) of every topic and source, sorted by name, to filter by (``choices``)
    topics: list[tuple[int, str]] = field(default_factory=list)
    sources: list[tuple[int, str]] = field(default_factory=list)
    follows: int | None = None  # how many topics ``subscriber`` follows

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass
class Copy:
    article_id: int
    source: str
    title: str
    url: str
    page: str
    time: datetime | None


@dataclass
class StoryMatch:
    topic_id: int
    topic: str
    hits: list[list[Any]]
    created_at: datetime


@dataclass
class StoryDelivery:
    """An alert or digest line owed for the story, to whom, and what became of it.

    Never the channel's URL: ``channel`` is its name (config) or the owner's label.
    """

    topic: str
    channel: str
    owner: str  # the console user who owns the channel ("" for config channels)
    recipient: str
    kind: str
    status: str
    sent_at: datetime | None
    last_error: str | None
    attempts: int


@dataclass
class Story:
    article: Article
    source: str
    pdf: str
    copies: list[Copy]
    matches: list[StoryMatch]
    deliveries: list[StoryDelivery]


def _conditions(
    filters: NewsFilter, sqlite: bool
) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """WHERE terms: (on matches alone, on the matched article)."""
    terms: list[ColumnElement[bool]] = []
    on_article: list[ColumnElement[bool]] = []
    if filters.topic_ids:
        terms.append(col(Match.topic_id).in_(filters.topic_ids))
    if filters.subscriber is not None:
        followed = select(Subscription.topic_id).where(Subscription.user_id == filters.subscriber)
        terms.append(col(Match.topic_id).in_(followed))
    if filters.place:
        on_article.append(col(Article.place) == filters.place)
    if filters.source_id is not None:
        on_article.append(col(Article.source_id) == filters.source_id)
    if filters.since is not None:
        terms.append(col(Match.story_at) >= filters.since)
    if filters.until is not None:
        terms.append(col(Match.story_at) < filters.until)
    if filters.text:
        title, text = col(Article.title), col(Article.text)
        if sqlite or filters.text.upper() == filters.text.lower():
            # SQLite's LIKE already ignores ASCII case, and Chinese has no case to ignore;
            # lower()/ILIKE would fold every text read (over 40,000 matched articles:
            # SQLite 180 ms instead of 105, PostgreSQL 790 ms instead of 240).
            found = [c.contains(filters.text, autoescape=True) for c in (title, text)]
        else:
            found = [c.icontains(filters.text, autoescape=True) for c in (title, text)]
        on_article.append(or_(*found))
    return terms, on_article


async def list_stories(
    db: Database, filters: NewsFilter, page: int = 1, per_page: int = 30, *, choices: bool = False
) -> StoryPage:
    """Matched stories newest first, one row per cluster, ``per_page`` at a time.

    A story's time is when its first matching copy appeared; the row shows that copy,
    and the cluster's other sources as "also reported by". A handful of short reads in
    one session (each session costs a connection check-out and an identity check):
    the page of clusters, the total, their matching copies, who carried them, the
    topic names, and with ``choices`` the sources to filter by.
    """
    page = max(1, page)
    on_match, on_article = _conditions(filters, db.is_sqlite)
    terms = on_match + on_article
    first = func.min(col(Match.story_at)).label("first")
    joined = bool(on_article)
    # Without article filters, matches alone answer (one covering index) and a separate
    # count scans that index in a millisecond, less than a window count over the groups.
    # With them (a text search reads every matched article's text), one scan that also
    # counts beats scanning twice.
    grouped = select(  # type: ignore[call-overload]
        col(Match.cluster_id), first, func.count().over() if joined else literal_column("0")
    )
    counted = select(func.count(func.distinct(col(Match.cluster_id))))
    if joined:
        grouped = grouped.join(Article, col(Article.id) == col(Match.article_id))
        counted = counted.join(Article, col(Article.id) == col(Match.article_id))
    ordered = (
        grouped.where(*terms)
        .group_by(col(Match.cluster_id))
        .order_by(literal_column("first").desc(), col(Match.cluster_id).desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    async with db.session() as session:
        found = []
        for span in (*([] if joined else RECENT), None):
            query = ordered
            if span is not None:
                query = _within(ordered, terms, first, utcnow() - span)
            found = list(await session.exec(query))
            if len(found) == per_page:
                break
        clusters = [cluster_id for cluster_id, _, _ in found]
        if joined and found:
            total = int(found[0][2])
        elif joined and page == 1:
            total = 0
        else:
            total = int(await session.scalar(counted.where(*terms)) or 0)
        topics = [
            (i, n)
            for i, n in await session.exec(select(Topic.id, Topic.name).order_by(col(Topic.name)))
            if i is not None
        ]
        rows = await _rows(session, clusters, on_match, on_article, dict(topics))
        result = StoryPage(rows, total, page, per_page)
        if choices:
            result.topics = topics
            sources = await session.exec(select(Source.id, Source.name).order_by(col(Source.name)))
            result.sources = [(i, n) for i, n in sources if i is not None]
        if filters.subscriber is not None:
            result.follows = int(
                await session.scalar(
                    select(func.count(func.distinct(col(Subscription.topic_id)))).where(
                        Subscription.user_id == filters.subscriber
                    )
                )
                or 0
            )
    return result


def _within(ordered: Any, terms: list[ColumnElement[bool]], first: Any, since: datetime) -> Any:
    """``ordered`` limited to stories that first appeared since ``since``.

    Grouping every match of the database for each page costs 10 ms at 100,000
    articles; the stories of the last days are found from ``ix_matches_recent`` in
    one. Exact whenever it fills the page: a story first seen since ``since`` ranks
    above every story first seen before it.
    """
    recent = (
        select(col(Match.cluster_id))
        .where(*terms, col(Match.story_at) >= since)
        .correlate(None)  # the inner ``matches`` is its own scan, not the outer row
    )
    return ordered.where(col(Match.cluster_id).in_(recent)).having(first >= since)


async def _rows(
    session: AsyncSession,
    cluster_ids: list[int],
    on_match: list[ColumnElement[bool]],
    on_article: list[ColumnElement[bool]],
    names: dict[int, str],
) -> list[StoryRow]:
    """The page's clusters as rows, in the order given.

    Article filters are read as a column, not a WHERE term: given ``place = ?`` SQLite
    reads every article of the place (100 ms) instead of the page's few clusters.
    """
    if not cluster_ids:
        return []
    found = await session.exec(
        select(  # type: ignore[call-overload]
            col(Match.cluster_id),
            col(Match.topic_id),
            col(Match.hits),
            Article.id,
            Article.title,
            Article.url,
            Article.page,
            Article.place,
            Article.text,
            Article.published_at,
            Article.fetched_at,
            Source.name,
            and_(*on_article) if on_article else literal_column("1"),
        )
        .join(Article, col(Article.id) == col(Match.article_id))
        .join(Source, col(Source.id) == col(Article.source_id))
        .where(col(Match.cluster_id).in_(cluster_ids), *on_match)
        .order_by(col(Match.id))
    )
    rows: dict[int, StoryRow] = {}
    for (
        cluster_id,
        topic_id,
        hits,
        article_id,
        title,
        url,
        page,
        place,
        text,
        pub,
        fetched,
        src,
        wanted,
    ) in found:
        if not wanted:
            continue
        time = pub or fetched
        row = rows.get(cluster_id)
        if row is None or (time, article_id) < (row.time, row.article_id):
            row = rows[cluster_id] = StoryRow(
                article_id, cluster_id, title, url, src, page, place, time, pub, text, [], []
            )
        if row.article_id == article_id:
            row.topics.append(names.get(topic_id, "?"))
            row.hits.extend(hits or [])
    carried = await session.exec(
        select(col(Article.cluster_id), Source.name, func.min(Article.id), func.count())
        .join(Source, col(Source.id) == col(Article.source_id))
        .where(col(Article.cluster_id).in_(cluster_ids))
        .group_by(col(Article.cluster_id), col(Source.name))
        .order_by(func.min(Article.id))
    )
    for cluster_id, source_name, _first, copies in carried:
        row = rows.get(cluster_id or 0)
        if row is None:
            continue
        row.copies += copies - (1 if source_name == row.source else 0)
        if source_name != row.source:
            row.also.append(source_name)
    return [rows[c] for c in cluster_ids if c in rows]


async def topic_names(session: AsyncSession) -> dict[int, str]:
    return {i: n for i, n in await session.exec(select(Topic.id, Topic.name)) if i is not None}


async def topic_names_of(db: Database, topic_ids: Sequence[int]) -> dict[int, str]:
    """Names of the catalog topics among ``topic_ids`` (unknown ids are left out)."""
    async with db.session() as session:
        rows = await session.exec(
            select(Topic.id, Topic.name).where(col(Topic.id).in_(list(topic_ids)))
        )
        return {i: n for i, n in rows if i is not None}


async def story(db: Database, article_id: int, viewer_id: int | None = None) -> Story | None:
    """One article as stored, every copy in its cluster, its matches, and the alerts
    owed for its cluster: to whom and what became of them.

    With ``viewer_id`` (a staff member), deliveries to other users' channels are left
    out: a story page must not tell one colleague what another subscribed to.
    """
    async with db.session() as session:
        article = await session.get(Article, article_id)
        if article is None:
            return None
        source = await session.get(Source, article.source_id)
        cluster_id = article.cluster_id if article.cluster_id is not None else article_id
        copies = [
            Copy(a_id, src, title, url, page, pub or fetched)
            for a_id, src, title, url, page, pub, fetched in await session.exec(
                select(  # type: ignore[call-overload]
                    Article.id,
                    Source.name,
                    Article.title,
                    Article.url,
                    Article.page,
                    Article.published_at,
                    Article.fetched_at,
                )
                .join(Source, col(Source.id) == col(Article.source_id))
                .where(or_(col(Article.cluster_id) == cluster_id, col(Article.id) == article_id))
                .order_by(col(Article.id))
            )
        ]
        names = await topic_names(session)
        matches = [
            StoryMatch(m.topic_id, names.get(m.topic_id, "?"), list(m.hits or []), m.created_at)
            for m in await session.exec(
                select(Match).where(Match.article_id == article_id).order_by(col(Match.id))
            )
        ]
        deliveries = await _deliveries(session, cluster_id, names, viewer_id)
    return Story(
        article,
        source.name if source else "?",
        str(article.extra.get("pdf") or ""),
        copies,
        matches,
        deliveries,
    )


async def _deliveries(
    session: AsyncSession, cluster_id: int, names: dict[int, str], viewer_id: int | None
) -> list[StoryDelivery]:
    digest = Delivery.__table__.alias("digest")  # type: ignore[attr-defined]
    rows = await session.exec(
        select(  # type: ignore[call-overload]
            Match.topic_id,
            Channel.name,
            ConsoleChannel.label,
            ConsoleChannel.owner_id,
            User.name,
            Delivery.recipient,
            Delivery.kind,
            Delivery.status,
            Delivery.sent_at,
            Delivery.last_error,
            Delivery.attempts,
            digest.c.status,
            digest.c.sent_at,
            digest.c.last_error,
        )
        .join(Match, col(Match.id) == col(Delivery.match_id))
        .join(Channel, col(Channel.id) == col(Delivery.channel_id))
        .outerjoin(ConsoleChannel, col(ConsoleChannel.name) == col(Channel.name))
        .outerjoin(User, col(User.id) == col(ConsoleChannel.owner_id))
        .outerjoin(digest, digest.c.id == col(Delivery.digest_id))
        .where(Match.cluster_id == cluster_id)
        .order_by(col(Delivery.id))
    )
    out: list[StoryDelivery] = []
    for (
        topic_id,
        channel,
        label,
        owner_id,
        owner,
        recipient,
        kind,
        status,
        sent_at,
        error,
        attempts,
        d_status,
        d_sent,
        d_error,
    ) in rows:
        if viewer_id is not None and owner_id is not None and owner_id != viewer_id:
            continue
        if d_status is not None:  # a digest line: the digest message is what was sent
            kind, status, sent_at, error = "digest", d_status, d_sent, d_error
        out.append(
            StoryDelivery(
                names.get(topic_id, "?"),
                label or channel if owner_id is not None else channel,
                owner or "",
                recipient,
                kind,
                status,
                sent_at,
                error,
                attempts,
            )
        )
    return out
