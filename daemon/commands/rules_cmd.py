"""``tingfeng rules``: try a query on a text, or import TrendRadar keyword files."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from daemon.errors import UserError
from rules import Document, QuerySyntaxError, RuleError, TopicRule, compile_rules, normalize_mapped
from rules.trendradar import convert


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("rules", parents=[common])
    rsub = p.add_subparsers(dest="rules_command", required=True, metavar="ACTION")

    t = rsub.add_parser("test", help="does QUERY match a text? shows the hits marked 【…】")
    t.add_argument("query")
    src = t.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="the article text")
    src.add_argument("--file", metavar="PATH", help="read the article text from a file")
    t.add_argument("--title", default="", help="optional headline")
    t.add_argument("--mode", choices=["word", "substring"], default="word")
    t.set_defaults(handler=run_test)

    i = rsub.add_parser("import-trendradar", help="convert frequency_words.txt to [[topics]]")
    i.add_argument("path", metavar="FILE")
    i.set_defaults(handler=run_import)


def _mark(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each (merged) span wrapped in 【】."""
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, pos = [], 0
    for s, e in merged:
        out += [text[pos:s], "【", text[s:e], "】"]
        pos = e
    return "".join([*out, text[pos:]])


def run_test(args: argparse.Namespace) -> int:
    """Exit 0 when the query matches, 1 when it does not (grep-like, for scripts)."""
    if args.file is not None:
        try:
            with open(args.file, encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{args.file}: cannot read: {exc}") from None
    else:
        text = args.text
    try:
        matcher = compile_rules([TopicRule("query", args.query, mode=args.mode)])
    except RuleError as exc:
        syntax = exc.syntax
        raise UserError(
            syntax.render("query") if isinstance(syntax, QuerySyntaxError) else str(exc)
        ) from None
    found = matcher.match(Document("test", args.title, text))
    if not found:
        print("no match")
        return 1
    [m] = found
    print(f"match: {', '.join(m.terms)}")
    for field, value in (("title", args.title), ("text", text)):
        mapped = normalize_mapped(value)  # mark the words as given, not their normal form
        spans = [mapped.original_span(h.start, h.end) for h in m.hits if h.field == field]
        if spans:
            print(f"{field}: {_mark(value, spans)}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    try:
        with open(args.path, encoding="utf-8-sig") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{args.path}: cannot read: {exc}") from None
    toml, notes = convert(text, args.path)
    sys.stdout.write(toml)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return 0
