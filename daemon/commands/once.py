"""``tingfeng once``: one full cycle; per-source failures are reported, not fatal.

Each source is reported as it finishes (fetching all of them takes seconds), on a
terminal under a live progress bar, elsewhere as plain lines.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from daemon.commands._shared import config_from, count, run_async
from daemon.commands._table import terminal
from daemon.config import Config
from daemon.notify.operator import alert_operator
from daemon.notify.outbox import DeliveryReport
from daemon.pipeline import SourceReport
from daemon.redaction import display_text
from daemon.runtime import open_pipeline
from storage.identity import DatabaseIdentityError


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("once", parents=[common])
    parser.add_argument("--json-logs", action="store_true", help="log as JSON lines on stderr")
    parser.set_defaults(handler=run)


async def one_cycle(
    config: Config, on_source: Callable[[SourceReport], None]
) -> tuple[list[SourceReport], DeliveryReport]:
    async with open_pipeline(config) as pipeline:
        try:
            return await pipeline.cycle(on_source)
        except DatabaseIdentityError as exc:
            await alert_operator(config, "数据库被删除或替换，听风已停止", str(exc))
            raise


def source_line(r: SourceReport) -> str:
    if r.paused:
        return f"{r.name}: paused, skipped (resume it on the console's 来源 page)"
    if r.error:
        return f"{r.name}: FAILED: {display_text(r.error)}"
    owed = count(r.owed, "alert")
    skipped = f", {count(r.skipped, 'article page')} failed" if r.skipped else ""
    return f"{r.name}: {r.new} new, {r.matched} matched, {owed} owed{skipped}"


def delivery_lines(delivered: DeliveryReport) -> list[str]:
    line = f"alerts: {delivered.sent} sent, {delivered.failed} failed"
    if delivered.dead:
        line += f" ({delivered.dead} dead)"
    return [line, *(f"  {error}" for error in delivered.errors)]


def run(args: argparse.Namespace) -> int:
    """Each source's line as it finishes; on a terminal under a live progress bar."""
    config = config_from(args, warn=True)
    total = sum(1 for s in config.sources if s.enabled)
    console = terminal()
    if console is None:
        reports, delivered = run_async(
            one_cycle(config, lambda r: print(source_line(r), flush=True)),
            tz=config.tz,
            json_logs=args.json_logs,
        )
    else:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("sources", total=total)

            def finished(report: SourceReport) -> None:
                progress.console.print(source_line(report), markup=False, highlight=False)
                progress.advance(task)
                if progress.tasks[0].completed >= total:
                    progress.update(task, description="delivering alerts")

            reports, delivered = run_async(
                one_cycle(config, finished), tz=config.tz, json_logs=args.json_logs
            )
    for line in delivery_lines(delivered):
        print(line)
    if any(r.storage_failed for r in reports) and all(r.error for r in reports if not r.paused):
        # The database refused every write (read-only, gone): the cycle did not run. One
        # source's failed store, while others stored, stays a per-source failure.
        print("tingfeng: the database refused this cycle's writes (see above)", file=sys.stderr)
        return 3
    return 0
