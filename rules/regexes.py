"""User regular expressions, compiled with RE2 so matching is linear in the text.

Python's ``re`` backtracks: ``/(a+)+$/`` on a long line would stall the daemon.
RE2 guarantees linear time and rejects the few constructs that need backtracking
(back-references, look-around); those are reported as query errors instead.
"""

from __future__ import annotations

import functools
from typing import Any

import re2


class RegexError(ValueError):
    """The pattern is invalid or uses syntax the linear-time engine cannot run."""


_UNSUPPORTED_HINTS = ("invalid perl operator", "invalid escape sequence")


@functools.lru_cache(maxsize=4096)
def compile_regex(pattern: str) -> Any:
    """Compile ``pattern`` case-insensitively (text is case-folded) with RE2.

    Cached because the same topic set is recompiled whenever one topic changes.
    """
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = 8 << 20  # bounds the DFA cache; a huge pattern fails instead of swelling
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        if any(hint in text for hint in _UNSUPPORTED_HINTS):
            text += " (back-references and look-around are not supported: RE2 runs in linear time)"
        raise RegexError(f"bad regex: {text}") from None


def regex_spans(pattern: str, text: str, limit: int = 1000) -> list[tuple[int, int]]:
    """Non-empty, non-overlapping match spans of ``pattern`` in ``text`` (at most ``limit``)."""
    spans: list[tuple[int, int]] = []
    for m in compile_regex(pattern).finditer(text):
        if m.end() > m.start():
            spans.append((m.start(), m.end()))
            if len(spans) >= limit:
                break
    return spans
