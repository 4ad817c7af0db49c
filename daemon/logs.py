"""structlog setup: key=value lines for people at a terminal, JSON lines for machines."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from daemon.redaction import scrub


def _scrub_event(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> dict[str, Any]:
    """Every string in a log event, secrets masked (whatever key or error carried them)."""
    return {k: scrub(v) if isinstance(v, str) else v for k, v in event.items()}


class _ScrubFilter(logging.Filter):
    """The same for libraries logging through the standard library (APScheduler, Apprise)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage()), None
        if record.exc_info:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def configure_logging(*, json: bool = False, level: int = logging.INFO) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
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
