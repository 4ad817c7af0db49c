"""Message text from Jinja2 templates: alerts and digests, per format (text, Markdown, HTML).

The built-in templates live in ``templates/``; a user folder (``[daemon] templates``)
overrides any of them by file name. Templates use StrictUndefined, so a typo in an
override is a clear :class:`RenderError` (the delivery stays owed), never a message
with silent blanks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape

from rules import combined_text, normalize
from storage.deliveries import Alert

Format = Literal["text", "markdown", "html"]
BUILTIN = Path(__file__).parent / "templates"
SNIPPET_RADIUS = 60
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|~"})


class RenderError(Exception):
    """A template failed; the message names the template and line, never a secret."""


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of snippet text; ``hit`` pieces are what the topic matched."""

    text: str
    hit: bool = False


@dataclass(slots=True)
class SourceGroup:
    name: str
    alerts: list[Alert] = field(default_factory=list)


@dataclass(slots=True)
class TopicGroup:
    name: str
    sources: list[SourceGroup] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(s.alerts) for s in self.sources)


def local_time(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "日期不详"


MAX_HIT_CHARS = 200


def snippet_segments(alert: Alert, radius: int = SNIPPET_RADIUS) -> list[Segment]:
    """Text around the first hit (in the body when there is one), hits as their own segments.

    Hit spans index into ``normalize(title) + "\\n" + normalize(text)``; the snippet
    is cut from that same string so the spans line up.
    """
    title = normalize(alert.title)
    combined = combined_text(alert.title, alert.text)
    body_start = len(title) + 1 if title else 0
    spans = sorted(
        (int(h[0]), int(h[1]))  # type: ignore[call-overload]
        for h in alert.hits
        if len(h) >= 2
    )
    text_spans = [s for s in spans if s[0] >= body_start and body_start] or spans
    if not text_spans:
        cut = combined[body_start : body_start + radius * 2]
        return [Segment(cut + ("…" if len(combined) > body_start + radius * 2 else ""))]
    first = text_spans[0][0]
    floor = body_start if first >= body_start else 0
    lo = max(first - radius, floor)
    # A hit is shown up to MAX_HIT_CHARS: a regex can match millions of characters.
    hi = min(len(combined), max(first + radius, min(text_spans[0][1], first + MAX_HIT_CHARS)))
    out: list[Segment] = [Segment("…")] if lo > floor else []
    pos = lo
    for start, span_end in text_spans:
        end = min(span_end, hi) if start == first else span_end
        if start < pos or end > hi:
            continue
        out += [Segment(combined[pos:start]), Segment(combined[start:end], hit=True)]
        pos = end
    out.append(Segment(combined[pos:hi]))
    if hi < len(combined):
        out.append(Segment("…"))
    return [Segment(s.text.replace("\n", " "), s.hit) for s in out if s.text]


def snippet(alert: Alert, radius: int = SNIPPET_RADIUS) -> str:
    """The snippet as plain text, hits in 【】."""
    return highlight(snippet_segments(alert, radius), "text")


def md(value: object) -> str:
    """Escape Markdown control characters so titles cannot break links or emphasis."""
    return str(value).translate(_MD_SPECIAL)


def highlight(segments: list[Segment], fmt: Format) -> str:
    """Snippet segments with hits marked the way ``fmt`` shows emphasis.

    HTML keeps the 【】 around ``<mark>`` so the plain-text alternative that mail
    clients derive from it still shows the hits.
    """
    if fmt == "html":
        return Markup("").join(
            Markup("【<mark>{}</mark>】").format(s.text) if s.hit else escape(s.text)
            for s in segments
        )
    if fmt == "markdown":
        return "".join(f"**{md(s.text)}**" if s.hit else md(s.text) for s in segments)
    return "".join(f"【{s.text}】" if s.hit else s.text for s in segments)


def group(alerts: list[Alert]) -> list[TopicGroup]:
    """Alerts grouped by topic, then by source, both in first-seen order."""
    by_topic: dict[str, dict[str, list[Alert]]] = defaultdict(lambda: defaultdict(list))
    for alert in alerts:
        by_topic[alert.topic][alert.source].append(alert)
    return [
        TopicGroup(topic, [SourceGroup(name, items) for name, items in sources.items()])
        for topic, sources in by_topic.items()
    ]


def digest_subject(day: date, groups: list[TopicGroup]) -> str:
    total = sum(g.count for g in groups)
    return f"[听风] {day.month}月{day.day}日 {len(groups)}个主题 {total}条"


class Renderer:
    """Renders alerts and digests through the built-in or the user's templates."""

    def __init__(self, tz: ZoneInfo, user_dir: Path | None = None) -> None:
        self.tz = tz
        folders = [str(user_dir)] if user_dir else []
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([*folders, str(BUILTIN)]),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["md"] = md
        self.env.filters["highlight"] = highlight
        self.env.filters["local"] = lambda value: local_time(value, tz)

    def _render(self, name: str, **context: object) -> str:
        try:
            return self.env.get_template(name).render(**context).strip()
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(
                f"template {exc.name or name} line {exc.lineno}: {exc.message}"
            ) from None
        except jinja2.TemplateError as exc:
            raise RenderError(f"template {name}: {exc}") from None

    def alert(self, alert: Alert, fmt: Format, radius: int = SNIPPET_RADIUS) -> tuple[str, str]:
        """(title, body) of one alert."""
        body = self._render(
            f"alert.{fmt}.j2", a=alert, snippet=snippet_segments(alert, radius), fmt=fmt
        )
        return f"[听风] {alert.topic}", body

    def digest(
        self, alerts: list[Alert], day: date, fmt: Format, radius: int = SNIPPET_RADIUS
    ) -> tuple[str, str]:
        """(subject, body) of a digest: alerts grouped by topic then source."""
        groups = group(alerts)
        subject = digest_subject(day, groups)
        snippets = {id(a): snippet_segments(a, radius) for a in alerts}
        body = self._render(
            f"digest.{fmt}.j2",
            subject=subject,
            groups=groups,
            total=len(alerts),
            day=day,
            snippet=lambda a: snippets[id(a)],
            fmt=fmt,
        )
        return subject, body
