"""``tingfeng outbox``: what is owed to whom, for which topic and article, failing or dead
and why; ``outbox retry`` resends."""

from __future__ import annotations

import argparse
from typing import Any

from daemon.commands._shared import config_from, count, run_async
from daemon.commands._table import print_table, terminal
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


HEADERS = (
    "id",
    "kind",
    "topic",
    "article",
    "channel",
    "status",
    "attempts",
    "next attempt",
    "reason",
)


async def listing(config: Config, statuses: tuple[str, ...]) -> list[list[str]]:
    """One row per delivery: id, kind, topic, article title, channel, state, attempts,
    next attempt (local time), reason (secrets removed)."""
    secrets = config.secrets()
    async with open_database(config) as db:
        rows = await deliveries.listing(db, statuses)
    table = []
    for row in rows:
        item = row.delivery
        when = item.next_attempt_at.astimezone(config.tz).strftime("%Y-%m-%d %H:%M:%S")
        target = f"{row.channel} <{item.recipient}>" if item.recipient else row.channel
        table.append(
            [
                str(item.id),
                item.kind,
                row.topic or "-",
                _short(row.title or "-"),
                target,
                item.status,
                str(item.attempts),
                when,
                redact(item.last_error or "", *secrets),
            ]
        )
    return table


def _short(title: str, limit: int = 24) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


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
        due = run_async(retry(config, None if args.all_dead else args.id), tz=config.tz)
        print(f"{count(due, 'delivery', 'deliveries')} due again")
        return 0
    statuses = tuple(args.status) if args.status else DEFAULT
    rows = run_async(listing(config, statuses), tz=config.tz)
    if not rows:
        print(f"(no deliveries {'/'.join(statuses)})")
    elif console := terminal():
        print_table(console, HEADERS, rows, right=("id", "attempts"))
    else:
        print("\t".join(HEADERS))
        for row in rows:
            # attempts= and next= keep the plain lines readable without the header
            row[6], row[7] = f"attempts={row[6]}", f"next={row[7]}"
            print("\t".join(row).rstrip())
    return 0
