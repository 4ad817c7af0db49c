"""Digests: per digest channel, everything owed since its last digest as one message.

A digest is an outbox row of kind "digest"; building one moves the channel's owed
alert rows into it ("batched"). The outbox sends it like any alert, with the same
retries; if it goes dead its items are handed back, owed to the next digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from daemon.config import Config
from daemon.notify.channels import sender_for
from daemon.notify.render import renderer_for
from daemon.notify.settings import ChannelConfig
from storage import deliveries
from storage.db import Database
from storage.types import utcnow


@dataclass(slots=True)
class Preview:
    channel: str
    subject: str
    body: str
    format: str
    items: int


async def build_digest(
    db: Database, channel: ChannelConfig, now: datetime | None = None
) -> list[int]:
    """Batch the channel's owed alerts into new digest rows (one per recipient of a
    multi-recipient email channel); returns their ids.

    None are made when nothing is owed and the channel does not ask for empty digests.
    """
    now = now or utcnow()
    cid = (await deliveries.channel_ids(db)).get(channel.name)
    if cid is None:
        return []
    return await deliveries.batch_into_digest(
        db,
        cid,
        f"digest:{cid}:{now:%Y%m%dT%H%M%S%f}",
        now,
        keep_empty=channel.send_empty,
        created_at=now,
    )


def last_slot(channel: ChannelConfig, tz: tzinfo, now: datetime) -> datetime:
    """The latest time at or before ``now`` the channel's digest was due (UTC)."""
    hour, minute = (int(part) for part in channel.at.split(":"))
    local = now.astimezone(tz)
    slot = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if slot > local:
        slot -= timedelta(days=1)
    if channel.every == "weekly":
        while slot.strftime("%a").lower() != channel.weekday:
            slot -= timedelta(days=1)
    return slot.astimezone(UTC)


async def catch_up(db: Database, config: Config, now: datetime | None = None) -> list[str]:
    """Build the digests whose time passed while the daemon was down, once, with
    everything owed; returns the channels that got one.

    A digest is missed when alerts owed before its time are still waiting and no
    digest was made since; the next scheduled digest then carries what came after.
    """
    now = now or utcnow()
    ids = await deliveries.channel_ids(db)
    caught: list[str] = []
    for channel in config.channels:
        cid = ids.get(channel.name)
        if channel.mode != "digest" or cid is None:
            continue
        if await deliveries.digest_missed(db, cid, last_slot(channel, config.tz, now)):
            await build_digest(db, channel, now)
            caught.append(channel.name)
    return caught


async def preview_digest(
    db: Database, config: Config, channel: ChannelConfig, now: datetime | None = None
) -> Preview:
    """What the channel's digest would say now, without touching the outbox."""
    now = now or utcnow()
    cid = (await deliveries.channel_ids(db)).get(channel.name)
    match_ids = await deliveries.owed_match_ids(db, cid) if cid is not None else []
    alerts = [await deliveries.alert_for(db, m) for m in match_ids]
    sender = sender_for(channel)
    subject, body = renderer_for(config).digest(
        alerts, now.astimezone(config.tz).date(), sender.format
    )
    return Preview(channel.name, subject, body, sender.format, len(alerts))
