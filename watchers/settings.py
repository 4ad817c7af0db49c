"""Fetch settings and what every source kind has in common, declared where they are read.

Each kind adds its own keys in its own settings module next to its watcher (``selectors`` on
``HtmlSource``, ``catchup_days`` on ``EpaperSource``); ``watchers.registry`` joins
them into one union chosen by ``kind``, so a key of one kind is an unknown key on
another. ``daemon/config.py`` puts these into the whole config file and turns
validation errors into ``config.toml:LINE key: reason`` lines.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from watchers.units import Duration, Size

_NAME = re.compile(r"^[^\s/\\][^/\\]*$")


class Strict(BaseModel):
    """Settings from a file a person wrote: unknown keys are mistakes, values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FetchConfig(Strict):
    user_agent: str = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/124.0 Safari/537.36 tingfeng/0.1"
    )
    per_host_concurrency: int = Field(default=1, ge=1, le=16)
    per_host_delay: Duration = 1.0
    timeout: Duration = 20.0
    connect_timeout: Duration = 10.0
    max_bytes: Size = 10_000_000
    max_redirects: int = Field(default=5, ge=0, le=20)
    # Longer article texts are cut here (and marked ``extra["truncated_from"]``): a 9 MB
    # "article" is a broken page, and matching, dedup and alerts all scale with its size.
    max_article_chars: int = Field(default=200_000, ge=1000)


class SourceConfig(Strict):
    """Keys every source has; a kind's model narrows ``kind`` and adds its own keys."""

    name: str
    kind: str
    url: str
    every: Duration | None = None
    cron: str | None = None
    jitter: Duration | None = None
    enabled: bool = True
    region: str = ""
    encoding: str | None = None
    max_articles: int = Field(default=200, ge=1)
    # Health: alert the operator after this many failed runs in a row (once per incident).
    fail_alert_after: int = Field(default=3, ge=1)
    # Backoff after failures doubles the interval per failure up to this cap, and never stops.
    max_backoff: Duration = 6 * 3600.0
    # Health: a source that had articles on most days and none for this long is unhealthy
    # and the operator is alerted (0 turns it off). Three days suits a daily paper.
    silent_after: Duration = 3 * 86400.0

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f'"{value}" is not a usable name (no slashes, not blank)')
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^(https?://[^/\s]+|file://|/|\.{0,2}/?[\w.-])", value):
            raise ValueError(f'"{value}" is not an http(s) URL or a path')
        return value

    @field_validator("every")
    @classmethod
    def _every(cls, value: float | None) -> float | None:
        if value is not None and value < 10:
            raise ValueError("every must be at least 10s (be polite to the site)")
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(f'"{value}" is not a cron expression ({exc})') from None
        return value

    @model_validator(mode="after")
    def _schedule(self) -> SourceConfig:
        if self.every is not None and self.cron is not None:
            raise ValueError("give either every or cron, not both")
        return self

    @property
    def interval(self) -> float:
        """Seconds between runs when scheduled by interval (default 30 minutes)."""
        return self.every if self.every is not None else 1800.0
