"""Source kind → watcher."""

from __future__ import annotations

from watchers.base import Watcher
from watchers.epaper import EpaperWatcher
from watchers.feed import FeedWatcher
from watchers.hanweb import HanwebWatcher
from watchers.html import HtmlWatcher
from watchers.pagetext import PageTextWatcher

WATCHERS: dict[str, Watcher] = {
    "feed": FeedWatcher(),
    "html": HtmlWatcher(),
    "text": PageTextWatcher(),
    "pdf": PageTextWatcher(),
    "epaper": EpaperWatcher(),
    "hanweb": HanwebWatcher(),
}


def watcher_for(kind: str) -> Watcher | None:
    return WATCHERS.get(kind)
