"""``tingfeng check-config``: validate without touching the network or the database."""

from __future__ import annotations

import argparse
from typing import Any

from daemon.commands._shared import config_from, entry_notes


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("check-config", parents=[common])
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = config_from(args, warn=True)
    print(
        f"{config.path}: OK, {len(config.sources)} sources, {len(config.topics)} topics, "
        f"{len(config.channels)} channels"
    )
    for note in entry_notes(config):
        print(f"note: {note}")
    return 0
