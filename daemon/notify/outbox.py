"""The outbox worker: claim due deliveries, send each once, record every outcome.

A row is marked sent only after the service confirmed it. The window between that
confirmation and our commit is the only place a duplicate can come from: a crash
there leaves the row claimed, and once its lease expires it is sent again.

Rows are alerts (one match) or digests (one message for the alert rows batched
into it). Digest channels' alert rows wait as pending until a digest takes them;
instant channels' alert rows are claimed unless the channel is in quiet hours.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import or_, update
from sqlmodel import col, select

from daemon.config import ChannelConfig, Config
from daemon.notify.channels import all_secrets, redact, sender_for
from daemon.notify.operator import alert_operator
from daemon.notify.quiet import QuietHours
from daemon.notify.render import Alert, Renderer, RenderError
from daemon.notify.services import SendError, split_message
from storage.db import Database
from storage.dedup.clusters import cluster_sources
from storage.models import Article, Channel, Delivery, Match, Source, Topic
from storage.types import utcnow

log = structlog.get_logger("tingfeng.outbox")

CLAIM_BATCH = 200
OPEN = ("pending", "failed")


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.dead += other.dead
        self.errors += other.errors


def backoff(attempts: int, base: float, cap: float) -> timedelta:
    """Exponential with jitter, capped, so retries of a down service spread out."""
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


async def channel_ids(db: Database) -> dict[str, int]:
    async with db.session() as session:
        return {c.name: c.id for c in await session.exec(select(Channel)) if c.id is not None}


def quiet_now(channel: ChannelConfig, config: Config, now: datetime) -> QuietHours | None:
    """The channel's quiet hours when ``now`` falls inside them."""
    if channel.mode != "instant" or not channel.quiet_hours:
        return None
    quiet = QuietHours.parse(channel.quiet_hours)
    return quiet if quiet.active(now.astimezone(config.tz)) else None


async def fold_quiet(db: Database, config: Config, ids: dict[str, int], now: datetime) -> None:
    """Instant channels with ``quiet = "digest"``: batch alerts owed during quiet hours
    into one digest row that falls due when the hours end."""
    for channel in config.channels:
        quiet = quiet_now(channel, config, now)
        if quiet is None or channel.quiet != "digest" or channel.name not in ids:
            continue
        end = quiet.end_after(now.astimezone(config.tz))
        cid = ids[channel.name]
        async with db.writing() as session:
            owed = list(
                await session.exec(
                    select(Delivery).where(
                        Delivery.channel_id == cid,
                        Delivery.kind == "alert",
                        col(Delivery.status).in_(OPEN),
                        col(Delivery.digest_id).is_(None),
                    )
                )
            )
            if not owed:
                continue
            key = f"quiet:{cid}:{end:%Y%m%dT%H%M}"
            digest = (await session.exec(select(Delivery).where(Delivery.key == key))).first()
            if digest is None:
                digest = Delivery(key=key, kind="digest", channel_id=cid, next_attempt_at=end)
                session.add(digest)
                await session.flush()
            for row in owed:
                row.digest_id, row.status = digest.id, "batched"
                session.add(row)
            await session.commit()


async def claim_due(
    db: Database, alert_channels: list[int], now: datetime, lease: timedelta
) -> list[int]:
    """Lease due rows to this worker: digests of any channel, alerts of ``alert_channels``.

    A claimed row whose lease ran out (its worker died) is due again.
    """
    due = or_(
        col(Delivery.status).in_(OPEN) & (col(Delivery.next_attempt_at) <= now),
        (col(Delivery.status) == "claimed") & (col(Delivery.claimed_until) < now),
    )
    eligible = or_(
        col(Delivery.kind) == "digest",
        (col(Delivery.kind) == "alert")
        & col(Delivery.channel_id).in_(alert_channels)
        & col(Delivery.digest_id).is_(None),
    )
    lease_until = now + lease
    async with db.writing() as session:
        ids = list(
            await session.exec(
                select(Delivery.id)
                .where(due, eligible)
                .order_by(col(Delivery.id))
                .limit(CLAIM_BATCH)
            )
        )
        if not ids:
            return []
        await session.exec(  # type: ignore[call-overload]
            update(Delivery)
            .where(col(Delivery.id).in_(ids), due)
            .values(status="claimed", claimed_until=lease_until)
        )
        await session.commit()
        claimed = await session.exec(
            select(Delivery.id).where(
                col(Delivery.id).in_(ids), Delivery.claimed_until == lease_until
            )
        )
        return [i for i in claimed if i is not None]


async def alert_for(db: Database, match_id: int) -> Alert:
    """The alert for a match, with the cluster's other sources as "also reported by"."""
    async with db.session() as session:
        match = await session.get(Match, match_id)
        assert match is not None
        article = await session.get(Article, match.article_id)
        topic = await session.get(Topic, match.topic_id)
        assert article is not None and topic is not None
        source = await session.get(Source, article.source_id)
        carried_by = await cluster_sources(session, match.cluster_id)
        source_name = source.name if source else "?"
        return Alert(
            topic=topic.name,
            title=article.title,
            url=article.url,
            source=source_name,
            also=[name for name in carried_by if name != source_name],
            place=article.place,
            published=article.published_at,
            text=article.text,
            hits=match.hits,
        )


async def digest_items(db: Database, digest_id: int) -> list[Alert]:
    async with db.session() as session:
        match_ids = list(
            await session.exec(
                select(Delivery.match_id)
                .where(Delivery.digest_id == digest_id)
                .order_by(col(Delivery.id))
            )
        )
    return [await alert_for(db, m) for m in match_ids if m is not None]


async def compose(
    db: Database, config: Config, row: Delivery, channel: ChannelConfig, renderer: Renderer
) -> list[tuple[str, str]]:
    """The (title, body) parts this row sends, each within the service's limit."""
    sender = sender_for(channel)
    radius = sender.service.snippet_radius
    if row.kind == "digest":
        alerts = await digest_items(db, row.id or 0)
        day = row.created_at.astimezone(config.tz).date()
        title, body = renderer.digest(alerts, day, sender.format, radius)
    else:
        assert row.match_id is not None
        title, body = renderer.alert(await alert_for(db, row.match_id), sender.format, radius)
    return split_message(title, body, sender.service)


async def save_progress(db: Database, delivery_id: int, parts_sent: int) -> None:
    async with db.writing() as session:
        row = await session.get(Delivery, delivery_id)
        assert row is not None
        row.parts_sent = parts_sent
        session.add(row)
        await session.commit()


async def record(db: Database, delivery_id: int, error: str | None, config: Config) -> str:
    """Write the outcome and return the new status.

    A sent digest marks its items sent; a dead digest hands its items back, owed to
    the next digest, so nothing a digest carried is lost with it.
    """
    settings = config.daemon
    async with db.writing() as session:
        row = await session.get(Delivery, delivery_id)
        assert row is not None
        now = utcnow()
        row.attempts += 1
        row.claimed_until = None
        items: list[Delivery] = []
        if row.kind == "digest":
            items = list(await session.exec(select(Delivery).where(Delivery.digest_id == row.id)))
        if error is None:
            row.status, row.sent_at, row.last_error = "sent", now, None
            for item in items:
                item.status, item.sent_at = "sent", now
        else:
            row.last_error = error[:2000]
            too_old = settings.max_age is not None and (
                now - row.created_at >= timedelta(seconds=settings.max_age)
            )
            row.status = "dead" if row.attempts >= settings.max_attempts or too_old else "failed"
            row.next_attempt_at = now + backoff(
                row.attempts, settings.retry_base, settings.retry_max
            )
            if row.status == "dead":
                for item in items:
                    item.status, item.digest_id = "pending", None
        session.add_all([row, *items])
        await session.commit()
        return row.status


async def _deliver_channel(
    db: Database, config: Config, channel: ChannelConfig, rows: list[int], renderer: Renderer
) -> DeliveryReport:
    """One channel's claimed rows, in order (the channel's rate limit paces them)."""
    report = DeliveryReport()
    secrets = all_secrets(config)
    for delivery_id in rows:
        async with db.session() as session:
            row = await session.get(Delivery, delivery_id)
        assert row is not None
        error: str | None = None
        try:
            parts = await compose(db, config, row, channel, renderer)
            for number, (title, body) in enumerate(parts, 1):
                if number <= row.parts_sent:
                    continue
                await sender_for(channel).send(title, body)
                if len(parts) > 1:
                    await save_progress(db, delivery_id, number)
        except (SendError, RenderError, OSError) as exc:
            error = f"channel {channel.name}: {exc}"
        except Exception as exc:  # a plugin's own bug must still end as a recorded failure
            error = f"channel {channel.name}: {type(exc).__name__}: {exc}"
        error = redact(error, *secrets) if error else None
        status = await record(db, delivery_id, error, config)
        if status == "sent":
            report.sent += 1
            continue
        report.failed += 1
        report.dead += status == "dead"
        report.errors.append(error or "")
        log.warning("delivery failed", delivery=delivery_id, status=status, error=error)
    return report


async def _orphans(db: Database, rows: list[int], config: Config) -> DeliveryReport:
    """Rows of channels no longer in config: fail them with a reason, never drop them."""
    report = DeliveryReport()
    for delivery_id in rows:
        error = "channel is no longer in the config"
        status = await record(db, delivery_id, error, config)
        report.failed += 1
        report.dead += status == "dead"
        report.errors.append(error)
    return report


async def alert_dead_letters(db: Database, config: Config) -> None:
    """Tell the operator about each dead row once (again next pass if that send failed)."""
    async with db.session() as session:
        dead = list(
            await session.exec(
                select(Delivery, Channel.name)
                .join(Channel, col(Channel.id) == col(Delivery.channel_id))
                .where(Delivery.status == "dead", col(Delivery.operator_alerted_at).is_(None))
            )
        )
    for row, channel_name in dead:
        subject = f"投递失败 #{row.id}（{channel_name}）"
        body = (
            f"{row.kind} #{row.id} to channel {channel_name} is dead after {row.attempts} "
            f"attempts: {row.last_error}\nSee `tingfeng outbox`; resend with "
            f"`tingfeng outbox retry {row.id}`."
        )
        reason = await alert_operator(config, subject, body)
        if reason is not None and config.daemon.admin_channel:
            continue
        async with db.writing() as session:
            fresh = await session.get(Delivery, row.id)
            assert fresh is not None
            fresh.operator_alerted_at = utcnow()
            session.add(fresh)
            await session.commit()


async def deliver_due(db: Database, config: Config, now: datetime | None = None) -> DeliveryReport:
    """Send every due delivery once; failures are rescheduled, never dropped.

    Channels are served concurrently, so one that times out delays no other.
    """
    now = now or utcnow()
    ids = await channel_ids(db)
    await fold_quiet(db, config, ids, now)
    by_id = {ids[c.name]: c for c in config.channels if c.name in ids}
    alert_channels = [
        cid for cid, c in by_id.items() if c.mode == "instant" and quiet_now(c, config, now) is None
    ]
    claimed = await claim_due(db, alert_channels, now, timedelta(seconds=config.daemon.lease))
    report = DeliveryReport()
    if claimed:
        async with db.session() as session:
            owners = dict(
                (
                    await session.exec(
                        select(Delivery.id, Delivery.channel_id).where(
                            col(Delivery.id).in_(claimed)
                        )
                    )
                ).all()
            )
        per_channel: dict[int, list[int]] = defaultdict(list)
        for delivery_id in claimed:
            per_channel[owners[delivery_id]].append(delivery_id)
        renderer = Renderer(config.tz, config.templates_dir())
        jobs = [
            _deliver_channel(db, config, by_id[cid], rows, renderer)
            if cid in by_id
            else _orphans(db, rows, config)
            for cid, rows in per_channel.items()
        ]
        for part in await asyncio.gather(*jobs):
            report.add(part)
    await alert_dead_letters(db, config)
    return report
