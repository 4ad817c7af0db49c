"""RSS/Atom sources: parsed from bytes so feedparser sees the XML encoding declaration."""

from __future__ import annotations

from typing import Any

import feedparser

from watchers.article import ArticleDraft
from watchers.base import WatchContext, WatchError
from watchers.dates import from_struct_time
from watchers.feed_settings import FeedSource
from watchers.htmltext import html_to_text
from watchers.place import place_of_article


def parse_feed(body: bytes | str, url: str) -> list[ArticleDraft]:
    """Entries of a feed document; raises WatchError when it is not a feed at all.

    Bytes let feedparser honour the XML encoding declaration; a source with its own
    ``encoding`` passes text decoded with it instead.
    """
    parsed: Any = feedparser.parse(body)
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        reason = getattr(parsed.get("bozo_exception"), "getMessage", lambda: "")() or "no entries"
        raise WatchError(f"{url}: not an RSS/Atom feed ({reason})")
    drafts = []
    for entry in parsed.entries:
        link = entry.get("link") or entry.get("id")
        if not link:
            continue
        content = entry.get("content") or []
        body_html = content[0].get("value", "") if content else entry.get("summary", "")
        drafts.append(
            ArticleDraft(
                url=link,
                title=html_to_text(entry.get("title", "")),
                text=html_to_text(body_html),
                author=entry.get("author", ""),
                published=from_struct_time(
                    entry.get("published_parsed") or entry.get("updated_parsed")
                ),
            )
        )
    if parsed.entries and not drafts:
        # Broken XML often "parses" to an empty entry or two: a failed run, never an ok one.
        reason = "not well-formed XML, " if parsed.bozo else ""
        raise WatchError(
            f"{url}: not a usable RSS/Atom feed ({reason}{len(parsed.entries)} entries, none "
            "with a link)"
        )
    return drafts


class FeedWatcher:
    async def poll(self, source: FeedSource, ctx: WatchContext) -> list[ArticleDraft]:
        result = await ctx.fetcher.get(source.url, conditional=True)
        if result.not_modified:
            return []
        document = result.text(source.encoding) if source.encoding else result.body
        drafts: list[ArticleDraft] = await ctx.run_cpu(parse_feed, document, source.url)
        for draft in drafts:
            draft.place = place_of_article(draft, source.region)
        return drafts[: source.max_articles]
