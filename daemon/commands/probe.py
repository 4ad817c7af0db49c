"""``tingfeng probe URL [--config]``: what a URL is as a source, and a ready config block.

``--config`` prints a ``[[sources]]`` block; given a path (``--config PATH``) it also
takes that file's ``[fetch]`` settings, as every command reads ``--config PATH``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from daemon.commands._shared import run_async
from daemon.config import Config, load_config
from daemon.errors import UserError
from watchers.dates import SITE_TZ
from watchers.settings import FetchConfig

if TYPE_CHECKING:
    from watchers.probe import ProbeResult

BODY_START = 60


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("probe")
    parser.add_argument("url", metavar="URL")
    parser.add_argument(
        "--config",
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help="also print a ready [[sources]] block (PATH: take [fetch] settings from it)",
    )
    parser.add_argument("--articles", type=int, default=3, help="how many articles to show")
    parser.set_defaults(handler=run)


def _config(path: str | None) -> Config | None:
    """The config named by ``--config PATH``; none for a bare ``--config`` (default
    fetch settings: probing must work before a config exists)."""
    return load_config(path) if path else None


def run(args: argparse.Namespace) -> int:
    from watchers.fetch import FetchError
    from watchers.probe import probe_url

    config = _config(args.config)
    fetch = config.fetch if config else FetchConfig()
    try:
        found = run_async(probe_url(args.url, fetch, args.articles))
    except FetchError as exc:
        raise UserError(f"probe: {exc}") from None
    return report(found, block=args.config is not None, tz=config.tz if config else SITE_TZ)


def report(found: ProbeResult, *, block: bool, tz: ZoneInfo) -> int:
    """Print what was found; 0 when the URL works as a source (articles came out)."""
    print(f"URL: {found.url}")
    if found.final_url and found.final_url != found.url:
        print(f"lands on: {found.final_url}")
    if not found.kind:
        print("family: none matched; tried:")
        for tried in found.tried:
            print(f"  - {tried}")
        if found.hint:
            print(f"hint: {found.hint}")
        return 1
    print(f'family: {found.family} (kind = "{found.kind}")')
    print(f"entry URL: {found.entry}")
    if found.note:
        print(f"note: {found.note}")
    if found.pages:
        when = f" of {found.issue_date}" if found.issue_date else ""
        paper = f"{found.paper} " if found.paper else ""
        labels = ", ".join(p.label or p.url for p in found.pages[:8])
        more = f", … ({len(found.pages)} in all)" if len(found.pages) > 8 else ""
        print(f"pages: {paper}issue{when}: {len(found.pages)} page(s): {labels}{more}")
    if found.error:
        print(f"FAILED: {found.error}")
    print(f"first articles ({len(found.articles)}):")
    for n, article in enumerate(found.articles, 1):
        day = article.published.astimezone(tz).date().isoformat() if article.published else "-"
        body = article.text.replace("\n", " ")
        print(f"  {n}. {article.title}")
        print(f"     place: {article.place or '-'} | page: {article.page or '-'} | date: {day}")
        print(f"     {body[:BODY_START]}{'…' if len(body) > BODY_START else ''}")
    for reason in found.skipped[:5]:
        print(f"  skipped: {reason}")
    if block:
        from watchers.probe import config_block

        print()
        print(config_block(found))
    return 0 if found.articles and not found.error else 1
