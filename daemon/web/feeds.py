"""RSS/Atom feeds per topic and per user, so staff can follow topics in any feed reader.

Feed readers cannot log in: the URL carries the user's secret feed token instead
(``User.feed_token``; replacing it revokes every old link). A wrong or revoked token
is answered 404, like a feed that does not exist, so a guessed URL learns nothing.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from xml.etree import ElementTree as ET

from aiohttp import web

from daemon.notify.render import snippet
from daemon.web.app import console_of
from storage import accounts, news
from storage.deliveries import Alert
from storage.news import NewsFilter, StoryRow
from storage.types import utcnow

routes = web.RouteTableDef()
ATOM = "http://www.w3.org/2005/Atom"
ENTRIES = 50
# Characters XML 1.0 cannot carry at all (escaping does not help): dropped from feed text.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
NOT_FOUND = "404: 没有这个订阅源"


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(parent: ET.Element, tag: str, text: str = "", **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text:
        element.text = _clean(text)
    return element


def atom(title: str, feed_id: str, self_url: str, site: str, rows: list[StoryRow]) -> bytes:
    """An Atom 1.0 document: one entry per story, linking to the original article, with
    the console's story page as a related link and the snippet around the first hit."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _add(feed, "title", title)
    _add(feed, "id", feed_id)
    _add(feed, "link", rel="self", href=self_url)
    _add(feed, "link", rel="alternate", href=site + "/")
    times = [r.time for r in rows if r.time is not None]
    _add(feed, "updated", _stamp(max(times) if times else utcnow()))
    _add(feed, "generator", "听风 tingfeng")
    for row in rows:
        entry = _add(feed, "entry")
        _add(entry, "title", row.title or "(无标题)")
        _add(entry, "id", f"{feed_id.rsplit(':feed:', 1)[0]}:story:{row.article_id}")
        _add(entry, "link", rel="alternate", href=_clean(row.url))
        _add(entry, "link", rel="related", href=f"{site}/story/{row.article_id}")
        _add(entry, "updated", _stamp(row.time or utcnow()))
        author = _add(entry, "author")
        _add(author, "name", row.source)
        for topic in row.topics:
            _add(entry, "category", term=_clean(topic))
        where = " · ".join(p for p in (row.source, row.page, row.place) if p)
        also = f"\n另见：{'、'.join(row.also)}" if row.also else ""
        text = snippet(_alert(row))
        _add(entry, "summary", f"{where}\n{text}{also}", type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _alert(row: StoryRow) -> Alert:
    return Alert(
        topic="",
        title=row.title,
        url=row.url,
        source=row.source,
        also=row.also,
        place=row.place,
        published=row.published,
        text=row.text,
        hits=row.hits,
    )


async def _answer(request: web.Request, title: str, kind: str, filters: NewsFilter) -> web.Response:
    console = console_of(request)
    page = await news.list_stories(console.db, filters, 1, ENTRIES)
    site = (console.config.web.public_url or str(request.url.origin())).rstrip("/")
    feed_id = f"urn:tingfeng:{console.db.instance_id}:feed:{kind}"
    body = await asyncio.to_thread(atom, title, feed_id, site + request.path_qs, site, page.rows)
    return web.Response(
        body=body,
        content_type="application/atom+xml",
        charset="utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )


@routes.get("/feeds/topic/{topic_id:\\d+}.xml")
async def topic_feed(request: web.Request) -> web.Response:
    db = console_of(request).db
    if await accounts.feed_user(db, request.query.get("token", "")) is None:
        raise web.HTTPNotFound(text=NOT_FOUND)
    topic_id = int(request.match_info["topic_id"])
    names = await news.topic_names_of(db, (topic_id,))
    if topic_id not in names:
        raise web.HTTPNotFound(text=NOT_FOUND)
    return await _answer(
        request, f"听风 · {names[topic_id]}", f"topic:{topic_id}", NewsFilter(topic_ids=(topic_id,))
    )


@routes.get("/feeds/user.xml")
async def user_feed(request: web.Request) -> web.Response:
    db = console_of(request).db
    user = await accounts.feed_user(db, request.query.get("token", ""))
    if user is None or user.id is None:
        raise web.HTTPNotFound(text=NOT_FOUND)
    return await _answer(
        request, f"听风 · {user.name} 的订阅", f"user:{user.id}", NewsFilter(subscriber=user.id)
    )
