"""Alerts for operators (a source gone quiet, a delivery gone dead), not for subscribers.

They go straight to ``[daemon] admin_channel`` and are logged either way, so a
problem is never silent even when no admin channel is configured.
"""

from __future__ import annotations

import structlog

from daemon.config import Config
from daemon.notify.channels import redact, sender_for
from daemon.notify.services import SendError
from daemon.redaction import scrub

log = structlog.get_logger("tingfeng.operator")


async def alert_operator(config: Config, subject: str, body: str) -> str | None:
    """Send to the admin channel; returns None when delivered, else the reason it was not."""
    subject, body = scrub(subject), scrub(body)
    log.warning("operator alert", subject=subject, body=body)
    name = config.daemon.admin_channel
    if not name:
        return "no admin_channel configured"
    try:
        sender = sender_for(config.channel(name))
        await sender.pace()
        await sender.send(f"[听风·运维] {subject}", body)
    except (SendError, OSError) as exc:
        reason = redact(f"admin channel {name}: {exc}", *config.secrets())
        log.warning("operator alert not delivered", reason=reason)
        return reason
    return None
