"""``tingfeng run``: the daemon, until SIGINT/SIGTERM; with ``[web] listen``, the console
too, from the same process and event loop."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from daemon.commands._shared import config_from, run_async
from daemon.config import Config
from daemon.runtime import open_pipeline
from daemon.service import Daemon

if TYPE_CHECKING:
    from daemon.web.app import Console


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("run", parents=[common])
    parser.add_argument("--json-logs", action="store_true", help="log as JSON lines on stderr")
    parser.set_defaults(handler=run)


def console_of(daemon: Daemon) -> Console:
    """The console for this daemon's process: a page that changed topics, channels or
    subscriptions reloads the daemon at once, and the pages show the config the daemon
    runs on (after a page's change, an edited config.toml or SIGHUP alike)."""
    from daemon.web.app import Console

    console = Console(config=daemon.config, db=daemon.pipeline.db, changed=daemon.reload)

    def follow(new: Config) -> None:
        console.config = new

    daemon.on_reload = follow
    return console


async def serve(config: Config) -> None:
    async with open_pipeline(config) as pipeline:
        daemon = Daemon(pipeline.config, pipeline)
        if config.web.listen is None:
            await daemon.run()
            return
        from daemon.web.serving import start_console

        console = console_of(daemon)
        runner, _ = await start_console(console, config.web.listen, origin="[web] listen")

        async def close_on_stop() -> None:
            # SIGTERM: the console stops taking requests while the daemon's runs finish.
            await daemon.stopping.wait()
            await runner.cleanup()

        closing = asyncio.create_task(close_on_stop())
        try:
            await daemon.run()
        finally:
            daemon.stopping.set()
            await closing


def run(args: argparse.Namespace) -> int:
    config = config_from(args, warn=True)
    run_async(serve(config), tz=config.tz, json_logs=args.json_logs, quiet=False)
    return 0
