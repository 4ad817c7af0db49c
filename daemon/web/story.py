"""Story: one article as stored, with its hits marked, its copies and its alerts.

Staff open a story from 今日动态 to read the whole text, see which page of which paper
carried it (with the page's PDF), who else reported it, and who was alerted — so
"did my alert go out?" is answered without asking an administrator.
"""

from __future__ import annotations

import asyncio

import aiohttp_jinja2
from aiohttp import web
from markupsafe import Markup

from daemon.notify.render import local_time, original_spans
from daemon.web.app import console_of
from daemon.web.auth import current_user
from daemon.web.filters import mark_spans
from storage import news

routes = web.RouteTableDef()

STATUS = {
    "pending": "待发送",
    "claimed": "发送中",
    "sent": "已发送",
    "failed": "失败，将重试",
    "dead": "已放弃",
    "batched": "等待摘要",
}
KIND = {"alert": "即时提醒", "digest": "摘要"}


def _marked(title: str, text: str, hits: list[list[object]]) -> tuple[Markup, Markup]:
    """Title and whole text with every hit marked in the original words (a long text
    is mapped in a worker thread: it is CPU work)."""
    title_spans, text_spans = original_spans(title, text, hits)
    return mark_spans(title, title_spans), mark_spans(text, text_spans)


@routes.get("/story/{article_id}")
async def story(request: web.Request) -> web.Response:
    console = console_of(request)
    user = current_user(request)
    try:
        article_id = int(request.match_info["article_id"])
    except ValueError:
        raise web.HTTPNotFound(text="404: 没有这篇文章") from None
    viewer = None if user.role == "admin" else user.id
    found = await news.story(console.db, article_id, viewer)
    if found is None:
        raise web.HTTPNotFound(text="404: 没有这篇文章")
    article = found.article
    hits = [h for m in found.matches for h in m.hits]
    title, text = await asyncio.to_thread(_marked, article.title, article.text, hits)
    tz = console.tz
    return aiohttp_jinja2.render_template(
        "story.html.j2",
        request,
        {
            "nav": "today",
            "s": found,
            "a": article,
            "title": title,
            "text": text,
            "when": local_time(article.published_at or article.fetched_at, tz),
            "fetched": local_time(article.fetched_at, tz),
            "copy_times": {c.article_id: local_time(c.time, tz) for c in found.copies},
            "sent_times": [
                local_time(d.sent_at, tz) if d.sent_at else "" for d in found.deliveries
            ],
            "status": STATUS,
            "kind": KIND,
        },
    )
