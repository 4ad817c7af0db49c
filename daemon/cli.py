"""The ``tingfeng`` command line: one sub-command per module in ``daemon.commands``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from daemon.commands import COMMANDS
from daemon.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        default="config.toml",
        metavar="PATH",
        help="config file (default ./config.toml)",
    )
    parser = argparse.ArgumentParser(
        prog="tingfeng", description="听风: watch regional news, match topics, alert once."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except UserError as exc:
        print(f"tingfeng: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
