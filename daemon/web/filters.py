"""Template filters: times in the configured zone, hits marked in the original text.

Templates autoescape; the one filter that returns markup escapes the text itself, so a
title like ``<script>`` is shown, never run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape


def install(env: jinja2.Environment, tz: ZoneInfo) -> None:
    def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(tz).strftime(fmt) if value else ""

    env.filters["localtime"] = localtime
    env.filters["mark_spans"] = mark_spans


def mark_spans(text: str, spans: Iterable[Sequence[int]]) -> Markup:
    """``text`` with each ``(start, end)`` span in ``<mark>``; overlapping spans merge."""
    merged: list[list[int]] = []
    for start, end in sorted((int(s[0]), int(s[1])) for s in spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[str] = []
    pos = 0
    for start, end in merged:
        out.append(str(escape(text[pos:start])))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))
