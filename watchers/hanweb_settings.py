"""The ``hanweb`` kind's settings, apart from its watcher: reading a config never loads aiohttp."""

from __future__ import annotations

from typing import Literal

from watchers.settings import SourceConfig


class HanwebSource(SourceConfig):
    kind: Literal["hanweb"]
