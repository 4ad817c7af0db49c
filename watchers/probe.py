"""``tingfeng probe URL``: which kind of source a URL is, and what a run of it would store.

Adding a paper or a county site should take a minute: fetch the URL as a source
would, recognise the family (e-paper platform, Hanweb column, feed, HTML list), run
that family's real watcher for a few articles, and say what a person needs to
configure — or, when nothing matched, what was tried.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from watchers.article import ArticleDraft
from watchers.base import WatchContext, WatchError
from watchers.epaper.common import PageRef, redirect_target, same_page
from watchers.epaper.detect import EXPECTED, PLATFORMS, detect
from watchers.epaper.entry import entry_note, newest_issue_url
from watchers.fetch import Fetcher, FetchError
from watchers.registry import BY_NAME
from watchers.settings import FetchConfig

MAX_HOPS = 4
_HANWEB_URL = re.compile(r"/col/col\d+/", re.I)
_HANWEB_PAGE = re.compile(r"<datastore>|var\s+param_\d+\s*=|dataproxy\.jsp", re.I)
_FEED = re.compile(rb"<(rss|feed|rdf:RDF)[\s>]", re.I)
_ARTICLE_LINK = re.compile(r"""href\s*=\s*["']?[^"'\s>]*\d[^"'\s>]*\.s?html?["'\s>]""", re.I)
MIN_LIST_LINKS = 5
TRIED = (
    f"e-paper: {EXPECTED}",
    "Hanweb: a /col/colNNNN/ column URL, or <datastore>/var param_…/dataproxy.jsp in the page",
    "feed: an RSS or Atom document",
    f"html: a list page with at least {MIN_LIST_LINKS} links to article pages (…123.html)",
)


@dataclass
class ProbeResult:
    """What a person needs to add the URL as a source."""

    url: str
    final_url: str = ""
    kind: str = ""
    family: str = ""
    entry: str = ""
    note: str | None = None
    name: str = ""
    paper: str = ""
    issue_date: date | None = None
    pages: list[PageRef] = field(default_factory=list)
    articles: list[ArticleDraft] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: str = ""
    # When nothing matched but the URL looks like one article of a known platform.
    hint: str = ""

    @property
    def tried(self) -> tuple[str, ...]:
        return TRIED


async def _no_known(urls: Any) -> set[str]:
    return set()


async def _open(fetcher: Fetcher, url: str) -> tuple[str, bytes, str]:
    """(final URL, body, text) after HTTP redirects and meta-refresh/location hops."""
    for _ in range(MAX_HOPS):
        result = await fetcher.request("GET", url)
        text = result.text()
        target = redirect_target(text, result.url)
        if target is None or same_page(target, result.url):
            return result.url, result.body, text
        url = target
    return result.url, result.body, text


def _kind(url: str, body: bytes, text: str) -> tuple[str, str]:
    """(kind, family description) of a fetched page, or ("", "")."""
    platform = detect(url, text)
    if platform is not None:
        return "epaper", f"e-paper, {platform.NAME}"
    if _HANWEB_URL.search(url) or _HANWEB_PAGE.search(text[:200_000]):
        return "hanweb", "Hanweb JCMS column (county government site)"
    if _FEED.search(body[:2000]) and b"<html" not in body[:2000].lower():
        return "feed", "RSS/Atom feed"
    if len(_ARTICLE_LINK.findall(text)) >= MIN_LIST_LINKS:
        return "html", "HTML list page (generic: narrow selectors.item to the list's links)"
    return "", ""


def _article_hint(url: str) -> str:
    """People paste the article they were reading; say what to paste instead."""
    path = urlsplit(url).path
    for platform in PLATFORMS:
        if platform.ARTICLE_HREF.search(path):
            return (
                f"this looks like one article of a {platform.NAME} e-paper: probe the page "
                "that lists it (the 版面 page) or the paper's entry page instead"
            )
    return ""


def _name(result: ProbeResult) -> str:
    name = (result.paper or urlsplit(result.url).hostname or "source").strip()
    return re.sub(r"[\s/\\]+", "-", name) or "source"


async def probe(url: str, fetcher: Fetcher, *, articles: int = 3) -> ProbeResult:
    """Fetch ``url`` as a source would and run the matching watcher for a few articles.

    Raises ``FetchError`` when the URL itself cannot be fetched.
    """
    result = ProbeResult(url=url, entry=url, note=entry_note(url))
    final_url, body, text = await _open(fetcher, newest_issue_url(url))
    result.final_url = final_url
    result.kind, result.family = _kind(final_url, body, text)
    if not result.kind:
        result.hint = _article_hint(final_url)
        return result
    if result.kind == "epaper":
        platform = detect(final_url, text)
        assert platform is not None
        first = await asyncio.to_thread(platform.parse_page, text, final_url)
        result.pages = first.pages or [PageRef(final_url, first.label)]
        result.paper, result.issue_date = first.paper, first.issue_date
    result.name = _name(result)
    kind = BY_NAME[result.kind]
    spec = kind.settings.model_validate(
        {"name": result.name, "kind": result.kind, "url": url, "max_articles": articles}
    )
    watcher = kind.watcher
    ctx = WatchContext(fetcher.for_run(None), asyncio.to_thread, _no_known, {})
    try:
        drafts = await watcher.poll(spec, ctx)
    except (WatchError, FetchError) as exc:
        result.error = str(exc)
        return result
    result.articles = [d for d in drafts if not d.skip_reason]
    result.skipped = [d.skip_reason for d in drafts if d.skip_reason]
    return result


async def probe_url(url: str, fetch: FetchConfig, articles: int = 3) -> ProbeResult:
    """:func:`probe` with a fetcher of its own, as ``tingfeng probe`` and the console's
    来源 page run it. Raises ``FetchError`` when the URL cannot be fetched."""
    async with Fetcher(fetch) as fetcher:
        return await probe(url, fetcher, articles=articles)


def config_block(result: ProbeResult) -> str:
    """A ready ``[[sources]]`` table for config.toml."""

    def toml(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)

    return "\n".join(
        (
            "[[sources]]",
            f"name = {toml(result.name)}",
            f'kind = "{result.kind}"',
            f"url = {toml(result.entry)}",
            'region = ""  # the county or city articles without a dateline place belong to',
        )
    )
