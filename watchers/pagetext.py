"""Watchers of kind ``text`` and ``pdf``: a page of newspaper text or a page PDF.

The page is fetched (http/https through the shared Fetcher) or read (local path or
``file://``), cut into articles by the segmenter in a worker thread, and each item
becomes an ``ArticleDraft`` so page text flows through dedup, rules and alerts like
any other article. Item URLs carry a hash of the item's opening text, so polling the
same page again yields the same URLs and storage recognises them as known.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from urllib.parse import unquote, urlparse

from rules.normalize import normalize
from watchers.article import ArticleDraft
from watchers.base import WatchContext, WatchError
from watchers.pagetext_settings import PageFileSource
from watchers.place import place_of_article
from watchers.segment import MAX_BYTES, PageItem, SegmentError, segment_bytes


def item_id(item: PageItem) -> str:
    """A short id that stays the same when the same page is polled again."""
    basis = normalize(f"{item.kind}|{item.title}|{item.text}")[:60]
    return hashlib.sha1(basis.encode("utf-8")).hexdigest()[:12]


def to_draft(item: PageItem, page_url: str) -> ArticleDraft:
    """One page item as an article draft addressed ``page_url#item-id``."""
    return ArticleDraft(
        url=f"{page_url}#item-{item_id(item)}",
        title=item.title,
        text=item.text,
        kicker=item.kicker,
        subtitle=item.subtitle,
        place=item.place,
        kind=item.kind,
        continued_to=item.continued_to,
        continued_from=item.continued_from,
    )


class PageTextWatcher:
    """Polls one page (text or PDF) and returns its articles and photo items."""

    async def poll(self, source: PageFileSource, ctx: WatchContext) -> list[ArticleDraft]:
        url = str(source.url)
        scheme = urlparse(url).scheme.lower()
        content_type = None
        if scheme in ("http", "https"):
            result = await ctx.fetcher.get(url, conditional=True)
            if result.not_modified:
                return []
            data, content_type = result.body, result.headers.get("Content-Type")
        else:
            data = await asyncio.to_thread(_read_local, url)
        name = Path(urlparse(url).path).name or source.name
        try:
            items: list[PageItem] = await ctx.run_cpu(
                segment_bytes,
                data,
                name=name,
                encoding=source.encoding,
                content_type=content_type,
            )
        except SegmentError as exc:
            raise WatchError(f"{source.name}: {exc}") from None
        drafts = [to_draft(item, url) for item in items]
        for draft in drafts:
            draft.place = place_of_article(draft, source.region)
        return drafts


def _read_local(url: str) -> bytes:
    """Bytes of a local path or ``file://`` URL; failures become one-line WatchErrors."""
    parsed = urlparse(url)
    path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(url)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise WatchError(f"{path}: too large (over {MAX_BYTES // 1_000_000} MB)")
        return path.read_bytes()
    except OSError as exc:
        raise WatchError(f"{path}: {exc.strerror or exc}") from None
