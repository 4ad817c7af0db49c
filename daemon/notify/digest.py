"""Digests: per digest channel, everything owed since its last digest as one message.

A digest is an outbox row of kind "digest"; building one moves the channel's owed
alert rows into it ("batched"). The outbox sends it like any alert, with the same
retries; if it goes dead its items are handed back, owed to the next digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from daemon.config import ChannelConfig, Config
from daemon.notify.channels import sender_for
from daemon.notify.render import Renderer
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
) -> int | None:
    """Batch the channel's owed alerts into a new digest row; returns its id.

    None when nothing is owed and the channel does not ask for empty digests.
    """
    now = now or utcnow()
    cid = (await deliveries.channel_ids(db)).get(channel.name)
    if cid is None:
        return None
    return await deliveries.batch_into_digest(
        db,
        cid,
        f"digest:{cid}:{now:%Y%m%dT%H%M%S%f}",
        now,
        keep_empty=channel.send_empty,
        created_at=now,
    )


async def preview_digest(
    db: Database, config: Config, channel: ChannelConfig, now: datetime | None = None
) -> Preview:
    """What the channel's digest would say now, without touching the outbox."""
    now = now or utcnow()
    cid = (await deliveries.channel_ids(db)).get(channel.name)
    match_ids = await deliveries.owed_match_ids(db, cid) if cid is not None else []
    alerts = [await deliveries.alert_for(db, m) for m in match_ids]
    sender = sender_for(channel)
    renderer = Renderer(config.tz, config.templates_dir())
    subject, body = renderer.digest(
        alerts, now.astimezone(config.tz).date(), sender.format, sender.service.snippet_radius
    )
    return Preview(channel.name, subject, body, sender.format, len(alerts))
