"""Channel settings: the ``[[channels]]`` tables of config.toml, declared where they are read.

Apprise URLs are SecretStr, so a channel's URL never reaches a repr or an error.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import SecretStr, field_validator

from watchers.settings import Strict
from watchers.units import Duration

_TIME = r"([01]?\d|2[0-3]):[0-5]\d"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class ChannelConfig(Strict):
    """One delivery target. The URL is a SecretStr: it never reaches a repr or an error."""

    name: str
    url: SecretStr
    mode: Literal["instant", "digest"] = "instant"
    # Digest schedule (local time of [daemon] timezone).
    at: str = "08:00"
    every: Literal["daily", "weekly"] = "daily"
    weekday: Weekday = "mon"
    send_empty: bool = False
    # Rendering: "auto" picks what the service displays (see daemon/notify/services.py).
    format: Literal["auto", "markdown", "text", "html"] = "auto"
    # Instant channels: hold alerts in quiet hours, or fold them into one digest at their end.
    quiet_hours: str | None = None
    quiet: Literal["hold", "digest"] = "hold"
    # "20/min"; None means the service's default pace.
    rate_limit: str | None = None
    timeout: Duration = 30.0
    # Chinese bots only: the API origin to post to (a proxy, a private deployment, a test bot).
    api_base: str | None = None

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        if not re.fullmatch(_TIME, value):
            raise ValueError(f'"{value}" is not a time of day (HH:MM)')
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(f"{_TIME}-{_TIME}", value.replace(" ", "")):
            raise ValueError(f'"{value}" is not a time range (try "22:00-07:00")')
        return value.replace(" ", "") if value else None

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d+/(s|sec|min|h|hour)", value.strip()):
            raise ValueError(f'"{value}" is not a rate (try "20/min")')
        return value.strip() if value else None

    @field_validator("api_base")
    @classmethod
    def _api_base(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("api_base must be an http(s) origin such as http://127.0.0.1:8080")
        return value.rstrip("/") if value else None
