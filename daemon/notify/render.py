"""Message text from Jinja2 templates: alerts and digests, per format (text, Markdown, HTML).

The built-in templates live in ``templates/``; a user folder (``[daemon] templates``)
overrides any of them by file name. Templates use StrictUndefined, so a typo in an
override is a clear :class:`RenderError` (the delivery stays owed), never a message
with silent blanks.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape

from rules import Mapped, normalize, normalize_mapped
from storage.deliveries import Alert
from watchers.dates import SITE_TZ

if TYPE_CHECKING:
    from daemon.config import Config

Format = Literal["text", "markdown", "html"]
BUILTIN = Path(__file__).parent / "templates"
SNIPPET_RADIUS = 60
DIGEST_RADIUS = 60  # about 120 characters around the first hit: a digest is skimmed
MAX_HIT_CHARS = 200  # a hit is shown up to this long: a regex can match millions of characters
# Inline style: mail clients drop <style> blocks and some ignore <mark>'s default look.
MARK = '<mark style="background:#fff0a8;color:#000;padding:0 1px">{}</mark>'
# Apprise's email plugin makes the plain-text part itself, from the HTML (it takes no
# text body of its own); text hidden like this reaches that part and no HTML reader, so
# hits read 【…】 there while the HTML marks them once, with <mark>.
PLAIN_ONLY = '<span style="display:none;mso-hide:all;font-size:0;max-height:0">{}</span>'
Span = tuple[int, int]
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>#|~"})
_TAG_BREAK = re.compile(r">\n<")
# A line break inside a paragraph: the paper's column width, not the writer's.
_WRAP = re.compile(r"[ \t]*\n[ \t]*")


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
    """When it appeared, for people: a date alone where the source printed no time.

    E-papers and many county sites give an issue date only, stored as China midnight;
    showing that as ``00:00`` would invent a time the paper never printed.
    """
    if value is None:
        return "日期不详"
    site = value.astimezone(SITE_TZ)
    if site.time() == time(0):
        return site.strftime("%Y-%m-%d")
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def where(alert: Alert, tz: ZoneInfo, *, when: bool = True) -> str:
    """Where the story ran, one line: source · 版面 · place (· date), blanks left out."""
    parts = [alert.source, alert.page, alert.place]
    if when:
        parts.append(local_time(alert.published, tz))
    return " · ".join(p for p in parts if p)


def _field_spans(hits: Sequence[Sequence[object]], title_len: int) -> tuple[list[Span], list[Span]]:
    """Stored hits (spans into ``combined_text``) split into title and text spans."""
    title: list[Span] = []
    text: list[Span] = []
    shift = title_len + 1 if title_len else 0
    for hit in hits:
        if len(hit) < 2:
            continue
        start, end = int(hit[0]), int(hit[1])  # type: ignore[call-overload]
        if title_len and start < shift:
            title.append((start, min(end, title_len)))
        else:
            text.append((start - shift, end - shift))
    return sorted(title), sorted(text)


def original_spans(
    title: str, text: str, hits: Sequence[Sequence[object]], *, whole_text: bool = True
) -> tuple[list[Span], list[Span]]:
    """Stored hits as spans of the original title and text, to mark them as printed.

    Hit spans index normalised text; the offset maps of :func:`rules.normalize_mapped`
    turn them back, so marks fall on the paper's own characters (full-width
    punctuation, line breaks and letter case kept). ``whole_text=False`` leaves the
    text spans out (a list row marks only its title and uses :func:`snippet_segments`).
    """
    mapped_title = normalize_mapped(title)
    title_spans, text_spans = _field_spans(hits, len(mapped_title.text))
    in_title = [mapped_title.original_span(a, b) for a, b in title_spans]
    if not whole_text or not text_spans:
        return in_title, []
    mapped = _mapped_prefix(text, text_spans[-1][1])
    return in_title, [mapped.original_span(a, b) for a, b in text_spans if a < len(mapped.text)]


def _mapped_prefix(text: str, needed: int) -> Mapped:
    """The offset map of enough of ``text`` to cover normalised offset ``needed``.

    A hit near the top of a 5 MB article maps without normalising all of it: away
    from the cut, a prefix normalises exactly like the whole text.
    """
    limit = needed * 2 + 256
    while True:
        mapped = normalize_mapped(text[:limit])
        if limit >= len(text) or len(mapped.text) > needed + 8:
            return mapped
        limit *= 4


def _paragraph_bounds(text: str, lo: int, hi: int, hit_lo: int, hit_hi: int) -> Span:
    """Shrink ``[lo, hi)`` so the snippet stays in the hit's paragraph."""
    breaks = ("\n\n", "\n\u3000")  # a blank line, or a new line indented the Chinese way
    before = max(text.rfind(mark, lo, hit_lo) for mark in breaks)
    if before >= 0:
        lo = before + 1
    after = [i for i in (text.find(mark, hit_hi, hi) for mark in breaks) if i >= 0]
    if after:
        hi = min(after)
    while lo < hit_lo and text[lo].isspace():
        lo += 1
    while hi > hit_hi and text[hi - 1].isspace():
        hi -= 1
    return lo, hi


def snippet_segments(alert: Alert, radius: int = SNIPPET_RADIUS) -> list[Segment]:
    """The article's own words around the first hit in its text, hits as their own segments.

    Hits are found in normalised text (see :mod:`rules.normalize`); their spans map
    back to the original through the offset map, so the snippet keeps the paper's
    punctuation, spaces and letter case. Overlapping hits are marked once. With hits
    only in the title, the snippet is the opening of the text, unmarked.
    """
    text = alert.text
    if not text.strip():
        return []
    _, text_spans = _field_spans(alert.hits, len(normalize(alert.title)))
    if not text_spans:
        cut = text.strip()[: radius * 2]
        return _unwrapped([Segment(cut), *([Segment("…")] if len(text.strip()) > len(cut) else [])])
    first_start, first_end = text_spans[0]
    mapped = _mapped_prefix(text, min(first_end, first_start + MAX_HIT_CHARS) + radius * 3)
    originals = [mapped.original_span(a, b) for a, b in text_spans if a < len(mapped.text)]
    hit_lo, hit_hi = originals[0]
    hit_hi = min(hit_hi, hit_lo + MAX_HIT_CHARS)
    lo, hi = _paragraph_bounds(
        text, max(hit_lo - radius, 0), min(max(hit_lo + radius, hit_hi), len(text)), hit_lo, hit_hi
    )
    out: list[Segment] = [Segment("…")] if lo > 0 else []
    pos = lo
    for start, span_end in sorted(originals):
        start, end = max(start, pos), min(span_end, hi) if start == hit_lo else span_end
        if start >= end or end > hi:
            continue
        out += [Segment(text[pos:start]), Segment(text[start:end], hit=True)]
        pos = end
    out.append(Segment(text[pos:hi]))
    if text[hi:].strip():
        out.append(Segment("…"))
    return _unwrapped([s for s in out if s.text])


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def _unwrapped(segments: list[Segment]) -> list[Segment]:
    """Segments with the page's line wraps taken out: a wrapped hit (``液\n化石油气``) reads
    as the words it is. Between two Chinese characters a wrap becomes nothing, elsewhere
    one space, so a quote differs from the original only in that whitespace."""
    joined = "".join(s.text for s in segments)
    out: list[Segment] = []
    base = 0
    for segment in segments:

        def join(found: re.Match[str], base: int = base) -> str:
            before = joined[base + found.start() - 1] if base + found.start() else ""
            after = joined[base + found.end()] if base + found.end() < len(joined) else ""
            return "" if not before or not after or (_wide(before) and _wide(after)) else " "

        out.append(Segment(_WRAP.sub(join, segment.text), segment.hit))
        base += len(segment.text)
    return [s for s in out if s.text]


def snippet(alert: Alert, radius: int = SNIPPET_RADIUS) -> str:
    """The snippet as plain text, hits in 【】."""
    return highlight(snippet_segments(alert, radius), "text")


def md(value: object) -> str:
    """Escape Markdown control characters so titles cannot break links or emphasis."""
    return str(value).translate(_MD_SPECIAL)


def highlight(segments: list[Segment], fmt: Format) -> str:
    """Snippet segments with each hit marked once, the way ``fmt`` shows emphasis."""
    if fmt == "html":
        return Markup("").join(
            Markup(PLAIN_ONLY.format("【") + MARK + PLAIN_ONLY.format("】")).format(s.text)
            if s.hit
            else escape(s.text)
            for s in segments
        )
    if fmt == "markdown":
        return "".join(f"**{md(s.text)}**" if s.hit else md(s.text) for s in segments)
    return "".join(f"【{s.text}】" if s.hit else s.text for s in segments)


def group(alerts: list[Alert], topic_order: Sequence[str] = ()) -> list[TopicGroup]:
    """Alerts grouped by topic (in config order, unknown topics after), then by source."""
    by_topic: dict[str, dict[str, list[Alert]]] = defaultdict(lambda: defaultdict(list))
    for alert in alerts:
        by_topic[alert.topic][alert.source].append(alert)
    rank = {name: i for i, name in enumerate(topic_order)}
    ordered = sorted(by_topic, key=lambda name: rank.get(name, len(rank)))
    return [
        TopicGroup(topic, [SourceGroup(name, items) for name, items in by_topic[topic].items()])
        for topic in ordered
    ]


def digest_subject(day: date, groups: list[TopicGroup]) -> str:
    total = sum(g.count for g in groups)
    return f"[听风] {day.month}月{day.day}日 {len(groups)}个主题 {total}条"


class Renderer:
    """Renders alerts and digests through the built-in or the user's templates."""

    def __init__(
        self, tz: ZoneInfo, user_dir: Path | None = None, topic_order: Sequence[str] = ()
    ) -> None:
        self.tz = tz
        self.topic_order = list(topic_order)
        self.user_dir = user_dir
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
        self.env.filters["plain_only"] = lambda text: Markup(PLAIN_ONLY).format(text)
        self.env.filters["local"] = lambda value: local_time(value, tz)
        self.env.filters["where"] = lambda a, when=True: where(a, tz, when=when)

    def _syntax_error(self, exc: jinja2.TemplateSyntaxError, name: str) -> RenderError:
        where = exc.filename or exc.name or name
        return RenderError(f"template {where} line {exc.lineno}: {exc.message}")

    def check(self) -> None:
        """Compile every template now, so a broken override fails at config time.

        ``check-config``, ``once`` and ``run`` call this; a syntax error found here is
        one line naming the file and line, never an alert that cannot be rendered later.
        """
        for name in self.env.list_templates(filter_func=lambda n: n.endswith(".j2")):
            try:
                self.env.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                raise self._syntax_error(exc, name) from None

    def _render(self, name: str, **context: object) -> str:
        try:
            rendered = self.env.get_template(name).render(**context).strip()
        except jinja2.TemplateSyntaxError as exc:
            raise self._syntax_error(exc, name) from None
        except jinja2.TemplateError as exc:
            raise RenderError(f"template {name}: {exc}") from None
        # The plain-text part Apprise makes from HTML turns every line break between two
        # tags into an empty line; the template's empty lines are the ones meant.
        return _TAG_BREAK.sub("><", rendered) if name.endswith(".html.j2") else rendered

    def alert(self, alert: Alert, fmt: Format, radius: int = SNIPPET_RADIUS) -> tuple[str, str]:
        """(title, body) of one alert."""
        body = self._render(
            f"alert.{fmt}.j2", a=alert, snippet=snippet_segments(alert, radius), fmt=fmt
        )
        return f"[听风] {alert.topic}", body

    def digest(self, alerts: list[Alert], day: date, fmt: Format) -> tuple[str, str]:
        """(subject, body) of a digest: counts and contents first, then per topic
        (config order) and source, each story with a short snippet around its first hit."""
        groups = group(alerts, self.topic_order)
        subject = digest_subject(day, groups)
        snippets = {id(a): snippet_segments(a, DIGEST_RADIUS) for a in alerts}
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


def renderer_for(config: Config) -> Renderer:
    """The renderer a config asks for: its time zone, template folder and topic order."""
    return Renderer(config.tz, config.templates_dir(), [t.name for t in config.topics])
