"""``tingfeng digest``: build every digest channel's digest now and send it (or preview it)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from daemon.commands._shared import config_from, count, run_async
from daemon.commands.once import delivery_lines
from daemon.config import Config
from daemon.errors import UserError
from daemon.notify.digest import Preview, build_digest, preview_digest
from daemon.notify.outbox import DeliveryReport
from daemon.notify.settings import ChannelConfig
from daemon.runtime import open_pipeline


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("digest", parents=[common])
    parser.add_argument("--channel", metavar="NAME", help="only this digest channel")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the digest instead of sending it"
    )
    parser.add_argument(
        "--out", metavar="PATH", help="with --dry-run: write the body here (one file per channel)"
    )
    parser.set_defaults(handler=run)


def chosen(config: Config, name: str | None) -> list[ChannelConfig]:
    digests = [c for c in config.channels if c.mode == "digest"]
    if name is None:
        return digests
    found = [c for c in digests if c.name == name]
    if not found:
        known = ", ".join(c.name for c in digests) or "none configured"
        raise UserError(f'no digest channel "{name}" (digest channels: {known})')
    return found


async def send_now(config: Config, name: str | None) -> tuple[int, DeliveryReport]:
    """Digest channels are chosen from the effective config: console users' too."""
    async with open_pipeline(config) as pipeline:
        channels = chosen(pipeline.config, name)
        built = [await build_digest(pipeline.db, c) for c in channels]
        return sum(bool(b) for b in built), await pipeline.deliver()


async def previews(config: Config, name: str | None) -> list[Preview]:
    async with open_pipeline(config) as pipeline:
        channels = chosen(pipeline.config, name)
        return [await preview_digest(pipeline.db, pipeline.config, c) for c in channels]


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    if not args.dry_run:
        built, report = run_async(send_now(config, args.channel), tz=config.tz)
        print(f"digests built: {built}")
        for line in delivery_lines(report):
            print(line)
        return 0
    found = run_async(previews(config, args.channel), tz=config.tz)
    for preview in found:
        if args.out:
            out = Path(args.out)
            if len(found) > 1:
                suffix = "html" if preview.format == "html" else "txt"
                out = out / f"{preview.channel}.{suffix}"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(preview.body, encoding="utf-8")
            print(f"{preview.channel}: {preview.subject} ({count(preview.items, 'item')}) → {out}")
        else:
            print(f"== {preview.channel}: {preview.subject} ({count(preview.items, 'item')})\n")
            print(preview.body)
    return 0
