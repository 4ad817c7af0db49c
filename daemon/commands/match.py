"""``tingfeng match``: batch-match JSONL articles against a rules file (backtesting)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from daemon.errors import UserError
from rules import Document, TopicMatch, normalize
from rules.topics_file import TopicsFileError, load_matcher


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "match",
        parents=[common],
        help="match JSONL articles against topic rules",
        description="Print one JSON line per (article, topic) match, with hit spans into "
        'normalize(title) + "\\n" + normalize(text).',
    )
    p.add_argument("--rules", required=True, metavar="PATH", help="TOML file with [[topics]]")
    p.add_argument("--input", required=True, metavar="PATH", help="JSONL articles, or - for stdin")
    p.add_argument("--format", choices=["jsonl"], default="jsonl")
    p.set_defaults(handler=run)


def _documents(stream: TextIO, name: str) -> Iterator[tuple[Any, Document]]:
    """Parse input lines lazily; a bad line stops with its line number."""
    for lineno, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{name}:{lineno}: not valid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise UserError(f"{name}:{lineno}: expected a JSON object")
        if obj.get("id") in (None, ""):
            raise UserError(f'{name}:{lineno}: missing "id"')
        fields = {k: obj.get(k) or "" for k in ("title", "text", "source", "place")}
        bad = [k for k, v in fields.items() if not isinstance(v, str)]
        if bad:
            raise UserError(f'{name}:{lineno}: "{bad[0]}" must be a string')
        yield obj["id"], Document(str(obj["id"]), **fields)


def match_line(doc_id: Any, doc: Document, match: TopicMatch) -> str:
    """The JSON line for one match: hit spans in the combined title+text string."""
    title_len = len(normalize(doc.title))
    hits = [[*h.combined_span(title_len), h.term] for h in match.hits]
    fields = list(dict.fromkeys(h.field for h in match.hits))
    out = {
        "id": doc_id,
        "topic": match.topic,
        "hits": hits,
        "terms": list(match.terms),
        "fields": fields,
    }
    return json.dumps(out, ensure_ascii=False)


def run(args: argparse.Namespace) -> int:
    try:
        matcher = load_matcher(args.rules)
    except TopicsFileError as exc:
        raise UserError(str(exc)) from None
    try:
        stream: TextIO = (
            sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")  # noqa: SIM115
        )
    except OSError as exc:
        raise UserError(f"{args.input}: cannot read: {exc.strerror or exc}") from None
    with stream:
        try:
            for doc_id, doc in _documents(stream, args.input):
                for found in matcher.match(doc):
                    print(match_line(doc_id, doc, found))
        except UnicodeDecodeError as exc:
            raise UserError(f"{args.input}: not UTF-8 text ({exc.reason})") from None
    return 0
