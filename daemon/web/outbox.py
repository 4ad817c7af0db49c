"""投递 (admin): what the outbox still owes, what failed and what gave up, with the
reasons, and retrying — so a chat bot that was down all weekend is dealt with from the
console, not with ``tingfeng outbox retry`` on the server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import aiohttp_jinja2
from aiohttp import web

from daemon.notify.channels import redactor
from daemon.web.app import console_of
from daemon.web.auth import require_admin
from storage import deliveries
from storage.deliveries import DeliveryStatus, OutboxRow

routes = web.RouteTableDef()

# What an operator may need to act on; sent rows are history (Story shows who got what).
SHOWN = (
    DeliveryStatus.PENDING,
    DeliveryStatus.CLAIMED,
    DeliveryStatus.FAILED,
    DeliveryStatus.DEAD,
)
STATUS_LABELS = {
    DeliveryStatus.PENDING: "待发送",
    DeliveryStatus.CLAIMED: "发送中",
    DeliveryStatus.FAILED: "失败待重试",
    DeliveryStatus.DEAD: "已放弃",
}
RETRYABLE = (DeliveryStatus.FAILED, DeliveryStatus.DEAD)
PAGE_ROWS = 500


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One delivery as the page and the API show it: no channel URL, reason redacted."""

    id: int
    kind: str
    status: str
    topic: str | None
    title: str | None
    article_id: int | None
    # The channel's outbox name; for a console channel its label and owner too.
    channel: str
    channel_label: str | None
    owner: str | None
    recipient: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    reason: str


def statuses_of(values: list[str]) -> tuple[DeliveryStatus, ...] | None:
    """The statuses a filter names (all shown ones for none); None if one is unknown."""
    if not values:
        return SHOWN
    wanted = tuple(DeliveryStatus(v) for v in values if v in {s.value for s in SHOWN})
    return wanted if len(wanted) == len(values) else None


async def outbox_items(
    request: web.Request, statuses: tuple[DeliveryStatus, ...], limit: int = PAGE_ROWS
) -> list[OutboxItem]:
    console = console_of(request)
    rows = await deliveries.listing(console.db, statuses, limit=limit)
    clean = redactor(*console.config.secrets())
    return [_item(row, clean) for row in rows]


def _item(row: OutboxRow, clean: Callable[[str], str]) -> OutboxItem:
    d = row.delivery
    return OutboxItem(
        id=d.id or 0,
        kind=d.kind,
        status=d.status,
        topic=row.topic,
        title=row.title,
        article_id=row.article_id,
        channel=row.channel,
        channel_label=row.label,
        owner=row.owner,
        recipient=d.recipient,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        created_at=d.created_at,
        reason=clean(d.last_error) if d.last_error else "",
    )


async def retry_deliveries(request: web.Request, delivery_id: int | None) -> int:
    """Retry one row (or every dead one) for the logged-in admin; raises ``HTTPNotFound``
    / ``HTTPConflict`` with a message for people."""
    user = require_admin(request)
    try:
        return await deliveries.retry(console_of(request).db, delivery_id, user.id)
    except deliveries.NoSuchDelivery:
        raise web.HTTPNotFound(text=f"没有编号为 {delivery_id} 的投递") from None
    except deliveries.NotRetryable:
        raise web.HTTPConflict(text=f"投递 {delivery_id} 不是失败或已放弃状态，无需重试") from None


async def _page(
    request: web.Request,
    *,
    notices: list[str] | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> web.Response:
    console = console_of(request)
    chosen = statuses_of(request.query.getall("status", []))
    if chosen is None:
        errors = [*(errors or []), "未知的投递状态，已显示全部"]
        chosen = SHOWN
        status = 400
    items = await outbox_items(request, chosen)
    counts = await deliveries.status_counts(console.db)
    context = {
        "nav": "outbox",
        "items": items,
        "counts": {s.value: counts.get(s.value, 0) for s in SHOWN},
        "total": sum(counts.get(s.value, 0) for s in chosen),
        "chosen": [s.value for s in chosen] if chosen != SHOWN else [],
        "labels": {s.value: label for s, label in STATUS_LABELS.items()},
        "retryable": [s.value for s in RETRYABLE],
        "notices": notices or [],
        "errors": errors or [],
        # A retry posted from a filtered list comes back to the same filter.
        "query": f"?{request.query_string}" if request.query_string else "",
    }
    return aiohttp_jinja2.render_template("outbox.html.j2", request, context, status=status)


@routes.get("/outbox")
async def outbox(request: web.Request) -> web.Response:
    require_admin(request)
    return await _page(request)


@routes.post("/outbox/retry")
async def retry_one(request: web.Request) -> web.Response:
    require_admin(request)
    raw = str((await request.post()).get("id", ""))
    if not raw.isdigit():
        return await _page(request, errors=["请选择要重试的投递"], status=400)
    try:
        await retry_deliveries(request, int(raw))
    except (web.HTTPNotFound, web.HTTPConflict) as exc:
        return await _page(request, errors=[exc.text or ""], status=exc.status)
    return await _page(request, notices=[f"投递 {raw} 已重新排队，将很快发送"])


@routes.post("/outbox/retry-dead")
async def retry_dead(request: web.Request) -> web.Response:
    require_admin(request)
    due = await retry_deliveries(request, None)
    notice = f"{due} 条已放弃的投递已重新排队" if due else "没有已放弃的投递"
    return await _page(request, notices=[notice])
