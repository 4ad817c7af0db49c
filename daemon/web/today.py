"""今日动态: the stories that matched, newest first (the console's home page).

Staff open the console to see what their topics caught; this page reads the filters
from the query string (so a filtered view is a link one can bookmark or send), asks
``storage.news`` for one page of stories and marks each hit where the paper printed it.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from daemon.notify.render import local_time, original_spans, snippet_segments
from daemon.web.app import console_of
from daemon.web.auth import current_user
from daemon.web.filters import mark_spans
from storage import news
from storage.deliveries import Alert
from storage.news import NewsFilter, StoryRow

routes = web.RouteTableDef()
PER_PAGE = 30
MAX_TEXT_FILTER = 100  # characters of free text: a search box, not a document


@dataclass
class Form:
    """The filters as the reader typed them (shown back in the form) and as a query."""

    topic: str = ""
    source: str = ""
    place: str = ""
    start: str = ""
    end: str = ""
    q: str = ""
    all_topics: bool = False
    page: int = 1
    errors: list[str] = field(default_factory=list)

    def link(self, **changes: Any) -> str:
        """This view's URL with ``changes`` applied (paging keeps the filters)."""
        values = {
            "topic": self.topic,
            "source": self.source,
            "place": self.place,
            "from": self.start,
            "to": self.end,
            "q": self.q,
            "all": "1" if self.all_topics else "",
            "page": str(self.page) if self.page > 1 else "",
        }
        values.update({k: str(v) for k, v in changes.items()})
        kept = {k: v for k, v in values.items() if v and not (k == "page" and v == "1")}
        return "/?" + urlencode(kept) if kept else "/"


def _int(value: str, label: str, errors: list[str]) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        errors.append(f"{label}无效：{value[:40]}")
        return None


def _day(value: str, label: str, errors: list[str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{label}应为 YYYY-MM-DD 格式的日期：{value[:40]}")
        return None


def read_form(query: Any, tz: ZoneInfo) -> tuple[Form, NewsFilter]:
    """The form and the storage filter from a query string; bad values are named in
    ``Form.errors`` and left out of the filter, never a failed page."""
    form = Form(
        topic=query.get("topic", ""),
        source=query.get("source", ""),
        place=query.get("place", "").strip()[:MAX_TEXT_FILTER],
        start=query.get("from", ""),
        end=query.get("to", ""),
        q=query.get("q", "").strip()[:MAX_TEXT_FILTER],
        all_topics=query.get("all") == "1",
    )
    errors = form.errors
    form.page = max(1, _int(query.get("page", ""), "页码", errors) or 1)
    topic = _int(form.topic, "主题", errors)
    source = _int(form.source, "来源", errors)
    start = _day(form.start, "开始日期", errors)
    end = _day(form.end, "结束日期", errors)
    if start and end and start > end:
        errors.append("开始日期晚于结束日期：已对调")
        start, end = end, start
        form.start, form.end = form.end, form.start
    filters = NewsFilter(
        topic_ids=(topic,) if topic is not None else (),
        place=form.place,
        source_id=source,
        since=datetime.combine(start, time(0), tz) if start else None,
        until=datetime.combine(end + timedelta(days=1), time(0), tz) if end else None,
        text=form.q,
    )
    return form, filters


@dataclass
class RowView:
    row: StoryRow
    title: Markup
    snippet: Markup
    when: str


def row_view(row: StoryRow, tz: ZoneInfo) -> RowView:
    """A row ready to show: title and snippet marked in the original words."""
    hits = tuple((int(h[0]), int(h[1])) for h in row.hits if len(h) >= 2)
    title, snippet = marked(row.title, row.text, hits)
    return RowView(row, title, snippet, local_time(row.time, tz))


@functools.lru_cache(maxsize=4096)
def marked(title: str, text: str, hits: tuple[tuple[int, int], ...]) -> tuple[Markup, Markup]:
    """Title and snippet with the hits marked where the paper printed them.

    Mapping hits back to the original costs a normalisation pass per row, and fifty
    people paging through the same newest stories ask for the same rows again and
    again: a stored story's title, text and hits do not change, so the marks are kept.
    """
    title_spans, _ = original_spans(title, text, hits, whole_text=False)
    alert = Alert("", title, "", "", [], "", None, text, [list(h) for h in hits])
    segments = snippet_segments(alert)
    spans: list[tuple[int, int]] = []
    pos = 0
    for segment in segments:
        if segment.hit:
            spans.append((pos, pos + len(segment.text)))
        pos += len(segment.text)
    return (
        mark_spans(title or "(无标题)", title_spans if title else []),
        mark_spans("".join(s.text for s in segments), spans),
    )


@routes.get("/")
async def today(request: web.Request) -> web.Response:
    console = console_of(request)
    user = current_user(request)
    form, filters = read_form(request.query, console.tz)
    limited = user.role != "admin" and not form.all_topics
    if limited:
        filters = replace(filters, subscriber=user.id)
    page = await news.list_stories(console.db, filters, form.page, PER_PAGE, choices=True)
    notices: list[str] = []
    if page.follows == 0:
        notices.append("你还没有订阅任何主题：下面没有内容。可在“我的订阅”中订阅，或查看全部主题。")
    context = {
        "nav": "today",
        "form": form,
        "page": page,
        "topics": page.topics,
        "sources": page.sources,
        "limited": limited,
        "notices": notices,
        "errors": form.errors,
    }

    def render() -> str:
        # Marking hits and rendering thirty rows is CPU work: off the event loop.
        context["rows"] = [row_view(r, console.tz) for r in page.rows]
        return aiohttp_jinja2.render_string("today.html.j2", request, context)

    return web.Response(text=await asyncio.to_thread(render), content_type="text/html")
