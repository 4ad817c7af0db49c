"""``tingfeng run``: the daemon, until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
from typing import Any

from daemon.commands._shared import config_from, run_async
from daemon.config import Config
from daemon.runtime import open_pipeline
from daemon.service import Daemon


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("run", parents=[common])
    parser.add_argument("--json-logs", action="store_true", help="log as JSON lines on stderr")
    parser.set_defaults(handler=run)


async def serve(config: Config) -> None:
    async with open_pipeline(config) as pipeline:
        await Daemon(pipeline.config, pipeline).run()


def run(args: argparse.Namespace) -> int:
    config = config_from(args, warn=True)
    run_async(serve(config), tz=config.tz, json_logs=args.json_logs, quiet=False)
    return 0
