"""Writing articles, matches and outbox rows; reading what is already known.

A source's new articles, their matches and the deliveries they cause are written
in one transaction, so a crash or shutdown never leaves an article stored
without its alerts owed (or alerts owed for an article that was rolled back).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.canonical import content_hash, url_key
from storage.models import Article, Channel, Delivery, Match, Source, Topic
from watchers.base import ArticleDraft


async def known_url_keys(session: AsyncSession, urls: Iterable[str]) -> set[str]:
    """The URLs among ``urls`` whose canonical form is already stored."""
    by_key = {url_key(url): url for url in urls}
    found: set[str] = set()
    keys = list(by_key)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = await session.exec(select(Article.url_key).where(col(Article.url_key).in_(chunk)))
        found.update(by_key[key] for key in rows)
    return found


async def _cluster_for(session: AsyncSession, digest: str) -> int | None:
    row = await session.exec(
        select(Article.cluster_id).where(Article.content_hash == digest).limit(1)
    )
    return row.first()


async def store_articles(
    session: AsyncSession, source: Source, drafts: Sequence[ArticleDraft]
) -> list[Article | None]:
    """Insert drafts not yet stored; returns the new Article per draft (None if known)."""
    known = await known_url_keys(session, (d.url for d in drafts))
    out: list[Article | None] = []
    seen: set[str] = set()
    for draft in drafts:
        key = url_key(draft.url)
        if draft.url in known or key in seen:
            out.append(None)
            continue
        seen.add(key)
        digest = content_hash(draft.title, draft.text)
        article = Article(
            source_id=source.id or 0,
            url=draft.url,
            url_key=key,
            title=draft.title,
            kicker=draft.kicker,
            subtitle=draft.subtitle,
            author=draft.author,
            text=draft.text,
            place=draft.place,
            page=draft.page,
            kind=draft.kind,
            published_at=draft.published,
            content_hash=digest,
            cluster_id=await _cluster_for(session, digest),
            extra={k: v for k, v in draft.extra.items() if k != "error"}
            | {
                k: v
                for k, v in (
                    ("continued_to", draft.continued_to),
                    ("continued_from", draft.continued_from),
                )
                if v
            },
        )
        session.add(article)
        await session.flush()
        if article.cluster_id is None:
            article.cluster_id = article.id
        out.append(article)
    return out


async def store_matches(
    session: AsyncSession,
    matches: Sequence[tuple[Article, str, list[list[object]]]],
    topic_channels: dict[str, list[str]],
) -> int:
    """Record matches and owe one delivery per (cluster, topic, channel); returns rows owed.

    The delivery key makes a cluster alert once per topic and channel, whichever of
    its copies matched first.
    """
    topics = {t.name: t for t in await session.exec(select(Topic))}
    channels = {c.name: c for c in await session.exec(select(Channel))}
    owed = 0
    for article, topic_name, hits in matches:
        topic = topics[topic_name]
        match = Match(
            article_id=article.id or 0,
            topic_id=topic.id or 0,
            cluster_id=article.cluster_id or article.id or 0,
            hits=hits,
        )
        session.add(match)
        await session.flush()
        for channel_name in topic_channels.get(topic_name, []):
            channel = channels[channel_name]
            key = f"{match.cluster_id}:{topic.id}:{channel.id}"
            exists = await session.exec(select(Delivery.id).where(Delivery.key == key))
            if exists.first() is not None:
                continue
            session.add(Delivery(key=key, match_id=match.id or 0, channel_id=channel.id or 0))
            owed += 1
    await session.flush()
    return owed
