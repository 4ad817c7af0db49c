"""The ``tingfeng`` command line: one sub-command per module in ``daemon.commands``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from daemon.commands import COMMANDS
from daemon.errors import UserError
from daemon.redaction import scrub


class _Version(argparse.Action):
    """``--version``, looked up only when asked: importlib.metadata slows every start-up."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        from importlib.metadata import version

        print(f"tingfeng {version('tingfeng')}")
        parser.exit()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser for ``command`` when it is known; else one listing every command.

    The listing comes from the table in ``daemon.commands`` without importing a single
    command module, so ``tingfeng --help`` (and a mistyped command) answer at once.
    """
    parser = argparse.ArgumentParser(
        prog="tingfeng",
        description="听风: watch regional news, match topics, alert once.",
        epilog="run 'tingfeng COMMAND --help' for a command's options and an example",
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    if command not in COMMANDS:
        for name, info in COMMANDS.items():
            sub.add_parser(name, help=info.summary, add_help=False)
        return parser
    info = COMMANDS[command]
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        default="config.toml",
        metavar="PATH",
        help="config file (default ./config.toml)",
    )
    importlib.import_module(info.module).register(sub, common)
    own = sub.choices[command]
    own.description = own.description or info.summary[0].upper() + info.summary[1:] + "."
    own.epilog = f"example:\n  {info.example}"
    own.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except UserError as exc:
        print(f"tingfeng: {scrub(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (``tingfeng export | head``): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if _identity_error(exc):
            print(f"tingfeng: {exc}", file=sys.stderr)
            return 3
        raise


def _identity_error(exc: Exception) -> bool:
    """A ``storage.identity.DatabaseIdentityError``, told apart without importing storage.

    Only a command that opened a database can raise one, and then the module is loaded;
    importing it up front would cost every command (``match``, ``segment``) SQLAlchemy.
    """
    identity = sys.modules.get("storage.identity")
    return identity is not None and isinstance(exc, identity.DatabaseIdentityError)


if __name__ == "__main__":
    sys.exit(main())
