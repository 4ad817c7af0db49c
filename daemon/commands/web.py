"""``tingfeng web``: the console alone, against the configured database.

For a console on another machine than the daemon, or while the daemon is stopped.
Changes made here reach a daemon running elsewhere through the database (it polls the
audit log); this process only reloads what it shows.
"""

from __future__ import annotations

import argparse
from typing import Any

import structlog

from daemon.commands._shared import config_from, run_async
from daemon.config import DEFAULT_LISTEN, Config, load_config
from daemon.errors import UserError
from daemon.runtime import open_database

log = structlog.get_logger("tingfeng.console")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("web", parents=[common])
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="address to serve on (default: [web] listen, else 127.0.0.1:8750)",
    )
    parser.add_argument("--json-logs", action="store_true", help="log as JSON lines on stderr")
    parser.set_defaults(handler=run)


async def serve(config: Config, listen: str, origin: str) -> None:
    from daemon.console_config import effective_config
    from daemon.web.app import Console
    from daemon.web.serving import serve_until_stopped, start_console

    async with open_database(config) as db:
        console = Console(config=await effective_config(config, db), db=db)

        async def changed() -> None:
            try:
                console.config = await effective_config(load_config(config.path), db)
            except UserError as exc:
                log.error("config reload failed; keeping the running config", error=str(exc))

        console.changed = changed
        runner, _ = await start_console(console, listen, origin=origin)
        await serve_until_stopped(runner)


def run(args: argparse.Namespace) -> int:
    config = config_from(args, warn=True)
    listen, origin = (args.listen, "--listen") if args.listen else (None, "[web] listen")
    listen = listen or config.web.listen or DEFAULT_LISTEN
    run_async(serve(config, listen, origin), tz=config.tz, json_logs=args.json_logs, quiet=False)
    return 0
