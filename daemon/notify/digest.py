"""Digests: per digest channel, everything owed since its last digest as one message.

A digest is an outbox row of kind "digest"; building one moves the channel's owed
alert rows into it ("batched"). The outbox sends it like any alert, with the same
retries; if it goes dead its items are handed back, owed to the next digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from daemon.config import ChannelConfig, Config
from daemon.notify.channels import sender_for
from daemon.notify.outbox import OPEN, alert_for, channel_ids
from daemon.notify.render import Renderer
from storage.db import Database
from storage.models import Delivery
from storage.types import utcnow


@dataclass(slots=True)
class Preview:
    channel: str
    subject: str
    body: str
    format: str
    items: int


def _owed(cid: int):  # type: ignore[no-untyped-def]
    return select(Delivery).where(
        Delivery.channel_id == cid,
        Delivery.kind == "alert",
        col(Delivery.status).in_(OPEN),
        col(Delivery.digest_id).is_(None),
    )


async def build_digest(
    db: Database, channel: ChannelConfig, now: datetime | None = None
) -> int | None:
    """Batch the channel's owed alerts into a new digest row; returns its id.

    None when nothing is owed and the channel does not ask for empty digests.
    """
    now = now or utcnow()
    cid = (await channel_ids(db)).get(channel.name)
    if cid is None:
        return None
    async with db.writing() as session:
        owed = list(await session.exec(_owed(cid).order_by(col(Delivery.id))))
        if not owed and not channel.send_empty:
            return None
        digest = Delivery(
            key=f"digest:{cid}:{now:%Y%m%dT%H%M%S%f}",
            kind="digest",
            channel_id=cid,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(digest)
        await session.flush()
        for row in owed:
            row.digest_id, row.status = digest.id, "batched"
        session.add_all(owed)
        await session.commit()
        return digest.id


async def preview_digest(
    db: Database, config: Config, channel: ChannelConfig, now: datetime | None = None
) -> Preview:
    """What the channel's digest would say now, without touching the outbox."""
    now = now or utcnow()
    cid = (await channel_ids(db)).get(channel.name)
    alerts = []
    if cid is not None:
        async with db.session() as session:
            match_ids = [
                r.match_id for r in await session.exec(_owed(cid).order_by(col(Delivery.id)))
            ]
        alerts = [await alert_for(db, m) for m in match_ids if m is not None]
    sender = sender_for(channel)
    renderer = Renderer(config.tz, config.templates_dir())
    subject, body = renderer.digest(
        alerts, now.astimezone(config.tz).date(), sender.format, sender.service.snippet_radius
    )
    return Preview(channel.name, subject, body, sender.format, len(alerts))
