"""The ``html`` kind's settings, apart from its watcher: reading a config never loads aiohttp."""

from __future__ import annotations

from typing import Literal

from watchers.settings import SourceConfig, Strict


class Selectors(Strict):
    """CSS selectors for a generic HTML list source."""

    item: str = "a"
    title: str | None = None
    text: str | None = None
    date: str | None = None


class HtmlSource(SourceConfig):
    kind: Literal["html"]
    selectors: Selectors = Selectors()
