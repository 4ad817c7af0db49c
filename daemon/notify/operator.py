"""Alerts for operators (a source gone quiet, a delivery gone dead), not for subscribers.

They go straight to ``[daemon] admin_channel`` and are logged either way, so a
problem is never silent even when no admin channel is configured.
"""

from __future__ import annotations

import structlog

from daemon.config import Config
from daemon.notify.outbox import send

log = structlog.get_logger("tingfeng.operator")


async def alert_operator(config: Config, subject: str, body: str) -> str | None:
    """Send to the admin channel; returns None when delivered, else the reason it was not."""
    log.warning("operator alert", subject=subject, body=body)
    name = config.daemon.admin_channel
    if not name:
        return "no admin_channel configured"
    return await send(config.channel(name), f"[听风·运维] {subject}", body)
