"""``tingfeng sources``: each source's health, in local time."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from typing import Any

from daemon.commands._shared import config_from, entry_notes, run_async
from daemon.commands._table import pad, print_table, terminal
from daemon.config import Config
from daemon.notify.render import local_time
from daemon.redaction import display_text
from daemon.runtime import open_database
from storage.catalog import stored_sources
from storage.models import Source
from storage.types import utcnow
from watchers.settings import SourceConfig

STALE_GRACE = 120.0


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("sources", parents=[common])
    parser.set_defaults(handler=run)


async def health(config: Config) -> dict[str, Source]:
    async with open_database(config) as db:
        return await stored_sources(db)


HEADERS = (
    "source",
    "kind",
    "state",
    "last success",
    "fails",
    "next run",
    "as of",
    "last error",
)


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    stored = run_async(health(config), tz=config.tz)
    tz = config.tz
    now = utcnow()
    # "unhealthy": failed fail_alert_after times in a row, or alerted and not yet recovered;
    # it is still tried, at its backoff time ("next run"). "as of": when that state was
    # recorded; "stale": the daemon should have run the source since and has not.
    rows = []
    for spec in config.sources:
        row = stored.get(spec.name)
        if not spec.enabled:
            state = "disabled"
        elif row is None or row.last_run_at is None:
            state = "new"
        elif _stale(row, spec, now):
            state = "stale"
        elif row.failures_in_row >= spec.fail_alert_after or row.alerted_at is not None:
            state = "unhealthy"
        elif row.failures_in_row:
            state = "failing"
        else:
            state = "ok"
        age = format_age(now - row.last_run_at) if row and row.last_run_at else "-"
        success = local_time(row.last_success_at, tz) if row and row.last_success_at else "-"
        next_run = local_time(row.next_run_at, tz) if row and row.next_run_at else "-"
        fails = str(row.failures_in_row if row else 0)
        error = (row.last_error or "") if row and row.failures_in_row else ""
        rows.append([spec.name, spec.kind, state, success, fails, next_run, age, error])
    if console := terminal():
        print_table(
            console, HEADERS, [[*r[:-1], display_text(r[-1])] for r in rows], right=("fails",)
        )
    else:
        for line in [list(HEADERS), *rows]:
            name, kind, state, success, fails, next_run, age, error = line
            print(
                f"{pad(name, 20)} {pad(kind, 7)} {pad(state, 9)} {pad(success, 17)} "
                f"{pad(fails, 5, right=True)}  {pad(next_run, 17)} {pad(age, 8)} "
                f"{display_text(error)[:120]}".rstrip()
            )
    for note in entry_notes(config):
        print(f"note: {note}")
    return 0


def _stale(row: Source, spec: SourceConfig, now: datetime) -> bool:
    """The daemon should have run (and recorded) this source a while ago and has not:
    it is stopped, or it cannot write to the database. The last state is shown as stale."""
    if row.next_run_at is None:
        return False
    return now - row.next_run_at > timedelta(seconds=max(STALE_GRACE, spec.interval))


def format_age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"
