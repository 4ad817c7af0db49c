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
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from daemon.config import ChannelConfig, Config
from daemon.notify.channels import all_secrets, redact, sender_for
from daemon.notify.operator import alert_operator
from daemon.notify.quiet import QuietHours
from daemon.notify.render import Renderer, RenderError
from daemon.notify.services import SendError, split_message
from storage import deliveries
from storage.db import Database
from storage.deliveries import DeliveryKind, DeliveryStatus, RetryPolicy
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


async def fold_quiet(db: Database, config: Config, ids: dict[str, int], now: datetime) -> None:
    """Instant channels with ``quiet = "digest"``: batch alerts owed during quiet hours
    into one digest row that falls due when the hours end."""
    for channel in config.channels:
        quiet = quiet_now(channel, config, now)
        if quiet is None or channel.quiet != "digest" or channel.name not in ids:
            continue
        end = quiet.end_after(now.astimezone(config.tz))
        cid = ids[channel.name]
        await deliveries.batch_into_digest(db, cid, f"quiet:{cid}:{end:%Y%m%dT%H%M}", end)


def retry_policy(config: Config) -> RetryPolicy:
    settings = config.daemon
    return RetryPolicy(
        settings.max_attempts, settings.max_age, settings.retry_base, settings.retry_max
    )


async def compose(
    db: Database, config: Config, row: Delivery, channel: ChannelConfig, renderer: Renderer
) -> list[tuple[str, str]]:
    """The (title, body) parts this row sends, each within the service's limit."""
    sender = sender_for(channel)
    radius = sender.service.snippet_radius
    if row.kind == DeliveryKind.DIGEST:
        ids = await deliveries.digest_match_ids(db, row.id or 0)
        alerts = [await deliveries.alert_for(db, m) for m in ids]
        day = row.created_at.astimezone(config.tz).date()
        title, body = renderer.digest(alerts, day, sender.format, radius)
    else:
        assert row.match_id is not None
        title, body = renderer.alert(
            await deliveries.alert_for(db, row.match_id), sender.format, radius
        )
    return split_message(title, body, sender.service)


async def _deliver_channel(
    db: Database, config: Config, channel: ChannelConfig, rows: list[int], renderer: Renderer
) -> DeliveryReport:
    """One channel's claimed rows, in order (the channel's rate limit paces them)."""
    report = DeliveryReport()
    secrets = all_secrets(config)
    for delivery_id in rows:
        row = await deliveries.get(db, delivery_id)
        error: str | None = None
        try:
            parts = await compose(db, config, row, channel, renderer)
            for number, (title, body) in enumerate(parts, 1):
                if number <= row.parts_sent:
                    continue
                await sender_for(channel).send(title, body)
                if len(parts) > 1:
                    await deliveries.record_progress(db, delivery_id, number)
        except (SendError, RenderError, OSError) as exc:
            error = f"channel {channel.name}: {exc}"
        except Exception as exc:  # a plugin's own bug must still end as a recorded failure
            error = f"channel {channel.name}: {type(exc).__name__}: {exc}"
        error = redact(error, *secrets) if error else None
        status = await deliveries.record_outcome(db, delivery_id, error, retry_policy(config))
        if status == DeliveryStatus.SENT:
            report.sent += 1
            continue
        report.failed += 1
        report.dead += status == DeliveryStatus.DEAD
        report.errors.append(error or "")
        log.warning("delivery failed", delivery=delivery_id, status=status, error=error)
    return report


async def _orphans(db: Database, rows: list[int], config: Config) -> DeliveryReport:
    """Rows of channels no longer in config: fail them with a reason, never drop them."""
    report = DeliveryReport()
    for delivery_id in rows:
        error = "channel is no longer in the config"
        status = await deliveries.record_outcome(db, delivery_id, error, retry_policy(config))
        report.failed += 1
        report.dead += status == DeliveryStatus.DEAD
        report.errors.append(error)
    return report


async def alert_dead_letters(db: Database, config: Config) -> None:
    """Tell the operator about each dead row once (again next pass if that send failed)."""
    dead = await deliveries.dead_unannounced(db)
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
        await deliveries.record_announced(db, row.id or 0)


async def deliver_due(db: Database, config: Config, now: datetime | None = None) -> DeliveryReport:
    """Send every due delivery once; failures are rescheduled, never dropped.

    Channels are served concurrently, so one that times out delays no other.
    """
    now = now or utcnow()
    ids = await deliveries.channel_ids(db)
    await fold_quiet(db, config, ids, now)
    by_id = {ids[c.name]: c for c in config.channels if c.name in ids}
    alert_channels = [
        cid for cid, c in by_id.items() if c.mode == "instant" and quiet_now(c, config, now) is None
    ]
    claimed = await deliveries.claim_due(
        db, alert_channels, now, timedelta(seconds=config.daemon.lease)
    )
    report = DeliveryReport()
    if claimed:
        owners = await deliveries.owners(db, claimed)
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
