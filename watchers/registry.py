"""Source kind → watcher."""

from __future__ import annotations

from watchers.base import Watcher
from watchers.feed import FeedWatcher
from watchers.html import HtmlWatcher
from watchers.pagetext import PageTextWatcher

WATCHERS: dict[str, Watcher] = {
    "feed": FeedWatcher(),
    "html": HtmlWatcher(),
    "text": PageTextWatcher(),
    "pdf": PageTextWatcher(),
}


def watcher_for(kind: str) -> Watcher | None:
    return WATCHERS.get(kind)
