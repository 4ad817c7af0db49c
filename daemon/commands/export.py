"""``tingfeng export``: stored articles as JSON lines, CSV or an Excel workbook.

Times are in the configured time zone. A CSV written to a file (``--out``, or stdout
redirected to one) starts with a byte-order mark because Excel on Chinese Windows reads
a CSV without one as GBK and shows mojibake; a pipe to a script stays plain UTF-8. The
workbook is for offices that live in Excel: a bold frozen header, sized columns and
links that open with a click.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import stat
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from daemon.commands._shared import config_from, parse_since, run_async
from daemon.config import Config
from daemon.errors import UserError
from daemon.runtime import open_database
from storage.listings import articles_with_topics

FIELDS = [
    "id",
    "source",
    "url",
    "title",
    "kicker",
    "text",
    "place",
    "page",
    "pdf",
    "published",
    "fetched",
    "cluster",
    "topics",
]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("export", parents=[common])
    parser.add_argument("--since", help="a date (2024-05-20) or an age (7d, 12h)")
    parser.add_argument(
        "--format",
        choices=["jsonl", "csv", "xlsx"],
        default="jsonl",
        help="jsonl (default), csv (UTF-8; in a file with a BOM for Excel, in a pipe without) "
        "or xlsx (needs --out)",
    )
    parser.add_argument("--out", metavar="PATH", help="write to PATH instead of stdout")
    parser.set_defaults(handler=run)


async def rows(config: Config, since: datetime | None) -> list[dict[str, Any]]:
    async with open_database(config) as db:
        articles = await articles_with_topics(db, since)
    tz = config.tz
    return [
        {
            "id": a.id,
            "source": source,
            "url": a.url,
            "title": a.title,
            "kicker": a.kicker,
            "text": a.text,
            "place": a.place,
            "page": a.page,
            "pdf": str(a.extra.get("pdf") or ""),
            "published": a.published_at.astimezone(tz).isoformat() if a.published_at else None,
            "fetched": a.fetched_at.astimezone(tz).isoformat(),
            "cluster": a.cluster_id,
            "topics": topics,
        }
        for a, source, topics in articles
    ]


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    if args.format == "xlsx" and not args.out:
        raise UserError("export --format xlsx: a workbook needs --out PATH (e.g. articles.xlsx)")
    records = run_async(rows(config, parse_since(args.since, config)), tz=config.tz)
    if args.format == "xlsx":
        write_workbook(records, Path(args.out))
        return 0
    if args.out:
        try:
            with open(args.out, "w", encoding="utf-8", newline="") as out:
                write_text(records, args.format, out, bom=True)
        except OSError as exc:
            raise UserError(f"{args.out}: cannot write: {exc.strerror or exc}") from None
    else:
        write_text(records, args.format, sys.stdout, bom=_is_file(sys.stdout))
    return 0


def _is_file(stream: TextIO) -> bool:
    """Whether ``stream`` is a regular file (``> articles.csv``), not a pipe or terminal."""
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, io.UnsupportedOperation):
        return False


def write_text(records: list[dict[str, Any]], form: str, out: TextIO, *, bom: bool) -> None:
    if form == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    if bom:
        out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    for record in records:
        writer.writerow(record | {"topics": ";".join(record["topics"])})


# Column widths in Excel's units (about one Latin character; a Chinese one takes two).
WIDTHS = {"title": 50, "text": 80, "url": 40, "pdf": 30, "kicker": 30, "page": 16, "topics": 24}
LINKS = ("url", "pdf")


def write_workbook(records: list[dict[str, Any]], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    sheet.title = "articles"
    sheet.append(FIELDS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    link_font = Font(color="0563C1", underline="single")
    for record in records:
        sheet.append([_cell(record[field], field) for field in FIELDS])
        for column, field in enumerate(FIELDS, start=1):
            if field in LINKS and record[field]:
                cell = sheet.cell(row=sheet.max_row, column=column)
                cell.hyperlink = record[field]
                cell.font = link_font
    for column, field in enumerate(FIELDS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = WIDTHS.get(field, 12)
    try:
        book.save(path)
    except OSError as exc:
        raise UserError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _cell(value: Any, field: str) -> Any:
    """A value Excel shows as the user expects: topics joined, long text within a cell's limit."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if field == "topics":
        return ";".join(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)[:32767]
    return value
