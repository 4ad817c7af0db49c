"""``tingfeng once``: one full cycle; per-source failures are reported, not fatal."""

from __future__ import annotations

import argparse
from typing import Any

from daemon.commands._shared import config_from, count, run_async
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


async def one_cycle(config: Config) -> tuple[list[SourceReport], DeliveryReport]:
    async with open_pipeline(config) as pipeline:
        try:
            return await pipeline.cycle()
        except DatabaseIdentityError as exc:
            await alert_operator(config, "数据库被删除或替换，听风已停止", str(exc))
            raise


def print_reports(reports: list[SourceReport], delivered: DeliveryReport) -> None:
    for r in reports:
        if r.error:
            print(f"{r.name}: FAILED: {display_text(r.error)}")
        else:
            owed = count(r.owed, "alert")
            skipped = f", {count(r.skipped, 'article page')} failed" if r.skipped else ""
            print(f"{r.name}: {r.new} new, {r.matched} matched, {owed} owed{skipped}")
    line = f"alerts: {delivered.sent} sent, {delivered.failed} failed"
    if delivered.dead:
        line += f" ({delivered.dead} dead)"
    print(line)
    for error in delivered.errors:
        print(f"  {error}")


def run(args: argparse.Namespace) -> int:
    config = config_from(args, warn=True)
    reports, delivered = run_async(one_cycle(config), tz=config.tz, json_logs=args.json_logs)
    print_reports(reports, delivered)
    return 0
