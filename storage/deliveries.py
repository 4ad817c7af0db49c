"""The outbox's operations: owe, claim, record, retry, list and batch deliveries.

Every query about the ``deliveries`` table lives here, so the daemon's outbox worker,
the digest builder, the CLI and a future console share one meaning of "owed",
"due" and "dead". The daemon renders and sends; this module decides which rows
move to which state.

States (:class:`DeliveryStatus`): pending → claimed (lease) → sent, or failed
(rescheduled) → dead after too many attempts or too long. An alert row of a digest
is batched (it points at its digest row) until the digest is sent; a dead digest
hands its items back as pending, owed to the next digest.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.dedup.clusters import cluster_sources
from storage.models import Article, Channel, Delivery, Match, Source, Topic
from storage.types import utcnow

CLAIM_BATCH = 200


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    BATCHED = "batched"
    FAILED = "failed"
    DEAD = "dead"
    SENT = "sent"


class DeliveryKind(StrEnum):
    ALERT = "alert"
    DIGEST = "digest"


# Rows still owed a (first or next) attempt.
OPEN = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


class NoSuchDelivery(LookupError):
    """``retry`` was given an id that is not in the outbox."""


class NotRetryable(ValueError):
    """``retry`` was given a row that is neither dead nor failed."""


@dataclass(slots=True)
class Alert:
    """What one match says: the article, the topic, and who else carried the story."""

    topic: str
    title: str
    url: str
    source: str
    also: list[str]
    place: str
    published: datetime | None
    text: str
    hits: list[list[object]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long a failing row keeps trying: attempts, age (seconds) and backoff."""

    max_attempts: int
    max_age: float | None
    retry_base: float
    retry_max: float

    def backoff(self, attempts: int) -> timedelta:
        """Exponential with jitter, capped, so retries of a down service spread out."""
        ceiling = min(self.retry_max, self.retry_base * 2 ** max(0, attempts - 1))
        return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


# --- owing -------------------------------------------------------------------------


async def owe(
    session: AsyncSession, match: Match, topic_id: int, channel_ids: Sequence[int]
) -> int:
    """Owe one alert per channel for ``match`` unless its cluster already owes one.

    The key makes a cluster alert once per topic and channel, whichever of its
    copies matched first. Returns how many rows were added.
    """
    owed = 0
    for channel_id in channel_ids:
        key = f"{match.cluster_id}:{topic_id}:{channel_id}"
        exists = await session.exec(select(Delivery.id).where(Delivery.key == key))
        if exists.first() is not None:
            continue
        session.add(Delivery(key=key, match_id=match.id or 0, channel_id=channel_id))
        owed += 1
    return owed


async def channel_ids(db: Database) -> dict[str, int]:
    """Channel ids by name, as mirrored from config."""
    async with db.session() as session:
        return {c.name: c.id for c in await session.exec(select(Channel)) if c.id is not None}


def _owed_alerts(channel_id: int, created_before: datetime | None = None):  # type: ignore[no-untyped-def]
    """Alert rows of the channel still owed and not yet in a digest, oldest first."""
    query = select(Delivery).where(
        Delivery.channel_id == channel_id,
        Delivery.kind == DeliveryKind.ALERT,
        col(Delivery.status).in_(OPEN),
        col(Delivery.digest_id).is_(None),
    )
    if created_before is not None:
        query = query.where(col(Delivery.created_at) <= created_before)
    return query.order_by(col(Delivery.id))


async def owed_match_ids(db: Database, channel_id: int) -> list[int]:
    """The matches a digest of the channel would carry now (nothing is changed)."""
    async with db.session() as session:
        rows = await session.exec(_owed_alerts(channel_id))
        return [r.match_id for r in rows if r.match_id is not None]


def _batch(session: AsyncSession, digest: Delivery, owed: Sequence[Delivery]) -> None:
    for row in owed:
        row.digest_id, row.status = digest.id, DeliveryStatus.BATCHED
    session.add_all(owed)


async def batch_into_digest(
    db: Database,
    channel_id: int,
    key: str,
    due_at: datetime,
    *,
    keep_empty: bool = False,
    created_at: datetime | None = None,
) -> int | None:
    """Move the channel's owed alerts into the digest row ``key`` (made if missing).

    The digest falls due at ``due_at``. Returns its id, or None when nothing is
    owed, no such digest exists yet and ``keep_empty`` is false.
    """
    async with db.writing() as session:
        owed = list(await session.exec(_owed_alerts(channel_id)))
        digest = (await session.exec(select(Delivery).where(Delivery.key == key))).first()
        if digest is None:
            if not owed and not keep_empty:
                return None
            digest = Delivery(
                key=key,
                kind=DeliveryKind.DIGEST,
                channel_id=channel_id,
                next_attempt_at=due_at,
                created_at=created_at or utcnow(),
            )
            session.add(digest)
            await session.flush()
        _batch(session, digest, owed)
        await session.commit()
        return digest.id


# --- claiming and sending ------------------------------------------------------------


async def claim_due(
    db: Database, alert_channels: Sequence[int], now: datetime, lease: timedelta
) -> list[int]:
    """Lease due rows to this worker: digests of any channel, alerts of ``alert_channels``.

    A claimed row whose lease ran out (its worker died) is due again.
    """
    due = or_(
        col(Delivery.status).in_(OPEN) & (col(Delivery.next_attempt_at) <= now),
        (col(Delivery.status) == DeliveryStatus.CLAIMED) & (col(Delivery.claimed_until) < now),
    )
    eligible = or_(
        col(Delivery.kind) == DeliveryKind.DIGEST,
        (col(Delivery.kind) == DeliveryKind.ALERT)
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
            .values(status=DeliveryStatus.CLAIMED, claimed_until=lease_until)
        )
        await session.commit()
        claimed = await session.exec(
            select(Delivery.id).where(
                col(Delivery.id).in_(ids), Delivery.claimed_until == lease_until
            )
        )
        return [i for i in claimed if i is not None]


async def owners(db: Database, delivery_ids: Sequence[int]) -> dict[int, int]:
    """The channel id of each delivery."""
    async with db.session() as session:
        rows = await session.exec(
            select(Delivery.id, Delivery.channel_id).where(col(Delivery.id).in_(delivery_ids))
        )
        return {i: c for i, c in rows if i is not None}


async def get(db: Database, delivery_id: int) -> Delivery:
    async with db.session() as session:
        row = await session.get(Delivery, delivery_id)
    assert row is not None
    return row


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


async def digest_match_ids(db: Database, digest_id: int) -> list[int]:
    """The matches batched into a digest row, in the order they were owed."""
    async with db.session() as session:
        rows = await session.exec(
            select(Delivery.match_id)
            .where(Delivery.digest_id == digest_id)
            .order_by(col(Delivery.id))
        )
        return [m for m in rows if m is not None]


async def record_progress(db: Database, delivery_id: int, parts_sent: int) -> None:
    """Parts of a split message already confirmed, so a retry resumes after them."""
    async with db.writing() as session:
        row = await session.get(Delivery, delivery_id)
        assert row is not None
        row.parts_sent = parts_sent
        session.add(row)
        await session.commit()


async def record_outcome(
    db: Database, delivery_id: int, error: str | None, policy: RetryPolicy
) -> DeliveryStatus:
    """Record a send attempt: sent when ``error`` is None, else failed or dead.

    A sent digest marks its items sent; a dead digest hands its items back, owed to
    the next digest, so nothing a digest carried is lost with it.
    """
    async with db.writing() as session:
        row = await session.get(Delivery, delivery_id)
        assert row is not None
        now = utcnow()
        row.attempts += 1
        row.claimed_until = None
        items: list[Delivery] = []
        if row.kind == DeliveryKind.DIGEST:
            items = list(await session.exec(select(Delivery).where(Delivery.digest_id == row.id)))
        if error is None:
            status = DeliveryStatus.SENT
            row.sent_at, row.last_error = now, None
            for item in items:
                item.status, item.sent_at = DeliveryStatus.SENT, now
        else:
            row.last_error = error[:2000]
            too_old = policy.max_age is not None and (
                now - row.created_at >= timedelta(seconds=policy.max_age)
            )
            dead = row.attempts >= policy.max_attempts or too_old
            status = DeliveryStatus.DEAD if dead else DeliveryStatus.FAILED
            row.next_attempt_at = now + policy.backoff(row.attempts)
            if dead:
                for item in items:
                    item.status, item.digest_id = DeliveryStatus.PENDING, None
        row.status = status
        session.add_all([row, *items])
        await session.commit()
        return status


# --- dead letters, listing and retry ---------------------------------------------------


async def dead_unannounced(db: Database) -> list[tuple[Delivery, str]]:
    """Dead rows (with their channel's name) the operator has not been told about."""
    async with db.session() as session:
        rows = await session.exec(
            select(Delivery, Channel.name)
            .join(Channel, col(Channel.id) == col(Delivery.channel_id))
            .where(
                Delivery.status == DeliveryStatus.DEAD,
                col(Delivery.operator_alerted_at).is_(None),
            )
        )
        return list(rows.all())


async def record_announced(db: Database, delivery_id: int) -> None:
    """The operator was told this row is dead; do not tell again."""
    async with db.writing() as session:
        row = await session.get(Delivery, delivery_id)
        assert row is not None
        row.operator_alerted_at = utcnow()
        session.add(row)
        await session.commit()


async def listing(
    db: Database, statuses: Sequence[DeliveryStatus | str]
) -> list[tuple[Delivery, str]]:
    """Rows in ``statuses`` with their channel's name, oldest first."""
    async with db.session() as session:
        rows = await session.exec(
            select(Delivery, Channel.name)
            .join(Channel, col(Channel.id) == col(Delivery.channel_id))
            .where(col(Delivery.status).in_(statuses))
            .order_by(col(Delivery.id))
        )
        return list(rows.all())


async def retry(db: Database, delivery_id: int | None) -> int:
    """Make one row (or every dead row) due now with a fresh attempt budget.

    A retried digest takes back the owed alerts it handed back when it died.
    Returns how many rows are due again; raises :class:`NoSuchDelivery` or
    :class:`NotRetryable` for a bad ``delivery_id``.
    """
    async with db.writing() as session:
        query = select(Delivery)
        if delivery_id is None:
            query = query.where(Delivery.status == DeliveryStatus.DEAD)
        else:
            query = query.where(Delivery.id == delivery_id)
        rows = list(await session.exec(query))
        if delivery_id is not None and not rows:
            raise NoSuchDelivery(f"no delivery with id {delivery_id}")
        for row in rows:
            if row.status not in (DeliveryStatus.DEAD, DeliveryStatus.FAILED):
                raise NotRetryable(f"delivery {row.id} is {row.status}, not dead or failed")
            row.status, row.attempts, row.next_attempt_at = DeliveryStatus.PENDING, 0, utcnow()
            row.operator_alerted_at = None
            if row.kind == DeliveryKind.DIGEST:
                owed = await session.exec(_owed_alerts(row.channel_id, row.created_at))
                _batch(session, row, list(owed))
            session.add(row)
        await session.commit()
        return len(rows)
