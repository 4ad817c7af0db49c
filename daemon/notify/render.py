"""Alert text: topic, linked title, sources, place, local date, snippet with hits marked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rules import combined_text, normalize

SNIPPET_RADIUS = 60


@dataclass(slots=True)
class Alert:
    topic: str
    title: str
    url: str
    source: str
    also: list[str]
    place: str
    published: datetime | None
    text: str
    hits: list[list[object]]


def local_time(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "日期不详"


def snippet(alert: Alert, mark: tuple[str, str] = ("【", "】")) -> str:
    """Text around the first hit with every hit inside it marked.

    Hit spans index into ``normalize(title) + "\\n" + normalize(text)``; the snippet
    is cut from that same string so the spans line up.
    """
    title = normalize(alert.title)
    combined = combined_text(alert.title, alert.text)
    spans = sorted((int(h[0]), int(h[1])) for h in alert.hits if len(h) >= 2)  # type: ignore[call-overload]
    text_spans = [s for s in spans if s[0] > len(title)] or spans
    if not text_spans:
        return combined[: SNIPPET_RADIUS * 2]
    first = text_spans[0][0]
    lo = max(first - SNIPPET_RADIUS, len(title) + 1 if first > len(title) else 0)
    hi = min(len(combined), first + SNIPPET_RADIUS)
    out, pos = [], lo
    for start, end in text_spans:
        if start < pos or end > hi:
            continue
        out += [combined[pos:start], mark[0], combined[start:end], mark[1]]
        pos = end
    out.append(combined[pos:hi])
    prefix = "…" if lo > len(title) + 1 else ""
    suffix = "…" if hi < len(combined) else ""
    return prefix + "".join(out).replace("\n", " ") + suffix


def render_text(alert: Alert, tz: ZoneInfo) -> tuple[str, str]:
    """(title, body) in plain text."""
    sources = alert.source + (f"（另见：{'、'.join(alert.also)}）" if alert.also else "")
    place = f" · {alert.place}" if alert.place else ""
    body = (
        f"{alert.title or '(无标题)'}\n"
        f"来源：{sources}{place} · {local_time(alert.published, tz)}\n"
        f"{snippet(alert)}\n"
        f"{alert.url}"
    )
    return f"[听风] {alert.topic}", body
