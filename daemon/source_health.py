"""What state each configured source is in, one meaning for ``tingfeng sources``, the
console's 来源 page and the API.

The state needs both the config (enabled, ``fail_alert_after``, interval) and the
stored health row, so it is worked out here in the daemon rather than in storage,
which never sees the config.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from daemon.config import Config
from daemon.redaction import display_url
from storage.catalog import stored_sources
from storage.db import Database
from storage.models import Source
from storage.types import utcnow
from watchers.settings import SourceConfig

# How late (seconds, at least) a run may be before its last state is shown as stale.
STALE_GRACE = 120.0
State = Literal["ok", "failing", "unhealthy", "stale", "new", "paused", "disabled"]


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """One configured source as an operator reads it (times in UTC)."""

    name: str
    kind: str
    url: str
    # "disabled" (config), "paused" (console), "new" (never ran), "stale" (the daemon
    # should have run it and has not), "unhealthy" (failed fail_alert_after times in a
    # row, or alerted and not yet recovered: still tried, at its backoff time),
    # "failing", "ok".
    state: State
    last_run_at: datetime | None
    last_success_at: datetime | None
    failures_in_row: int
    # Only while failing: a recovered source's old error is history, not its state.
    last_error: str
    next_run_at: datetime | None
    paused_at: datetime | None
    last_article_count: int | None


def source_state(spec: SourceConfig, row: Source | None, now: datetime) -> State:
    if not spec.enabled:
        return "disabled"
    if row is not None and row.paused_at is not None:
        return "paused"
    if row is None or row.last_run_at is None:
        return "new"
    if _stale(row, spec, now):
        return "stale"
    if row.failures_in_row >= spec.fail_alert_after or row.alerted_at is not None:
        return "unhealthy"
    if row.failures_in_row:
        return "failing"
    return "ok"


def _stale(row: Source, spec: SourceConfig, now: datetime) -> bool:
    """The daemon should have run (and recorded) this source a while ago and has not:
    it is stopped, or it cannot write to the database. The last state is shown as stale."""
    if row.next_run_at is None:
        return False
    return now - row.next_run_at > timedelta(seconds=max(STALE_GRACE, spec.interval))


async def source_health(config: Config, db: Database) -> list[SourceHealth]:
    """Every source of ``config`` in config order, with its stored health."""
    stored = await stored_sources(db)
    now = utcnow()
    found = []
    for spec in config.sources:
        row = stored.get(spec.name)
        state = source_state(spec, row, now)
        found.append(
            SourceHealth(
                name=spec.name,
                kind=spec.kind,
                url=row.url if row else display_url(spec.url),
                state=state,
                last_run_at=row.last_run_at if row else None,
                last_success_at=row.last_success_at if row else None,
                failures_in_row=row.failures_in_row if row else 0,
                last_error=(row.last_error or "") if row and row.failures_in_row else "",
                next_run_at=row.next_run_at if row and state != "paused" else None,
                paused_at=row.paused_at if row else None,
                last_article_count=row.last_article_count if row else None,
            )
        )
    return found
