"""The outbox worker: claim due deliveries, send each once, record every outcome.

A row is marked sent only after the service confirmed it. The window between
that confirmation and our commit is the only place a duplicate can come from.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import apprise
from sqlalchemy import or_, update
from sqlmodel import col, select

from daemon.config import ChannelConfig, Config
from daemon.notify.channels import build_notifier, redact, scheme_of
from daemon.notify.render import Alert, render_text
from storage.db import Database
from storage.models import Article, Channel, Delivery, Match, Source, Topic
from storage.types import utcnow

LEASE = timedelta(minutes=5)
BASE_BACKOFF = 30.0
MAX_BACKOFF = 6 * 3600.0


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """Exponential with full jitter, capped, so retries of a down service spread out."""
    ceiling = min(MAX_BACKOFF, BASE_BACKOFF * 2 ** max(0, attempts - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


async def claim_due(db: Database, channel_ids: list[int], now: datetime) -> list[int]:
    """Lease due rows of instant channels to this worker; expired leases are re-claimed."""
    due = or_(
        col(Delivery.status).in_(("pending", "failed")) & (col(Delivery.next_attempt_at) <= now),
        (col(Delivery.status) == "claimed") & (col(Delivery.claimed_until) < now),
    )
    lease_until = now + LEASE
    async with db.writing() as session:
        ids = list(
            await session.exec(
                select(Delivery.id)
                .where(due, col(Delivery.channel_id).in_(channel_ids))
                .order_by(col(Delivery.id))
                .limit(200)
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


async def load_alert(db: Database, delivery_id: int) -> tuple[Delivery, Alert, str]:
    """The delivery row, the alert to send and its channel's name."""
    async with db.session() as session:
        delivery = await session.get(Delivery, delivery_id)
        assert delivery is not None
        match = await session.get(Match, delivery.match_id)
        assert match is not None
        article = await session.get(Article, match.article_id)
        topic = await session.get(Topic, match.topic_id)
        channel = await session.get(Channel, delivery.channel_id)
        assert article is not None and topic is not None and channel is not None
        source = await session.get(Source, article.source_id)
        cluster_sources = await session.exec(
            select(Source.name)
            .join(Article, col(Article.source_id) == col(Source.id))
            .where(Article.cluster_id == match.cluster_id)
            .distinct()
        )
        source_name = source.name if source else "?"
        also = sorted(name for name in cluster_sources if name != source_name)
        alert = Alert(
            topic=topic.name,
            title=article.title,
            url=article.url,
            source=source_name,
            also=also,
            place=article.place,
            published=article.published_at,
            text=article.text,
            hits=match.hits,
        )
        return delivery, alert, channel.name


async def send(channel: ChannelConfig, title: str, body: str) -> str | None:
    """Send one message; None when the service confirmed it, else a secret-free reason."""
    secret = channel.url.get_secret_value()
    notifier = build_notifier(secret)
    if not len(notifier):
        return f"channel {channel.name}: cannot build a {scheme_of(secret)}:// notifier"
    with apprise.LogCapture(level=logging.WARNING) as captured:
        ok = await notifier.async_notify(body=body, title=title)
    if ok:
        return None
    lines = [line.strip() for line in captured.getvalue().splitlines() if line.strip()]
    reason = lines[-1] if lines else "the service did not confirm delivery"
    return redact(f"channel {channel.name}: {reason}", secret)


async def record(db: Database, delivery_id: int, error: str | None, max_attempts: int) -> str:
    """Write the outcome; returns the new status."""
    async with db.writing() as session:
        delivery = await session.get(Delivery, delivery_id)
        assert delivery is not None
        now = utcnow()
        delivery.attempts += 1
        delivery.claimed_until = None
        if error is None:
            delivery.status, delivery.sent_at, delivery.last_error = "sent", now, None
        else:
            delivery.last_error = error[:2000]
            delivery.status = "dead" if delivery.attempts >= max_attempts else "failed"
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        session.add(delivery)
        await session.commit()
        return delivery.status


async def deliver_due(db: Database, config: Config) -> DeliveryReport:
    """Send every due instant delivery once; failures are rescheduled, never dropped."""
    report = DeliveryReport()
    instant = {c.name: c for c in config.channels if c.mode == "instant"}
    async with db.session() as session:
        rows = await session.exec(select(Channel).where(col(Channel.name).in_(list(instant))))
        channel_ids = [c.id for c in rows if c.id is not None]
    if not channel_ids:
        return report
    for delivery_id in await claim_due(db, channel_ids, utcnow()):
        _, alert, channel_name = await load_alert(db, delivery_id)
        title, body = render_text(alert, config.tz)
        try:
            error = await send(instant[channel_name], title, body)
        except (TimeoutError, OSError) as exc:
            error = redact(
                f"channel {channel_name}: {exc}", instant[channel_name].url.get_secret_value()
            )
        status = await record(db, delivery_id, error, config.daemon.max_attempts)
        if status == "sent":
            report.sent += 1
        else:
            report.failed += 1
            report.dead += status == "dead"
            report.errors.append(error or "")
    return report
