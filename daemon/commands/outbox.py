"""``tingfeng outbox``: what is owed, failing or dead, and why; ``outbox retry`` resends."""

from __future__ import annotations

import argparse
from typing import Any

from daemon.commands._shared import config_from, run_async
from daemon.config import Config
from daemon.errors import UserError
from daemon.notify.channels import redact
from daemon.runtime import open_database
from storage import deliveries
from storage.deliveries import DeliveryStatus

STATUSES = tuple(DeliveryStatus)
DEFAULT = (
    DeliveryStatus.PENDING,
    DeliveryStatus.CLAIMED,
    DeliveryStatus.FAILED,
    DeliveryStatus.DEAD,
)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("outbox", parents=[common])
    parser.add_argument(
        "--status",
        action="append",
        choices=STATUSES,
        help="only rows in this state (repeatable; default pending, claimed, failed, dead)",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    retry = actions.add_parser("retry", help="send dead or failed rows again")
    # SUPPRESS keeps a --config given before "retry" from being reset to the default.
    retry.add_argument("--config", default=argparse.SUPPRESS, metavar="PATH", help="config file")
    target = retry.add_mutually_exclusive_group(required=True)
    target.add_argument("id", nargs="?", type=int, help="the delivery id")
    target.add_argument("--all-dead", action="store_true", help="every dead delivery")
    parser.set_defaults(handler=run)


async def listing(config: Config, statuses: tuple[str, ...]) -> list[str]:
    """One line per row: id, kind, channel, state, attempts, next attempt, reason."""
    secrets = config.secrets()
    async with open_database(config) as db:
        rows = await deliveries.listing(db, statuses)
        lines = []
        for row, channel in rows:
            when = row.next_attempt_at.astimezone(config.tz).strftime("%Y-%m-%d %H:%M:%S")
            reason = redact(row.last_error or "", *secrets)
            target = f"{channel} <{row.recipient}>" if row.recipient else channel
            lines.append(
                f"{row.id}\t{row.kind}\t{target}\t{row.status}\tattempts={row.attempts}"
                f"\tnext={when}\t{reason}".rstrip()
            )
        return lines


async def retry(config: Config, delivery_id: int | None) -> int:
    """Make dead (or failed) rows due now with a fresh attempt budget; returns how many."""
    async with open_database(config) as db:
        try:
            return await deliveries.retry(db, delivery_id)
        except (deliveries.NoSuchDelivery, deliveries.NotRetryable) as exc:
            raise UserError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    if args.action == "retry":
        count = run_async(retry(config, None if args.all_dead else args.id), tz=config.tz)
        print(f"{count} deliveries due again")
        return 0
    statuses = tuple(args.status) if args.status else DEFAULT
    lines = run_async(listing(config, statuses), tz=config.tz)
    print("id\tkind\tchannel\tstatus\tattempts\tnext attempt\treason")
    for line in lines:
        print(line)
    if not lines:
        print(f"(no deliveries {'/'.join(statuses)})")
    return 0
