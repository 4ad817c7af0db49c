"""The ``text``/``pdf`` kinds' settings, apart from their watcher so reading a config never
loads aiohttp or the segmenter."""

from __future__ import annotations

from typing import Literal

from watchers.settings import SourceConfig


class PageFileSource(SourceConfig):
    """A page of text (``text``) or a page PDF (``pdf``); both are segmented alike."""

    kind: Literal["text", "pdf"]
