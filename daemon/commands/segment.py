"""``tingfeng segment PATH|- [--format json|text]``: page text or a page PDF -> articles.

Lets staff (and the scoring tools) see exactly how a page is cut before it is watched.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from daemon.errors import UserError
from watchers.segment import MAX_BYTES, PageItem, SegmentError, segment_bytes


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the ``segment`` sub-command."""
    parser = sub.add_parser(
        "segment",
        parents=[common],
        description="Split newspaper page text (or a page PDF) into articles and photo items.",
    )
    parser.add_argument("path", metavar="PATH", help="page text or PDF file, or - for stdin")
    parser.add_argument("--format", choices=("json", "text"), default="json", help="output format")
    parser.add_argument(
        "--encoding",
        metavar="NAME",
        help="the text's encoding when it is not UTF-8 or GB18030 (e.g. big5)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Segment the page and print the items; bad input is a one-line ``UserError``."""
    name = "<stdin>" if args.path == "-" else args.path
    try:
        data = _read(args.path, name)
        items = segment_bytes(data, name=name, encoding=args.encoding)
    except SegmentError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"{name}: {exc.strerror or exc}") from None
    if args.format == "json":
        print(json.dumps([item.to_dict() for item in items], ensure_ascii=False, indent=1))
    else:
        print(_as_text(items))
    return 0


def _read(path: str, name: str) -> bytes:
    """Read at most one byte past the limit, so an enormous input fails fast and cheaply."""
    if path == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
    else:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise SegmentError(f"{name}: too large (over {MAX_BYTES // 1_000_000} MB)")
    return data


def _as_text(items: list[PageItem]) -> str:
    """A readable listing: one header line per item, then its text."""
    if not items:
        return "(no articles found)"
    out: list[str] = []
    for n, item in enumerate(items, 1):
        head = " / ".join(part for part in (item.kicker, item.title) if part)
        label = f"[{n}] {item.kind}" + (f" · {item.place}" if item.place else "")
        out.append(f"{label}: {head}" if head else label)
        if item.continued_from:
            out.append(f"  (continued from page {item.continued_from})")
        out.extend(f"  {line}" for line in item.text.splitlines())
        if item.continued_to:
            out.append(f"  (continued on page {item.continued_to})")
        out.append("")
    return "\n".join(out).rstrip()
