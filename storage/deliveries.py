"""The outbox's operations: owe, claim, record, retry, list and batch deliveries.

Every query about the ``deliveries`` table lives here, so the daemon's outbox worker,
the digest builder, the CLI and a future console share one meaning of "owed",
"due" and "dead". The daemon renders and sends; this module decides which rows
move to which state.

States (:class:`DeliveryStatus`): pending → claimed (lease) → sent, or failed
(rescheduled) → dead after too many attempts or too long. An alert row of a digest
is batched (it points at its digest row) until the digest is sent; a dead digest
hands its items back as pending, owed to the next digest.

A claim carries a token (fencing): every write a sender makes about a claimed row
is one ``UPDATE … WHERE id = :id AND claim_token = :token`` statement, so a worker
whose lease ran out (and whose row another worker has since claimed) can neither
send it again nor overwrite what the new owner records. Each fenced write is the
first statement of its transaction: SQLite then takes the write lock before it
reads, and PostgreSQL re-checks the condition on the newest row version.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import case, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.console_models import AuditEntry, ConsoleChannel, User
from storage.db import Database
from storage.dedup.clusters import cluster_sources
from storage.models import Article, Channel, Delivery, Match, Source, Topic
from storage.types import utcnow

# The most rows one claim holds. After a crash they wait for the lease to run out
# (everything else is sent at once by the next worker), so a claim stays small.
CLAIM_BATCH = 20


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
    page: str = ""  # the 版面 label as printed (``第02版：县域``)
    pdf: str = ""  # the printed page as a PDF, where the paper offers one


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


def _with_recipient(key: str, recipient: str) -> str:
    return f"{key}:{recipient}" if recipient else key


async def owe(
    session: AsyncSession, match: Match, topic_id: int, channels: Sequence[Channel]
) -> int:
    """Owe one alert per channel (per recipient of a multi-recipient email channel) for
    ``match`` unless its cluster already owes it.

    The key makes a cluster alert once per topic and channel, whichever of its
    copies matched first. Returns how many rows were added.
    """
    owed = 0
    for channel in channels:
        for recipient in channel.recipients or [""]:
            key = _with_recipient(f"{match.cluster_id}:{topic_id}:{channel.id}", recipient)
            exists = await session.exec(select(Delivery.id).where(Delivery.key == key))
            if exists.first() is not None:
                continue
            session.add(
                Delivery(
                    key=key,
                    match_id=match.id or 0,
                    channel_id=channel.id or 0,
                    recipient=recipient,
                )
            )
            owed += 1
    return owed


async def channel_ids(db: Database) -> dict[str, int]:
    """Channel ids by name, as mirrored from config."""
    async with db.session() as session:
        return {c.name: c.id for c in await session.exec(select(Channel)) if c.id is not None}


def _owed_alerts(  # type: ignore[no-untyped-def]
    channel_id: int, created_before: datetime | None = None, recipient: str | None = None
):
    """Alert rows of the channel still owed and not yet in a digest, oldest first."""
    query = select(Delivery).where(
        Delivery.channel_id == channel_id,
        Delivery.kind == DeliveryKind.ALERT,
        col(Delivery.status).in_(OPEN),
        col(Delivery.digest_id).is_(None),
    )
    if created_before is not None:
        query = query.where(col(Delivery.created_at) <= created_before)
    if recipient is not None:
        query = query.where(Delivery.recipient == recipient)
    return query.order_by(col(Delivery.id))


async def owed_match_ids(db: Database, channel_id: int) -> list[int]:
    """The matches a digest of the channel would carry now (each once, whoever the
    recipients; nothing is changed)."""
    async with db.session() as session:
        rows = await session.exec(_owed_alerts(channel_id))
        return list(dict.fromkeys(r.match_id for r in rows if r.match_id is not None))


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
) -> list[int]:
    """Move the channel's owed alerts into digest rows ``key`` (made if missing), one
    per recipient of a multi-recipient email channel.

    The digests fall due at ``due_at``. Returns their ids: none when nothing is owed,
    no such digest exists yet and ``keep_empty`` is false. A digest already being
    sent takes no more items; they stay owed.
    """
    async with db.writing() as session:
        channel = await session.get(Channel, channel_id)
        owed = list(await session.exec(_owed_alerts(channel_id)))
        recipients = {row.recipient for row in owed}
        if keep_empty and channel is not None:
            recipients |= set(channel.recipients or [""])
        ids: list[int] = []
        for recipient in sorted(recipients):
            rkey = _with_recipient(key, recipient)
            digest = (await session.exec(select(Delivery).where(Delivery.key == rkey))).first()
            if digest is None:
                digest = Delivery(
                    key=rkey,
                    kind=DeliveryKind.DIGEST,
                    channel_id=channel_id,
                    recipient=recipient,
                    next_attempt_at=due_at,
                    created_at=created_at or utcnow(),
                )
                session.add(digest)
                await session.flush()
            elif digest.status not in OPEN:
                continue
            _batch(session, digest, [row for row in owed if row.recipient == recipient])
            ids.append(digest.id or 0)
        await session.commit()
        return ids


async def digest_missed(db: Database, channel_id: int, slot: datetime) -> bool:
    """Whether the channel's digest due at ``slot`` never happened although alerts
    owed before it were waiting (the daemon was down at that time)."""
    async with db.session() as session:
        made = await session.exec(
            select(Delivery.id).where(
                Delivery.channel_id == channel_id,
                col(Delivery.key).startswith("digest:"),
                col(Delivery.created_at) >= slot,
            )
        )
        if made.first() is not None:
            return False
        waiting = await session.exec(_owed_alerts(channel_id, created_before=slot).limit(1))
        return waiting.first() is not None


# --- claiming and sending ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claim:
    """Rows leased to one worker, and the token that proves it still holds them."""

    token: str
    ids: list[int]


def _held(token: str):  # type: ignore[no-untyped-def]
    return (col(Delivery.claim_token) == token) & (col(Delivery.status) == DeliveryStatus.CLAIMED)


async def claim_due(
    db: Database,
    channel_id: int,
    *,
    alerts: bool,
    due_by: datetime,
    pass_start: datetime,
    lease: timedelta,
    limit: int = CLAIM_BATCH,
) -> Claim | None:
    """Lease up to ``limit`` of the channel's due rows to a new token, oldest first.

    Due: owed with ``next_attempt_at`` ≤ ``due_by``, or claimed by a worker whose
    lease ran out (it died). A row already tried in this pass (rescheduled after
    ``pass_start``) waits for the next one. Digests are always eligible, alert rows
    only when ``alerts`` (an instant channel outside quiet hours). None when nothing
    is due.
    """
    now = utcnow()
    untried = (col(Delivery.attempts) == 0) | (col(Delivery.next_attempt_at) <= pass_start)
    due = or_(
        col(Delivery.status).in_(OPEN) & (col(Delivery.next_attempt_at) <= due_by) & untried,
        (col(Delivery.status) == DeliveryStatus.CLAIMED) & (col(Delivery.claimed_until) < now),
    )
    kinds = col(Delivery.kind) == DeliveryKind.DIGEST
    if alerts:
        alert = (col(Delivery.kind) == DeliveryKind.ALERT) & col(Delivery.digest_id).is_(None)
        kinds = kinds | alert
    async with db.writing() as session:
        ids = list(
            await session.exec(
                select(Delivery.id)
                .where(Delivery.channel_id == channel_id, due, kinds)
                .order_by(col(Delivery.id))
                .limit(max(1, limit))
            )
        )
        if not ids:
            return None
        token = uuid.uuid4().hex
        await session.exec(  # type: ignore[call-overload]
            update(Delivery)
            .where(col(Delivery.id).in_(ids), due)
            .values(status=DeliveryStatus.CLAIMED, claimed_until=now + lease, claim_token=token)
        )
        await session.commit()
        claimed = await session.exec(
            select(Delivery.id).where(_held(token)).order_by(col(Delivery.id))
        )
        held = [i for i in claimed if i is not None]
        return Claim(token, held) if held else None


async def hold(db: Database, delivery_id: int, token: str, lease: timedelta) -> bool:
    """Renew the lease of every row ``token`` holds; True if ``delivery_id`` is one.

    Called before a send once half the lease has passed, so a row is only sent while
    it is still ours and a claim lives as long as its worker keeps sending.
    """
    async with db.writing() as session:
        await session.exec(  # type: ignore[call-overload]
            update(Delivery).where(_held(token)).values(claimed_until=utcnow() + lease)
        )
        mine = await session.exec(
            select(Delivery.id).where(Delivery.id == delivery_id, _held(token))
        )
        held = mine.first() is not None
        await session.commit()
        return held


async def release(db: Database, token: str) -> int:
    """Hand back the rows ``token`` still holds, due at once (a clean stop); returns how many."""
    async with db.writing() as session:
        result = await session.exec(  # type: ignore[call-overload]
            update(Delivery)
            .where(_held(token))
            .values(
                status=case(
                    (col(Delivery.attempts) > 0, DeliveryStatus.FAILED),
                    else_=DeliveryStatus.PENDING,
                ),
                claim_token=None,
                claimed_until=None,
            )
        )
        await session.commit()
        return int(result.rowcount or 0)


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
            page=article.page,
            pdf=str(article.extra.get("pdf") or ""),
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


async def record_progress(db: Database, delivery_id: int, token: str, parts_sent: int) -> bool:
    """Parts of a split message already confirmed, so a retry resumes after them.

    False (nothing written) when the row is no longer held by ``token``.
    """
    async with db.writing() as session:
        result = await session.exec(  # type: ignore[call-overload]
            update(Delivery)
            .where(col(Delivery.id) == delivery_id, _held(token))
            .values(parts_sent=parts_sent)
        )
        await session.commit()
        return bool(result.rowcount)


async def record_outcome(
    db: Database, delivery_id: int, token: str, error: str | None, policy: RetryPolicy
) -> DeliveryStatus | None:
    """Record a send attempt: sent when ``error`` is None, else failed or dead.

    Only while ``token`` still holds the row; otherwise nothing is written and None
    is returned (another worker owns it now). A sent digest marks its items sent; a
    dead digest hands its items back, owed to the next digest, so nothing a digest
    carried is lost with it.
    """
    row = await get(db, delivery_id)  # attempts and age do not change while we hold it
    now = utcnow()
    attempts = row.attempts + 1
    values: dict[str, object] = {
        "attempts": attempts,
        "claimed_until": None,
        "claim_token": None,
    }
    if error is None:
        status = DeliveryStatus.SENT
        values.update(sent_at=now, last_error=None)
    else:
        too_old = policy.max_age is not None and (
            now - row.created_at >= timedelta(seconds=policy.max_age)
        )
        dead = attempts >= policy.max_attempts or too_old
        status = DeliveryStatus.DEAD if dead else DeliveryStatus.FAILED
        values.update(last_error=error[:2000], next_attempt_at=now + policy.backoff(attempts))
    values["status"] = status
    async with db.writing() as session:
        result = await session.exec(  # type: ignore[call-overload]
            update(Delivery).where(col(Delivery.id) == delivery_id, _held(token)).values(**values)
        )
        if not result.rowcount:
            await session.rollback()
            return None
        if row.kind == DeliveryKind.DIGEST and status == DeliveryStatus.SENT:
            await session.exec(  # type: ignore[call-overload]
                update(Delivery)
                .where(col(Delivery.digest_id) == delivery_id)
                .values(status=DeliveryStatus.SENT, sent_at=now)
            )
        elif row.kind == DeliveryKind.DIGEST and status == DeliveryStatus.DEAD:
            await session.exec(  # type: ignore[call-overload]
                update(Delivery)
                .where(col(Delivery.digest_id) == delivery_id)
                .values(status=DeliveryStatus.PENDING, digest_id=None)
            )
        await session.commit()
        return status


# --- dead letters, listing and retry ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeadNews:
    """Dead rows of one channel the operator has not been told about."""

    count: int
    last_error: str | None
    outage_open: bool


async def unannounced_dead(db: Database, channel_id: int) -> DeadNews:
    """How many of the channel's rows died unannounced, the latest reason, and whether
    the operator already knows the channel is down (an open outage)."""
    async with db.session() as session:
        rows = list(
            await session.exec(
                select(Delivery.last_error)
                .where(
                    Delivery.channel_id == channel_id,
                    Delivery.status == DeliveryStatus.DEAD,
                    col(Delivery.operator_alerted_at).is_(None),
                )
                .order_by(col(Delivery.id).desc())
            )
        )
        channel = await session.get(Channel, channel_id)
        outage = channel is not None and channel.outage_alerted_at is not None
        return DeadNews(len(rows), rows[0] if rows else None, outage)


async def announce_dead(db: Database, channel_id: int) -> None:
    """The operator knows about the channel's dead rows so far (its open outage counts
    them); they are not announced again."""
    async with db.writing() as session:
        await session.exec(  # type: ignore[call-overload]
            update(Delivery)
            .where(
                col(Delivery.channel_id) == channel_id,
                col(Delivery.status) == DeliveryStatus.DEAD,
                col(Delivery.operator_alerted_at).is_(None),
            )
            .values(operator_alerted_at=utcnow())
        )
        await session.commit()


async def open_outage(db: Database, channel_id: int) -> bool:
    """Mark the channel down; True only for the one caller that opened the outage (so
    instances sharing a database announce it once)."""
    async with db.writing() as session:
        result = await session.exec(  # type: ignore[call-overload]
            update(Channel)
            .where(col(Channel.id) == channel_id, col(Channel.outage_alerted_at).is_(None))
            .values(outage_alerted_at=utcnow())
        )
        await session.commit()
        return bool(result.rowcount)


async def close_outage(db: Database, channel_id: int) -> bool:
    """Mark the channel up again; True only for the one caller that closed an open outage."""
    async with db.writing() as session:
        result = await session.exec(  # type: ignore[call-overload]
            update(Channel)
            .where(col(Channel.id) == channel_id, col(Channel.outage_alerted_at).isnot(None))
            .values(outage_alerted_at=None)
        )
        await session.commit()
        return bool(result.rowcount)


async def requeue_dead(db: Database, channel_id: int, max_age: float | None) -> int:
    """A delivery to the channel worked again: its dead rows (younger than ``max_age``,
    never re-queued before) are due now with a fresh attempt budget. Returns how many.

    Once per row, so a row that fails for its own reason (a broken template) cannot
    bounce between dead and due for ever.
    """
    now = utcnow()
    query = (
        update(Delivery)
        .where(
            col(Delivery.channel_id) == channel_id,
            col(Delivery.status) == DeliveryStatus.DEAD,
            col(Delivery.requeued_at).is_(None),
        )
        .values(
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            operator_alerted_at=None,
            requeued_at=now,
        )
    )
    if max_age is not None:
        query = query.where(col(Delivery.created_at) > now - timedelta(seconds=max_age))
    async with db.writing() as session:
        result = await session.exec(query)  # type: ignore[call-overload]
        await session.commit()
        return int(result.rowcount or 0)


class OutboxRow(NamedTuple):
    """A delivery as a person reads it: which channel, and for an alert which topic and
    article (a digest has neither)."""

    delivery: Delivery
    channel: str
    topic: str | None
    title: str | None
    article_id: int | None
    # A console channel (``user:<id>:<n>``): what its owner called it, and who that is.
    label: str | None
    owner: str | None


async def listing(
    db: Database, statuses: Sequence[DeliveryStatus | str], *, limit: int | None = None
) -> list[OutboxRow]:
    """Rows in ``statuses`` with their channel's name, topic and article title, oldest
    first (the first ``limit`` of them)."""
    async with db.session() as session:
        query = (
            select(  # type: ignore[call-overload]  # sqlmodel types up to four columns
                Delivery,
                Channel.name,
                Topic.name,
                Article.title,
                Article.id,
                ConsoleChannel.label,
                User.name,
            )
            .join(Channel, col(Channel.id) == col(Delivery.channel_id))
            .outerjoin(Match, col(Match.id) == col(Delivery.match_id))
            .outerjoin(Topic, col(Topic.id) == col(Match.topic_id))
            .outerjoin(Article, col(Article.id) == col(Match.article_id))
            .outerjoin(ConsoleChannel, col(ConsoleChannel.name) == col(Channel.name))
            .outerjoin(User, col(User.id) == col(ConsoleChannel.owner_id))
            .where(col(Delivery.status).in_(statuses))
            .order_by(col(Delivery.id))
            .limit(limit)
        )
        rows = await session.exec(query)
        return [OutboxRow(*row) for row in rows.all()]


async def status_counts(db: Database) -> dict[str, int]:
    """How many rows are in each state (states with none are absent)."""
    async with db.session() as session:
        rows = await session.exec(
            select(Delivery.status, func.count()).group_by(col(Delivery.status))
        )
        return {status: int(n) for status, n in rows.all()}


async def retry(db: Database, delivery_id: int | None, user_id: int | None = None) -> int:
    """Make one row (or every dead row) due now with a fresh attempt budget; each retried
    row is audited (``user_id``: who asked from the console; none from the shell).

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
            session.add(
                AuditEntry(
                    user_id=user_id,
                    action="delivery.retry",
                    target=f"delivery:{row.id}",
                    detail={"was": row.status, "attempts": row.attempts},
                )
            )
            row.status, row.attempts, row.next_attempt_at = DeliveryStatus.PENDING, 0, utcnow()
            row.operator_alerted_at = None
            if row.kind == DeliveryKind.DIGEST:
                owed = await session.exec(
                    _owed_alerts(row.channel_id, row.created_at, row.recipient)
                )
                _batch(session, row, list(owed))
            session.add(row)
        await session.commit()
        return len(rows)
