"""What staff define in the console: topics, their own channels, their subscriptions.

The console pages, the JSON API and the daemon all go through these operations, so
the rules they keep hold everywhere: a topic name is unique across config.toml and
the console, a console topic always has its catalog ``topics`` row (subscriptions and
matches point at it, and it outlives the topic so its subscribers see it was
deleted), a channel belongs to one user, and every change writes an audit entry
whose detail never holds a channel URL. The newest audit id is the console's
generation: a daemon that sees it grow rebuilds its effective config.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.console_models import (
    AuditEntry,
    ConsoleChannel,
    ConsoleTopic,
    Subscription,
    User,
)
from storage.db import Database
from storage.models import Channel, Topic
from storage.types import utcnow

MAX_NAME = 100
MAX_LABEL = 100


class DefinitionError(Exception):
    """A change that cannot be made as asked; the message is for the person who asked."""


@dataclass(frozen=True)
class Overwrite:
    """Who saved a topic between the moment a form was opened and the moment it was saved."""

    user_name: str
    at: datetime
    version: int


@dataclass(frozen=True)
class TopicView:
    """A catalog topic as the console shows it: from config, from the console, or deleted
    (neither defines it any more; its row stays for its matches and subscribers)."""

    id: int
    name: str
    query: str
    console: ConsoleTopic | None


@dataclass
class ConsoleDefinitions:
    """Everything the daemon merges into its config: console topics, enabled users'
    channels, and per catalog topic name the channel names subscribed to it."""

    topics: list[ConsoleTopic] = field(default_factory=list)
    channels: list[ConsoleChannel] = field(default_factory=list)
    routes: dict[str, list[str]] = field(default_factory=dict)


def _clean_name(name: str, what: str, limit: int) -> str:
    name = " ".join(name.split())
    if not name:
        raise DefinitionError(f"{what}不能为空")
    if len(name) > limit:
        raise DefinitionError(f"{what}最长 {limit} 个字符（现在 {len(name)} 个）")
    return name


def _audit(
    session: AsyncSession, user_id: int | None, action: str, target: str, **detail: Any
) -> None:
    session.add(AuditEntry(user_id=user_id, action=action, target=target, detail=detail))


async def record(
    db: Database, user_id: int | None, action: str, target: str, **detail: Any
) -> None:
    """An audit entry for a change made elsewhere (a backfill owing alerts, say)."""
    async with db.writing() as session:
        _audit(session, user_id, action, target, **detail)
        await session.commit()


# Audit actions that change what the daemon matches or where it sends; the others (a
# password, a feed token, a retried delivery, a paused source) need no reload.
ROUTING_ACTIONS = ("topic.", "channel.", "subscriptions.", "user.disable", "user.enable")


async def console_generation(db: Database) -> int:
    """The newest routing change's audit id: grows with every console change the daemon
    must reload for, and with nothing else."""
    routing = or_(*(col(AuditEntry.action).startswith(prefix) for prefix in ROUTING_ACTIONS))
    async with db.session() as session:
        return int(await session.scalar(select(func.max(AuditEntry.id)).where(routing)) or 0)


# ── topics ───────────────────────────────────────────────────────────────────────────


async def ensure_topics(db: Database, topics: Iterable[tuple[str, str]]) -> None:
    """Give each (name, query) a catalog row if it has none yet, so config topics can be
    subscribed to before the daemon first ran; writes nothing when all exist."""
    wanted = dict(topics)
    async with db.session() as session:
        known = set(await session.exec(select(Topic.name)))
    if not set(wanted) - known:
        return
    async with db.writing() as session:
        known = set(await session.exec(select(Topic.name)))
        for name, query in wanted.items():
            if name not in known:
                session.add(Topic(name=name, query=query))
        await session.commit()


async def list_topics(db: Database) -> list[TopicView]:
    """Every catalog topic by name, with its console definition where it has one."""
    async with db.session() as session:
        rows = await session.exec(
            select(Topic, ConsoleTopic)
            .join(ConsoleTopic, col(ConsoleTopic.name) == col(Topic.name), isouter=True)
            .order_by(col(Topic.name))
        )
        return [TopicView(t.id or 0, t.name, t.query, c) for t, c in rows]


async def topic_view(db: Database, topic_id: int) -> TopicView | None:
    async with db.session() as session:
        row = (
            await session.exec(
                select(Topic, ConsoleTopic)
                .join(ConsoleTopic, col(ConsoleTopic.name) == col(Topic.name), isouter=True)
                .where(Topic.id == topic_id)
            )
        ).first()
    if row is None:
        return None
    topic, console = row
    return TopicView(topic.id or 0, topic.name, topic.query, console)


async def create_topic(
    db: Database,
    name: str,
    definition: dict[str, Any],
    user_id: int | None,
    reserved: Collection[str],
) -> TopicView:
    """A new console topic and its catalog row. ``reserved`` holds config.toml's topic
    names. A name a deleted topic had takes its catalog row back, and with it its
    matches and subscribers."""
    name = _clean_name(name, "主题名称", MAX_NAME)
    if name in reserved:
        raise DefinitionError(f"主题“{name}”已在配置文件中定义，请换一个名称")
    query = str(definition.get("query", ""))
    async with db.writing() as session:
        if (await session.exec(select(ConsoleTopic).where(ConsoleTopic.name == name))).first():
            raise DefinitionError(f"主题“{name}”已存在，请换一个名称")
        topic = ConsoleTopic(name=name, definition=definition, owner_id=user_id, updated_by=user_id)
        session.add(topic)
        row = (await session.exec(select(Topic).where(Topic.name == name))).first()
        row = row or Topic(name=name, query=query)
        row.query = query
        session.add(row)
        await session.flush()
        _audit(session, user_id, "topic.create", name, query=query)
        await session.commit()
        return TopicView(row.id or 0, name, query, topic)


async def save_topic(
    db: Database,
    console_id: int,
    name: str,
    definition: dict[str, Any],
    user_id: int | None,
    version: int,
    reserved: Collection[str],
) -> tuple[ConsoleTopic, Overwrite | None]:
    """Save a console topic edited from ``version``. The save always wins; when someone
    else saved since, it says who and when, so the page can tell the editor."""
    name = _clean_name(name, "主题名称", MAX_NAME)
    query = str(definition.get("query", ""))
    async with db.writing() as session:
        topic = await session.get(ConsoleTopic, console_id)
        if topic is None:
            raise DefinitionError("主题已被删除，无法保存")
        overwrite = None
        if topic.version != version:
            by = await session.get(User, topic.updated_by) if topic.updated_by else None
            overwrite = Overwrite(by.name if by else "?", topic.updated_at, topic.version)
        row = (await session.exec(select(Topic).where(Topic.name == topic.name))).first()
        if name != topic.name:
            if name in reserved:
                raise DefinitionError(f"主题“{name}”已在配置文件中定义，请换一个名称")
            if (await session.exec(select(Topic).where(Topic.name == name))).first():
                raise DefinitionError(f"名称“{name}”已被其他主题（或已删除的主题）使用")
        if row is None:
            row = Topic(name=name, query=query)
        row.name, row.query = name, query
        session.add(row)
        old_name = topic.name
        topic.name, topic.definition = name, dict(definition)
        topic.version += 1
        topic.updated_at, topic.updated_by = utcnow(), user_id
        session.add(topic)
        detail: dict[str, Any] = {"query": query, "version": topic.version}
        if old_name != name:
            detail["renamed_from"] = old_name
        if overwrite is not None:
            detail["overwrote_version"] = overwrite.version
        _audit(session, user_id, "topic.update", name, **detail)
        await session.commit()
        return topic, overwrite


async def delete_topic(db: Database, console_id: int, user_id: int | None) -> None:
    """The definition goes; the catalog row, its matches and subscriptions stay, so
    subscribers see the topic was deleted instead of losing it without a word."""
    async with db.writing() as session:
        topic = await session.get(ConsoleTopic, console_id)
        if topic is None:
            return
        await session.delete(topic)
        _audit(session, user_id, "topic.delete", topic.name)
        await session.commit()


# ── channels ─────────────────────────────────────────────────────────────────────────


def channel_name(owner_id: int, channel_id: int) -> str:
    """The outbox's name for a console channel (unique, and never the owner's label)."""
    return f"user:{owner_id}:{channel_id}"


async def _catalog_channel(session: AsyncSession, channel: ConsoleChannel) -> None:
    """The outbox's row for the channel, made now rather than at the daemon's next
    reload, so a backfill run from the console can owe it alerts at once."""
    row = (await session.exec(select(Channel).where(Channel.name == channel.name))).first()
    row = row or Channel(name=channel.name)
    row.mode = str(channel.settings.get("mode", "instant"))
    session.add(row)


async def user_channels(db: Database, owner_id: int) -> list[ConsoleChannel]:
    async with db.session() as session:
        return list(
            await session.exec(
                select(ConsoleChannel)
                .where(ConsoleChannel.owner_id == owner_id)
                .order_by(col(ConsoleChannel.id))
            )
        )


async def get_channel(db: Database, owner_id: int, channel_id: int) -> ConsoleChannel | None:
    """The channel, only if ``owner_id`` owns it."""
    async with db.session() as session:
        channel = await session.get(ConsoleChannel, channel_id)
    return channel if channel is not None and channel.owner_id == owner_id else None


async def add_channel(
    db: Database, owner_id: int, label: str, kind: str, url: str, settings: dict[str, Any]
) -> ConsoleChannel:
    """``url`` is an Apprise URL (kind "chat") or an address (kind "email"), checked by
    the caller; the audit entry records only its scheme."""
    label = _clean_name(label, "渠道名称", MAX_LABEL)
    async with db.writing() as session:
        channel = ConsoleChannel(
            name=f"user:{owner_id}:new:{secrets.token_hex(8)}",
            owner_id=owner_id,
            label=label,
            kind=kind,
            url=url,
            settings=dict(settings),
        )
        session.add(channel)
        await session.flush()
        channel.name = channel_name(owner_id, channel.id or 0)
        session.add(channel)
        await _catalog_channel(session, channel)
        _audit(session, owner_id, "channel.add", channel.name, label=label, kind=kind)
        await session.commit()
        return channel


async def update_channel(
    db: Database,
    owner_id: int,
    channel_id: int,
    label: str,
    url: str | None,
    settings: dict[str, Any],
) -> ConsoleChannel:
    """Change the owner's channel; ``url`` None keeps the stored one (it is never shown
    back, so a form left blank means "unchanged")."""
    label = _clean_name(label, "渠道名称", MAX_LABEL)
    async with db.writing() as session:
        channel = await session.get(ConsoleChannel, channel_id)
        if channel is None or channel.owner_id != owner_id:
            raise DefinitionError("没有这个渠道")
        channel.label, channel.settings = label, dict(settings)
        if url is not None:
            channel.url = url
        channel.updated_at = utcnow()
        session.add(channel)
        await _catalog_channel(session, channel)
        _audit(
            session,
            owner_id,
            "channel.update",
            channel.name,
            label=label,
            url_changed=url is not None,
        )
        await session.commit()
        return channel


async def delete_channel(db: Database, owner_id: int, channel_id: int) -> None:
    """The channel and the subscriptions that used it."""
    async with db.writing() as session:
        channel = await session.get(ConsoleChannel, channel_id)
        if channel is None or channel.owner_id != owner_id:
            raise DefinitionError("没有这个渠道")
        await session.exec(
            delete(  # type: ignore[call-overload]
                Subscription
            ).where(col(Subscription.channel_id) == channel_id)
        )
        await session.delete(channel)
        _audit(session, owner_id, "channel.delete", channel.name, label=channel.label)
        await session.commit()


# ── subscriptions ────────────────────────────────────────────────────────────────────


async def user_subscriptions(db: Database, user_id: int) -> list[Subscription]:
    async with db.session() as session:
        return list(
            await session.exec(
                select(Subscription)
                .where(Subscription.user_id == user_id)
                .order_by(col(Subscription.id))
            )
        )


async def set_subscriptions(
    db: Database, user_id: int, pairs: Iterable[tuple[int, int | None]]
) -> None:
    """Replace the user's subscriptions with (catalog topic id, channel id or None for
    "in the console only") pairs. Every channel must be the user's and every topic must
    exist; otherwise nothing changes."""
    wanted = sorted(set(pairs), key=lambda p: (p[0], p[1] or 0))
    async with db.writing() as session:
        own = {
            c.id
            for c in await session.exec(
                select(ConsoleChannel).where(ConsoleChannel.owner_id == user_id)
            )
        }
        topic_ids = {t for t, _ in wanted}
        names = {
            t.id: t.name
            for t in await session.exec(select(Topic).where(col(Topic.id).in_(topic_ids)))
        }
        if missing := topic_ids - set(names):
            raise DefinitionError(f"没有编号为 {min(missing)} 的主题")
        if foreign := {c for _, c in wanted if c is not None} - own:
            raise DefinitionError(f"没有编号为 {min(foreign)} 的渠道")
        await session.exec(
            delete(  # type: ignore[call-overload]
                Subscription
            ).where(col(Subscription.user_id) == user_id)
        )
        for topic_id, channel_id in wanted:
            session.add(Subscription(user_id=user_id, topic_id=topic_id, channel_id=channel_id))
        topics = sorted({names[t] for t, _ in wanted})
        _audit(session, user_id, "subscriptions.set", f"user:{user_id}", topics=topics)
        await session.commit()


# ── for the daemon ───────────────────────────────────────────────────────────────────


async def console_definitions(db: Database) -> ConsoleDefinitions:
    """Console topics, the channels of enabled users and who is subscribed through them.

    A disabled user's channels drop out, so leaving the organisation stops the alerts.
    """
    async with db.session() as session:
        topics = list(await session.exec(select(ConsoleTopic).order_by(col(ConsoleTopic.id))))
        channels = list(
            await session.exec(
                select(ConsoleChannel)
                .join(User, col(User.id) == col(ConsoleChannel.owner_id))
                .where(col(User.disabled).is_(False))
                .order_by(col(ConsoleChannel.id))
            )
        )
        pairs = await session.exec(
            select(Topic.name, ConsoleChannel.name)
            .join(Subscription, col(Subscription.topic_id) == col(Topic.id))
            .join(ConsoleChannel, col(ConsoleChannel.id) == col(Subscription.channel_id))
            .join(User, col(User.id) == col(Subscription.user_id))
            .where(col(User.disabled).is_(False))
            .order_by(col(Subscription.id))
        )
        routes: dict[str, list[str]] = defaultdict(list)
        for topic_name, channel in pairs:
            if channel not in routes[topic_name]:
                routes[topic_name].append(channel)
    return ConsoleDefinitions(topics, channels, dict(routes))
