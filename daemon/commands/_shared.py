"""Helpers the sub-commands share: loading config, ``--since`` and running a coroutine."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, TypeVar

from daemon.config import Config, load_config
from daemon.errors import UserError

T = TypeVar("T")


def config_from(args: argparse.Namespace, *, warn: bool = False) -> Config:
    """The validated config; with ``warn``, its warnings printed to stderr first."""
    config = load_config(args.config)
    if warn:
        for warning in config.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    return config


def count(n: int, word: str, words: str | None = None) -> str:
    """``1 alert``, ``2 alerts``, ``1 delivery``, ``3 deliveries``: English for people."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def parse_since(value: str | None, config: Config) -> datetime | None:
    """``--since``: an age (7d, 12h) before now, or a date/time in the configured time zone."""
    if value is None:
        return None
    if match := re.fullmatch(r"(\d+)([dh])", value.strip()):
        amount = int(match.group(1))
        delta = timedelta(days=amount) if match.group(2) == "d" else timedelta(hours=amount)
        return datetime.now(UTC) - delta
    try:
        day = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"--since: {value!r} is not a date (2024-05-20) or an age (7d)") from None
    if day.tzinfo is None:
        day = day.replace(tzinfo=config.tz)
    return day.astimezone(UTC)


def run_async(
    coro: Coroutine[Any, Any, T],
    *,
    tz: tzinfo = UTC,
    json_logs: bool = False,
    quiet: bool = True,
) -> T:
    """Run ``coro`` with logging set up; ``tz``: the config's time zone for log times."""
    import logging

    from daemon.logs import configure_logging

    configure_logging(json=json_logs, level=logging.WARNING if quiet else logging.INFO, tz=tz)
    return asyncio.run(coro)


def entry_notes(config: Config) -> list[str]:
    """One line per e-paper source whose URL is one day's issue: it is followed as the
    paper's entry (the newest issue every day), and the user should know it was read so."""
    papers = [spec for spec in config.sources if spec.kind == "epaper"]
    if not papers:
        return []
    # Imported only here: the e-paper parsers cost start-up time every other config is spared.
    from watchers.epaper.entry import entry_note

    return [f"{spec.name}: {note}" for spec in papers if (note := entry_note(spec.url))]
