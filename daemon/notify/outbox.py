"""The outbox: one delivery worker per channel per process, each owning what it claims.

A worker claims a few due rows under a fresh token (no more than the channel's pace
can send within the lease). It sends a row only while the claim is surely its own:
within the first half of the lease, or after renewing the lease under the token and
finding the row still held; the outcome is recorded only under the same token.
A worker whose lease ran out therefore never sends or records a row another worker
has since claimed. A row is marked sent only after the service confirmed it: the
window between that confirmation and our commit is the only place a duplicate can
come from, and since a channel has one send in flight at a time, a crash costs at
most one duplicate per channel. A clean stop hands unsent claims back at once.

The daemon runs one loop per channel, woken by source jobs that owe new alerts (they
never send themselves) or every ``outbox_every``; ``tingfeng once``, ``digest`` and
the tests run single passes through :func:`deliver_due`. Operators hear of each
channel outage once (with the count of dead rows) and once of its recovery, when a
later delivery works and the outage's dead rows are re-queued.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

import structlog
from sqlalchemy.exc import DBAPIError

from daemon.config import Config
from daemon.notify.channels import redact, sender_for
from daemon.notify.operator import alert_operator
from daemon.notify.quiet import QuietHours
from daemon.notify.render import Renderer, RenderError, renderer_for
from daemon.notify.services import SendError, split_message
from daemon.notify.settings import ChannelConfig
from storage import deliveries
from storage.db import Database
from storage.deliveries import CLAIM_BATCH, DeliveryKind, DeliveryStatus, RetryPolicy
from storage.identity import DatabaseIdentityError
from storage.models import Delivery
from storage.types import utcnow

log = structlog.get_logger("tingfeng.outbox")


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


def quiet_now(channel: ChannelConfig, config: Config, now: datetime) -> QuietHours | None:
    """The channel's quiet hours when ``now`` falls inside them."""
    if channel.mode != "instant" or not channel.quiet_hours:
        return None
    quiet = QuietHours.parse(channel.quiet_hours)
    return quiet if quiet.active(now.astimezone(config.tz)) else None


async def fold_quiet(
    db: Database, config: Config, channel: ChannelConfig, cid: int, now: datetime
) -> None:
    """An instant channel with ``quiet = "digest"``: batch alerts owed during quiet hours
    into one digest that falls due when the hours end."""
    quiet = quiet_now(channel, config, now)
    if quiet is None or channel.quiet != "digest":
        return
    end = quiet.end_after(now.astimezone(config.tz))
    await deliveries.batch_into_digest(db, cid, f"quiet:{cid}:{end:%Y%m%dT%H%M}", end)


def retry_policy(config: Config) -> RetryPolicy:
    settings = config.daemon
    return RetryPolicy(
        settings.max_attempts, settings.max_age, settings.retry_base, settings.retry_max
    )


class Message(NamedTuple):
    """What one row sends, and how the log names it for a person."""

    parts: list[tuple[str, str]]
    label: str


async def compose(
    db: Database, config: Config, row: Delivery, channel: ChannelConfig, renderer: Renderer
) -> Message:
    """The (title, body) parts this row sends, each within the service's limit, and a
    label for the log (``燃气安全 → ops-chat: 鱼台县开展…``)."""
    sender = sender_for(channel)
    radius = sender.service.snippet_radius
    if row.kind == DeliveryKind.DIGEST:
        ids = await deliveries.digest_match_ids(db, row.id or 0)
        alerts = [await deliveries.alert_for(db, m) for m in ids]
        day = row.created_at.astimezone(config.tz).date()
        title, body = await asyncio.to_thread(renderer.digest, alerts, day, sender.format)
        label = f"digest → {channel.name}: {len(alerts)} alert{'' if len(alerts) == 1 else 's'}"
    else:
        assert row.match_id is not None
        alert = await deliveries.alert_for(db, row.match_id)
        # in a thread: quoting maps offsets through the whole text of a long article
        title, body = await asyncio.to_thread(renderer.alert, alert, sender.format, radius)
        short = alert.title if len(alert.title) <= 12 else alert.title[:11] + "…"
        label = f"{alert.topic} → {channel.name}: {short}"
    return Message(split_message(title, body, sender.service), label)


class ChannelWorker:
    """Sends one channel's due rows one at a time, at the channel's pace."""

    def __init__(
        self,
        db: Database,
        config: Config,
        channel: ChannelConfig,
        cid: int,
        stopping: asyncio.Event,
    ) -> None:
        self.db, self.config, self.channel, self.cid = db, config, channel, cid
        self.stopping = stopping
        self.sender = sender_for(channel)
        self.lease = timedelta(seconds=config.daemon.lease)
        self.renderer = renderer_for(config)
        self.secrets = config.secrets()
        self.held_until = utcnow()

    def claim_size(self) -> int:
        """No more rows than the channel's pace can send within one lease."""
        per_minute = self.sender.per_minute()
        if per_minute is None:
            return CLAIM_BATCH
        return max(1, min(CLAIM_BATCH, int(per_minute * self.lease.total_seconds() / 60)))

    async def drain(self, now: datetime) -> DeliveryReport:
        """Everything of this channel due at ``now``, claim after claim, then the
        operator's news (an outage, a recovery whose re-queued rows are sent too)."""
        report = DeliveryReport()
        while True:
            report.add(await self._send_due(now, utcnow()))
            requeued = await self._tell_operator(report)
            if not requeued or self.stopping.is_set():
                return report

    async def _send_due(self, now: datetime, pass_start: datetime) -> DeliveryReport:
        report = DeliveryReport()
        quiet = quiet_now(self.channel, self.config, now)
        alerts = self.channel.mode == "instant" and quiet is None
        while not self.stopping.is_set():
            asked = utcnow()
            claim = await deliveries.claim_due(
                self.db,
                self.cid,
                alerts=alerts,
                due_by=max(now, pass_start),
                pass_start=pass_start,
                lease=self.lease,
                limit=self.claim_size(),
            )
            if claim is None:
                break
            self.held_until = asked + self.lease
            try:
                for delivery_id in claim.ids:
                    if self.stopping.is_set():
                        break
                    await self._send_one(delivery_id, claim.token, report)
            finally:
                # Whatever was not sent (a stop, a crash of this pass) is due again at once.
                await deliveries.release(self.db, claim.token)
        return report

    async def _paced(self) -> bool:
        """Wait for the channel's pace; False if the process is stopping meanwhile."""
        pace = asyncio.ensure_future(self.sender.pace())
        stop = asyncio.ensure_future(self.stopping.wait())
        await asyncio.wait({pace, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if pace.done():
            return True
        pace.cancel()
        return False

    async def _still_held(self, delivery_id: int, token: str) -> bool:
        """Whether the row is still ours to send, renewing the claim's lease once half of it
        has passed. Until the lease ends nobody else can take a row, so within its first
        half no database round trip is needed."""
        if utcnow() < self.held_until - self.lease / 2:
            return True
        asked = utcnow()
        if not await deliveries.hold(self.db, delivery_id, token, self.lease):
            return False
        self.held_until = asked + self.lease
        return True

    async def _send_one(self, delivery_id: int, token: str, report: DeliveryReport) -> None:
        row = await deliveries.get(self.db, delivery_id)
        error: str | None = None
        try:
            message = await compose(self.db, self.config, row, self.channel, self.renderer)
            parts = message.parts
            for number, (title, body) in enumerate(parts, 1):
                if number <= row.parts_sent:
                    continue
                if not await self._paced():
                    return  # stopping: the row is handed back unsent
                if not await self._still_held(delivery_id, token):
                    log.warning("claim lost before sending", delivery=delivery_id)
                    return
                await self.sender.send(title, body, row.recipient)
                if len(parts) > 1:
                    await deliveries.record_progress(self.db, delivery_id, token, number)
        except (SendError, RenderError, OSError) as exc:
            error = f"channel {self.channel.name}: {exc}"
        except Exception as exc:  # a plugin's own bug must still end as a recorded failure
            error = f"channel {self.channel.name}: {type(exc).__name__}: {exc}"
        error = redact(error, *self.secrets) if error else None
        status = await deliveries.record_outcome(
            self.db, delivery_id, token, error, retry_policy(self.config)
        )
        if status is None:
            log.warning("claim lost before recording", delivery=delivery_id, error=error)
        elif status == DeliveryStatus.SENT:
            report.sent += 1
            log.info(f"sent {message.label}", delivery=delivery_id)
        else:
            report.failed += 1
            report.dead += status == DeliveryStatus.DEAD
            report.errors.append(error or "")
            log.warning("delivery failed", delivery=delivery_id, status=status, error=error)

    async def _tell_operator(self, report: DeliveryReport) -> int:
        """One message per outage, one per recovery; returns how many dead rows the
        recovery re-queued (0 when there was none).

        Opening and closing an outage are fenced updates, so of several instances
        sharing the database exactly one announces each.
        """
        name, admin = self.channel.name, self.config.daemon.admin_channel
        requeued = 0
        if report.sent and await deliveries.close_outage(self.db, self.cid):
            requeued = await deliveries.requeue_dead(self.db, self.cid, self.config.daemon.max_age)
            body = f"Deliveries to {name} work again; {requeued} dead deliveries are due again."
            await alert_operator(self.config, f"渠道 {name} 已恢复：{requeued} 条重新排队", body)
        news = await deliveries.unannounced_dead(self.db, self.cid)
        if not news.count:
            return requeued
        if not news.outage_open and await deliveries.open_outage(self.db, self.cid):
            body = (
                f"{news.count} deliveries to channel {name} are dead. Last error: "
                f"{news.last_error}\nThey are re-queued when a later delivery to {name} "
                "works; see `tingfeng outbox`, resend with `tingfeng outbox retry --all-dead`."
            )
            undelivered = await alert_operator(
                self.config, f"渠道 {name} 投递失败：{news.count} 条已放弃", body
            )
            if undelivered is not None and admin:
                await deliveries.close_outage(self.db, self.cid)  # told on a later pass
                return requeued
        await deliveries.announce_dead(self.db, self.cid)
        return requeued


class Outbox:
    """This process's delivery: one worker per channel, in single passes or in loops."""

    def __init__(self, db: Database, config: Config) -> None:
        self.db = db
        self.config = config
        self.stopping = asyncio.Event()
        self.locks: dict[str, asyncio.Lock] = {}
        self.wake: dict[str, asyncio.Event] = {}
        self.loops: dict[str, asyncio.Task[None]] = {}
        self.started = False
        # Set by the daemon: where storage failures in the loops are reported.
        self.storage_failed: Callable[[Exception], Awaitable[None]] | None = None

    async def _drain(self, channel: ChannelConfig, cid: int, now: datetime) -> DeliveryReport:
        """The channel's worker; the lock keeps it the only one in this process."""
        async with self.locks.setdefault(channel.name, asyncio.Lock()):
            await fold_quiet(self.db, self.config, channel, cid, now)
            worker = ChannelWorker(self.db, self.config, channel, cid, self.stopping)
            return await worker.drain(now)

    async def _orphans(self, name: str, cid: int, now: datetime) -> DeliveryReport:
        """Rows of a channel no longer in config: fail them with a reason, never drop them;
        the operator hears once of those that died."""
        report = DeliveryReport()
        policy = retry_policy(self.config)
        error = "channel is no longer in the config"
        lease = timedelta(seconds=self.config.daemon.lease)
        start = utcnow()
        while claim := await deliveries.claim_due(
            self.db, cid, alerts=True, due_by=max(now, start), pass_start=start, lease=lease
        ):
            for delivery_id in claim.ids:
                status = await deliveries.record_outcome(
                    self.db, delivery_id, claim.token, error, policy
                )
                report.failed += 1
                report.dead += status == DeliveryStatus.DEAD
                report.errors.append(error)
        news = await deliveries.unannounced_dead(self.db, cid)
        if news.count:
            body = (
                f"{news.count} deliveries to channel {name} are dead: {error}. Put the "
                "channel back and run `tingfeng outbox retry --all-dead` to send them."
            )
            subject = f"渠道 {name} 已从配置中删除：{news.count} 条已放弃"
            undelivered = await alert_operator(self.config, subject, body)
            if undelivered is None or not self.config.daemon.admin_channel:
                await deliveries.announce_dead(self.db, cid)
        return report

    async def deliver_due(self, now: datetime | None = None) -> DeliveryReport:
        """One pass: every channel's due rows, channels concurrently (a slow one delays
        no other); failures are rescheduled, never dropped."""
        now = now or utcnow()
        ids = await deliveries.channel_ids(self.db)
        configured = {c.name for c in self.config.channels}
        jobs = [self._drain(c, ids[c.name], now) for c in self.config.channels if c.name in ids]
        jobs += [self._orphans(n, cid, now) for n, cid in ids.items() if n not in configured]
        report = DeliveryReport()
        for part in await asyncio.gather(*jobs):
            report.add(part)
        return report

    # --- the daemon's loops -----------------------------------------------------------

    def start(self) -> None:
        """Start one loop per channel (and one for removed channels' rows)."""
        self.started = True
        if "" not in self.loops:
            self.loops[""] = asyncio.create_task(self._orphan_loop())
        self.reconfigure(self.config)

    def reconfigure(self, config: Config) -> None:
        """Follow an edited config: new channels get a loop, removed ones end theirs."""
        self.config = config
        if not self.started or self.stopping.is_set():
            return
        for channel in config.channels:
            if channel.name not in self.loops:
                self.wake[channel.name] = asyncio.Event()
                self.loops[channel.name] = asyncio.create_task(self._channel_loop(channel.name))
        self.signal()

    def signal(self) -> None:
        """New alerts are owed: every channel's worker looks now instead of at its next tick."""
        for event in self.wake.values():
            event.set()

    async def _sleep(self, name: str) -> None:
        wake = self.wake.setdefault(name, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), self.config.daemon.outbox_every)

    async def _channel_loop(self, name: str) -> None:
        while not self.stopping.is_set():
            self.wake[name].clear()
            channel = next((c for c in self.config.channels if c.name == name), None)
            if channel is None:
                break
            try:
                cid = (await deliveries.channel_ids(self.db)).get(name)
                if cid is not None:
                    await self._drain(channel, cid, utcnow())
            except Exception as exc:
                await self._pass_failed(exc, name)
            await self._sleep(name)
        self.loops.pop(name, None)
        self.wake.pop(name, None)

    async def _orphan_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                ids = await deliveries.channel_ids(self.db)
                configured = {c.name for c in self.config.channels}
                for name, cid in ids.items():
                    if name not in configured:
                        await self._orphans(name, cid, utcnow())
            except Exception as exc:
                await self._pass_failed(exc, None)
            await self._sleep("")

    async def _pass_failed(self, exc: Exception, channel: str | None) -> None:
        """A storage problem goes to the daemon (one line per incident; a database that
        changed identity stops it); anything else is a bug, logged with its traceback."""
        if self.storage_failed is not None and isinstance(
            exc, DatabaseIdentityError | DBAPIError | OSError
        ):
            await self.storage_failed(exc)
            return
        log.error("delivery pass failed", channel=channel, exc_info=exc)

    async def stop(self) -> None:
        """Finish the sends in flight, hand back every unsent claim, end the loops."""
        self.stopping.set()
        self.signal()
        if self.loops:
            await asyncio.wait(set(self.loops.values()))
        self.loops.clear()


async def deliver_due(db: Database, config: Config, now: datetime | None = None) -> DeliveryReport:
    """One delivery pass outside the daemon (``once``, ``digest``, tests)."""
    return await Outbox(db, config).deliver_due(now)
