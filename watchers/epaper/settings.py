"""The ``epaper`` kind's settings, apart from its watcher: reading a config never loads aiohttp."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from watchers.settings import SourceConfig


class EpaperSource(SourceConfig):
    kind: Literal["epaper"]
    # How many days back missed issues are fetched after downtime.
    catchup_days: int = Field(default=7, ge=0, le=60)
