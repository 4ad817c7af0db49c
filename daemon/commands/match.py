"""``tingfeng match``: batch-match articles against topic rules (backtesting).

Articles come from a JSONL file (``--input``) or from the configured database
(``--stored``), so a new or changed topic can be tried on what was already
collected before it goes live. With ``--rules`` and ``--input`` the command loads
only the matcher (no database, config or notification code) and a compiled-matcher
cache: a backtest over a large file is spent matching, not starting up.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import orjson

from daemon.backtest import StoredDoc, Summary, backtest, original_quotes
from daemon.errors import UserError
from rules import Document, Matcher, RuleError, TopicMatch, normalize
from rules.cache import compile_cached, load_topics_cached
from rules.topics_file import TopicsFileError

if TYPE_CHECKING:
    from datetime import datetime

    from daemon.backfill import BackfillReport
    from daemon.config import Config
    from daemon.notify.outbox import DeliveryReport


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a backtest reports to: the number of articles first, then the running count."""

    total: Callable[[int], None]
    scanned: Callable[[int], None]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "match",
        parents=[common],
        description="Match JSONL articles (--input) or stored articles (--stored) against "
        "topic rules. jsonl prints one line per (article, topic) match, with hit spans into "
        'normalize(title) + "\\n" + normalize(text); summary prints per topic how many '
        "articles and clusters it matched, with example titles.",
    )
    p.add_argument(
        "--rules", metavar="PATH", help="TOML file with [[topics]] (default: the config's topics)"
    )
    p.add_argument("--input", metavar="PATH", help="JSONL articles, or - for stdin")
    p.add_argument("--stored", action="store_true", help="the articles in the configured database")
    p.add_argument(
        "--since", help="with --stored: fetched since a date (2024-05-20) or an age (30d, 12h)"
    )
    p.add_argument(
        "--format",
        choices=["jsonl", "summary"],
        help="default: summary with --stored, jsonl with --input",
    )
    p.add_argument(
        "--quotes",
        action="store_true",
        help="jsonl: add each hit as the article printed it, "
        '"quotes": [[field, start, end, text]] with offsets into the original title or text',
    )
    p.add_argument(
        "--send",
        action="store_true",
        help="with --stored: also owe what the config's topics match and deliver it, once "
        "per story, topic and channel (a backfill on demand)",
    )
    p.set_defaults(handler=run)


def _documents(stream: TextIO, name: str) -> Iterator[tuple[Any, Document]]:
    """Parse input lines lazily; a bad line stops with its line number."""
    for lineno, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            obj = _loads(line)
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


def _loads(line: str) -> Any:
    """orjson, or the standard parser for what orjson refuses (its message, big integers)."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def match_lines(
    doc_id: Any,
    doc: Document,
    found: list[TopicMatch],
    extra: dict[str, Any] | None = None,
    quotes: bool = False,
) -> Iterator[bytes]:
    """The JSON line for each match: hit spans in the combined title+text string.

    ``extra`` adds fields after the standard ones (stored articles add title and source).
    Text hits shift by the normalised title's length plus the joining newline, as
    :meth:`rules.Hit.combined_span` says. ``quotes`` adds the hits as printed.
    """
    title_len = len(normalize(doc.title))
    shift = title_len + 1 if title_len else 0
    for match in found:
        out = {
            "id": doc_id,
            "topic": match.topic,
            "hits": [
                [h.start, h.end, h.term]
                if h.field == "title"
                else [h.start + shift, h.end + shift, h.term]
                for h in match.hits
            ],
            "terms": list(match.terms),
            "fields": list(dict.fromkeys(h.field for h in match.hits)),
            **({"quotes": original_quotes(doc, match.hits)} if quotes else {}),
            **(extra or {}),
        }
        try:
            yield orjson.dumps(out, option=orjson.OPT_APPEND_NEWLINE)
        except orjson.JSONEncodeError:  # e.g. an integer id beyond 64 bits
            yield (json.dumps(out, ensure_ascii=False) + "\n").encode()


def _output() -> Callable[[bytes], Any]:
    """Where JSON lines go: stdout's byte stream, so orjson's UTF-8 is not re-encoded."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        return lambda data: sys.stdout.write(data.decode())
    return buffer.write


def summary_lines(summary: Summary) -> Iterator[str]:
    yield f"{_plural(summary.scanned, 'article')} scanned"
    for name, tally in summary.tallies.items():
        if not tally.articles:
            yield f"{name}: no matches"
            continue
        articles = _plural(tally.articles, "article")
        yield f"{name}: {articles}, {_plural(len(tally.clusters), 'cluster')}"
        yield from (f"  · {title}" for title in tally.examples)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _matcher(args: argparse.Namespace, config: Config | None) -> Matcher:
    """The rules file's topics, or the config's own when ``--rules`` is not given."""
    if args.rules is not None:
        try:
            rules = load_topics_cached(args.rules)
        except TopicsFileError as exc:
            raise UserError(str(exc)) from None
        where = args.rules
    else:
        from daemon.pipeline import topic_rules

        assert config is not None
        if not config.topics:
            raise UserError(f"{args.config}: no [[topics]] to match (or give --rules FILE)")
        rules, where = topic_rules(config), args.config
    try:
        return compile_cached(rules, defer_dictionary=True)
    except RuleError as exc:
        raise UserError(f"{where}: {exc}") from None


def _check_database(config: Config) -> None:
    """Refuse to backtest a SQLite file that does not exist (opening it would create it)."""
    url = config.storage_url()
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path != ":memory:" and not Path(path).exists():
            raise UserError(f"{path}: no database yet (run `tingfeng once` first)")


async def _backtest(
    matcher: Matcher,
    config: Config,
    since: datetime | None,
    summary: Summary | None,
    quotes: bool = False,
    progress: Progress | None = None,
) -> int:
    """Match stored articles; print JSON lines as they come or fill ``summary``.

    ``progress`` hears the total first and the running count after each chunk.
    """
    from daemon.runtime import open_database

    write = _output()

    def each(stored: StoredDoc, matches: list[TopicMatch]) -> None:
        if summary is not None:
            summary.add(stored.doc, stored.cluster, matches, stored.day)
            return
        extra = {"title": stored.doc.title, "source": stored.doc.source}
        for data in match_lines(stored.id, stored.doc, matches, extra, quotes):
            write(data)

    async with open_database(config) as db:
        if progress is None:
            return await backtest(db, matcher, since, config.tz, each)
        return await backtest(
            db, matcher, since, config.tz, each, progress.scanned, on_total=progress.total
        )


def _scan(
    matcher: Matcher, config: Config, since: datetime | None, summary: Summary | None, quotes: bool
) -> int:
    """The backtest; with a summary on a terminal, under a live count of articles scanned
    (JSON lines go to stdout as they come, so they get no display over them)."""
    from daemon.commands._shared import run_async
    from daemon.commands._table import terminal

    console = terminal() if summary is not None else None
    if console is None:
        return run_async(_backtest(matcher, config, since, summary, quotes), tz=config.tz)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as Display

    with Display(
        SpinnerColumn(),
        TextColumn("matching stored articles"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as display:
        task = display.add_task("matching", total=None)
        progress = Progress(
            total=lambda n: display.update(task, total=n),
            scanned=lambda n: display.update(task, completed=n),
        )
        return run_async(_backtest(matcher, config, since, summary, quotes, progress), tz=config.tz)


def _run_stored(args: argparse.Namespace, config: Config, matcher: Matcher) -> int:
    """``--stored``: the summary (default) or JSON lines for the configured database."""
    from daemon.commands._shared import parse_since, run_async

    since = parse_since(args.since, config)
    summary = Summary(r.name for r in matcher.rules) if args.format != "jsonl" else None
    if not _scan(matcher, config, since, summary, args.quotes):
        when = f" since {args.since}" if args.since else ""
        # not the URL: a PostgreSQL one can carry a password
        raise UserError(f"match: the database holds no articles{when}")
    if summary is not None:
        for line in summary_lines(summary):
            print(line)
    if args.send:
        from daemon.commands._shared import count
        from daemon.commands.once import delivery_lines

        report, delivered = run_async(_send(config, since), tz=config.tz)
        print(
            f"backfill: {count(report.matched, 'new match', 'new matches')} in "
            f"{count(report.articles, 'article')}, {count(report.owed, 'alert')} owed"
        )
        for line in delivery_lines(delivered):
            print(line)
    return 0


async def _send(config: Config, since: datetime | None) -> tuple[BackfillReport, DeliveryReport]:
    """Owe the config's topics' matches among stored articles, then deliver what is due."""
    from daemon.backfill import backfill
    from daemon.runtime import open_pipeline

    async with open_pipeline(config) as pipeline:
        effective = pipeline.config
        report = await backfill(pipeline.db, effective, effective.topics, since)
        return report, await pipeline.deliver()


def run(args: argparse.Namespace) -> int:
    """Check the argument combination first, so a usage mistake costs no jieba load."""
    if args.stored and args.input is not None:
        raise UserError("match: use either --input FILE or --stored, not both")
    if not args.stored and args.input is None:
        raise UserError("match: give --input FILE (JSONL, - for stdin) or --stored")
    if args.since is not None and not args.stored:
        raise UserError("match: --since only applies to --stored")
    if args.send and (not args.stored or args.rules is not None):
        raise UserError("match: --send needs --stored and the config's topics (no --rules)")
    config = None
    if args.stored or args.rules is None:
        from daemon.commands._shared import config_from

        config = config_from(args)
    if config is not None and args.stored:
        _check_database(config)
        if args.rules is None:
            from daemon.commands._shared import run_async
            from daemon.runtime import console_config

            # the console's topics too, so a topic made in the console can be backtested
            config = run_async(console_config(config), tz=config.tz)
    matcher = _matcher(args, config)
    if config is not None and args.stored:
        return _run_stored(args, config, matcher)
    summary = Summary(r.name for r in matcher.rules) if args.format == "summary" else None
    try:
        stream: TextIO = (
            sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")  # noqa: SIM115
        )
    except OSError as exc:
        raise UserError(f"{args.input}: cannot read: {exc.strerror or exc}") from None
    write = _output()
    with stream:
        try:
            for doc_id, doc in _documents(stream, args.input):
                found = matcher.match(doc)
                if summary is not None:
                    summary.add(doc, None, found)
                    continue
                for data in match_lines(doc_id, doc, found, quotes=args.quotes):
                    write(data)
        except UnicodeDecodeError as exc:
            raise UserError(f"{args.input}: not UTF-8 text ({exc.reason})") from None
    if summary is not None:
        for line in summary_lines(summary):
            print(line)
    return 0
