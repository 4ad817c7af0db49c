"""Helpers the sub-commands share: loading config and running a coroutine."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from daemon.config import Config, load_config
from daemon.logs import configure_logging

T = TypeVar("T")


def config_from(args: argparse.Namespace) -> Config:
    return load_config(args.config)


def run_async(coro: Coroutine[Any, Any, T], *, json_logs: bool = False, quiet: bool = True) -> T:
    import logging

    configure_logging(json=json_logs, level=logging.WARNING if quiet else logging.INFO)
    return asyncio.run(coro)
