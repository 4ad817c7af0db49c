"""``tingfeng users``: console accounts, managed from the server's shell.

The first administrator can only be made here (the console has no sign-up page), and a
forgotten password or a person who left is handled here too. Passwords are read with
``getpass`` on a terminal, twice, so they never reach the shell history or ``ps``; a
script pipes the password on stdin instead.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from daemon.commands._shared import config_from, run_async
from daemon.commands._table import pad, print_table, terminal
from daemon.config import Config
from daemon.errors import UserError
from daemon.runtime import open_database
from storage import accounts

MAX_NAME = 64


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("users", parents=[common])
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name: str, help: str, *, named: bool = True) -> argparse.ArgumentParser:
        own = actions.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")
        # SUPPRESS keeps a --config given before the action from being reset to the default.
        own.add_argument("--config", default=argparse.SUPPRESS, metavar="PATH", help="config file")
        if named:
            own.add_argument("name", metavar="NAME", help="the user's login name")
        return own

    add = action("add", "add a console user (password prompted, or read from stdin)")
    add.add_argument("--admin", action="store_true", help="an administrator, not staff")
    action("passwd", "set a new password (ends the user's sessions)")
    action("disable", "stop a user from logging in (ends the user's sessions)")
    action("enable", "let a disabled user log in again")
    action("list", "list users: role, state, when added", named=False)
    parser.set_defaults(handler=run)


def check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise UserError("user name is empty")
    if len(name) > MAX_NAME:
        raise UserError(f"user name is too long ({len(name)} characters, at most {MAX_NAME})")
    if not name.isprintable():
        raise UserError("user name contains control characters")
    return name


def read_password(name: str) -> str:
    """Twice on a terminal (a typo would lock the user out); one line from a pipe."""
    if sys.stdin.isatty():
        first = getpass.getpass(f"password for {name}: ")
        if first and getpass.getpass("again: ") != first:
            raise UserError("the two passwords differ; nothing changed")
    else:
        first = sys.stdin.readline().rstrip("\r\n")
    if not first:
        raise UserError("empty password; nothing changed")
    return first


async def change(config: Config, args: argparse.Namespace) -> str:
    """Carry out add/passwd/disable/enable; the line that says what happened.

    The name is checked before the password is asked for: nobody types a password
    twice to learn that the user already exists.
    """
    async with open_database(config) as db:
        found = await accounts.find_user(db, args.name)
        if args.action == "add" and found is not None:
            raise UserError(f'user "{args.name}" already exists')
        if args.action != "add" and found is None:
            raise UserError(f'no user "{args.name}" (see tingfeng users list)')
        if args.action in ("disable", "enable"):
            await accounts.set_disabled(db, args.name, args.action == "disable")
            if args.action == "disable":
                return f"disabled {args.name}; its sessions ended"
            return f"enabled {args.name}"
        from daemon.web.passwords import hash_password

        hashed = await asyncio.to_thread(hash_password, read_password(args.name))
        try:
            if args.action == "add":
                user = await accounts.add_user(db, args.name, hashed, admin=args.admin)
                return f"added {user.role} {args.name}"
            await accounts.set_password(db, args.name, hashed)
        except accounts.AccountError as exc:  # another shell got there first
            raise UserError(str(exc)) from None
        return f"password of {args.name} changed; its sessions ended"


HEADERS = ("name", "role", "state", "added")


async def listing(config: Config) -> list[list[str]]:
    async with open_database(config) as db:
        users = await accounts.list_users(db)
    return [
        [
            user.name,
            user.role,
            "disabled" if user.disabled else "active",
            user.created_at.astimezone(config.tz).strftime("%Y-%m-%d %H:%M"),
        ]
        for user in users
    ]


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    if args.action == "list":
        rows = run_async(listing(config), tz=config.tz)
        if not rows:
            print("no users yet: tingfeng users add NAME --admin", file=sys.stderr)
        elif console := terminal():
            print_table(console, HEADERS, rows)
        else:
            for name, role, state, added in [list(HEADERS), *rows]:
                print(f"{pad(name, 24)} {pad(role, 6)} {pad(state, 9)} {added}".rstrip())
        return 0
    args.name = check_name(args.name)
    print(run_async(change(config, args), tz=config.tz))
    return 0
