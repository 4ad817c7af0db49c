"""``tingfeng sources``: each source's health, in local time."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from daemon.commands._shared import config_from, entry_notes, run_async
from daemon.commands._table import pad, print_table, terminal
from daemon.config import Config
from daemon.notify.render import local_time
from daemon.redaction import display_text
from daemon.runtime import open_database
from daemon.source_health import SourceHealth, source_health
from storage.types import utcnow


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("sources", parents=[common])
    parser.set_defaults(handler=run)


async def health(config: Config) -> list[SourceHealth]:
    async with open_database(config) as db:
        return await source_health(config, db)


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
    found = run_async(health(config), tz=config.tz)
    tz = config.tz
    now = utcnow()
    # "as of": when the state was recorded (the last run); a paused source shows since
    # when it is paused and has no next run.
    rows = []
    for item in found:
        since = item.paused_at if item.state == "paused" else item.last_run_at
        age = format_age(now - since) if since else "-"
        success = local_time(item.last_success_at, tz) if item.last_success_at else "-"
        next_run = local_time(item.next_run_at, tz) if item.next_run_at else "-"
        rows.append(
            [
                item.name,
                item.kind,
                item.state,
                success,
                str(item.failures_in_row),
                next_run,
                age,
                item.last_error,
            ]
        )
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


def format_age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"
