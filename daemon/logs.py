"""structlog setup: key=value lines for people at a terminal, JSON lines for machines.

Both show times in the configured ``[daemon] timezone`` as ISO 8601 with the offset
(``2026-12-03T00:12:27+08:00``): the database keeps UTC, people read local time, and a
machine reading JSON still gets an unambiguous instant. A datetime passed as a log value
is rendered the same way, at any depth (inside a dict or list too), never as Python's
``datetime.datetime(...)`` repr.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, MutableMapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import structlog

from daemon.redaction import scrub


def _each_leaf(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """``value`` with ``leaf`` applied inside dicts, lists, tuples and sets too: a log value
    may carry a datetime or a secret at any depth."""
    if isinstance(value, dict):
        return {k: _each_leaf(v, leaf) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_each_leaf(v, leaf) for v in value]
    return leaf(value)


def _scrub_event(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> dict[str, Any]:
    """Every string in a log event, secrets masked (whatever key or error carried them)."""
    return {
        k: _each_leaf(v, lambda x: scrub(x) if isinstance(x, str) else x) for k, v in event.items()
    }


class _ScrubFilter(logging.Filter):
    """The same for libraries logging through the standard library (APScheduler, Apprise)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage()), None
        if record.exc_info:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class _LocalTimes:
    """Stamps each event and renders every datetime value in one time zone."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz

    def __call__(self, _logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
        for key, value in event.items():
            if key != "exc_info":  # structlog's own, read by format_exc_info
                event[key] = _each_leaf(value, self.show)
        event["timestamp"] = self.show(datetime.now(UTC))
        return event

    def show(self, value: Any) -> Any:
        """A datetime as ISO 8601 in the zone, a date or duration in ISO 8601; else as is."""
        if isinstance(value, timedelta):
            return f"PT{value.total_seconds():g}S"
        if not isinstance(value, datetime):
            return value.isoformat() if isinstance(value, date) else value
        moment = value
        if moment.tzinfo is None:  # the database's naive values are UTC
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.tz).isoformat(timespec="seconds")


def configure_logging(*, json: bool = False, level: int = logging.INFO, tz: tzinfo = UTC) -> None:
    """Logging for one command run; ``tz`` is the config's ``[daemon] timezone``."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False, default=str)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            _LocalTimes(tz),
            structlog.processors.format_exc_info,
            _scrub_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    # Libraries that print tokens at DEBUG (Apprise) stay at WARNING whatever we log.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _ScrubFilter) for f in handler.filters):
            handler.addFilter(_ScrubFilter())
    logging.getLogger("apprise").setLevel(logging.WARNING)
