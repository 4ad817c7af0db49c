"""``config.toml``: parsed with tomllib, validated with pydantic, errors with file:line and key.

Every mistake a user can make in the file is reported as one line
(``config.toml:14 sources[2].every: "30x" is not a duration``), never as a
traceback, and never with a channel's secret URL in it.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from daemon.errors import UserError
from daemon.tomlpos import Path as KeyPath
from daemon.tomlpos import format_path, key_lines, line_of
from daemon.units import Duration, Size
from storage.dedup.config import DedupConfig

SourceKind = Literal["feed", "html", "epaper", "hanweb", "pdf", "text"]
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NAME = re.compile(r"^[^\s/\\][^/\\]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageConfig(_Strict):
    url: str = "sqlite:///data/tingfeng.db"


class FetchConfig(_Strict):
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


class Selectors(_Strict):
    """CSS selectors for a generic HTML list source."""

    item: str = "a"
    title: str | None = None
    text: str | None = None
    date: str | None = None


class SourceConfig(_Strict):
    name: str
    kind: SourceKind
    url: str
    every: Duration | None = None
    cron: str | None = None
    jitter: Duration | None = None
    enabled: bool = True
    region: str = ""
    encoding: str | None = None
    selectors: Selectors = Selectors()
    max_articles: int = Field(default=200, ge=1)
    # e-paper: how many days back missed issues are fetched after downtime.
    catchup_days: int = Field(default=7, ge=0, le=60)
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


class TopicConfig(_Strict):
    name: str
    query: str
    mode: Literal["word", "substring"] = "word"
    places: list[str] = []
    sources: list[str] = []
    min_hits: int = Field(default=1, ge=1)
    fields: list[Literal["title", "text"]] = Field(default=["title", "text"], min_length=1)
    channels: list[str] = []


_TIME = r"([01]?\d|2[0-3]):[0-5]\d"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class ChannelConfig(_Strict):
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


class DaemonConfig(_Strict):
    timezone: str = "Asia/Shanghai"
    max_attempts: int = Field(default=8, ge=1)
    # A delivery older than this goes dead at its next failure, whatever its attempts.
    max_age: Duration | None = None
    # Backoff of the first retry; doubles per attempt (with jitter) up to retry_max.
    retry_base: Duration = 30.0
    retry_max: Duration = 6 * 3600.0
    # How long a worker owns a claimed delivery before another may take it over.
    lease: Duration = 300.0
    outbox_every: Duration = 30.0
    admin_channel: str | None = None
    # A folder whose *.j2 files override the built-in message templates.
    templates: str | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'"{value}" is not a time zone (try "Asia/Shanghai")') from None
        return value

    @field_validator("lease", "outbox_every")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be longer than 0s")
        return value


class Config(_Strict):
    daemon: DaemonConfig = DaemonConfig()
    storage: StorageConfig = StorageConfig()
    fetch: FetchConfig = FetchConfig()
    dedup: DedupConfig = DedupConfig()
    sources: list[SourceConfig] = []
    topics: list[TopicConfig] = []
    channels: list[ChannelConfig] = []
    path: Path = Path("config.toml")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.daemon.timezone)

    def channel(self, name: str) -> ChannelConfig:
        return next(c for c in self.channels if c.name == name)

    def templates_dir(self) -> Path | None:
        """The user's template folder, relative to the config file's folder."""
        if not self.daemon.templates:
            return None
        return (self.path.parent / self.daemon.templates).resolve()

    def storage_url(self) -> str:
        """The storage URL with a relative SQLite path resolved against the config's folder."""
        url = self.storage.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            rest = url[len(prefix) :]
            if rest and rest != ":memory:":
                return prefix + str((self.path.parent / rest).resolve())
        return url


def _substitute_env(value: Any, path: KeyPath, errors: list[tuple[KeyPath, str]]) -> Any:
    """Replace ``${VAR}`` from the environment in every string, collecting missing ones."""
    if isinstance(value, str):

        def repl(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                errors.append((path, f"environment variable {name} is not set"))
                return ""
            return os.environ[name]

        return _ENV_REF.sub(repl, value)
    if isinstance(value, dict):
        return {k: _substitute_env(v, (*path, k), errors) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_env(v, (*path, i), errors) for i, v in enumerate(value)]
    return value


def _cross_check(raw: dict[str, Any]) -> list[tuple[KeyPath, str]]:
    """Checks that span tables: unique names, topics naming known channels."""
    errors: list[tuple[KeyPath, str]] = []
    for table in ("sources", "topics", "channels"):
        seen: dict[str, int] = {}
        for i, item in enumerate(raw.get(table) or []):
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str):
                if name in seen:
                    errors.append(
                        (
                            (table, i, "name"),
                            f'duplicate name "{name}" (also {table}[{seen[name]}])',
                        )
                    )
                seen.setdefault(name, i)
    channel_names = {c.get("name") for c in raw.get("channels") or [] if isinstance(c, dict)}
    admin = (raw.get("daemon") or {}).get("admin_channel")
    if admin is not None and admin not in channel_names:
        errors.append((("daemon", "admin_channel"), f'unknown channel "{admin}"'))
    for i, topic in enumerate(raw.get("topics") or []):
        if not isinstance(topic, dict):
            continue
        for j, name in enumerate(topic.get("channels") or []):
            if name not in channel_names:
                errors.append((("topics", i, "channels", j), f'unknown channel "{name}"'))
    return errors


def _message(error: dict[str, Any]) -> str:
    msg = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key is missing"
    if error["type"] == "literal_error":
        return msg.replace("Input should be", "must be")
    return msg


def _fail(file: Path, lines: dict[KeyPath, int], path: KeyPath, message: str) -> UserError:
    line = line_of(lines, path)
    where = f"{file}:{line}" if line else str(file)
    key = format_path(path)
    return UserError(f"{where} {key}: {message}" if key else f"{where}: {message}")


def parse_config(text: str, file: Path) -> Config:
    """Validate config text; raise UserError naming file, line and key of the first problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        reason = re.sub(r"\s*\(at line.*\)", "", str(exc))
        where = f"{file}:{found.group(1)}" if found else str(file)
        raise UserError(f"{where}: invalid TOML: {reason}") from None
    lines = key_lines(text)
    env_errors: list[tuple[KeyPath, str]] = []
    raw = _substitute_env(raw, (), env_errors)
    problems = env_errors + _cross_check(raw)
    if problems:
        raise _fail(file, lines, *problems[0])
    try:
        config = Config.model_validate({**raw, "path": file})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _fail(file, lines, tuple(first["loc"]), _message(dict(first))) from None
    _check_channels(config, file, lines)
    _check_queries(config, file, lines)
    return config


def _check_channels(config: Config, file: Path, lines: dict[KeyPath, int]) -> None:
    from daemon.notify.channels import check_apprise_url

    for i, channel in enumerate(config.channels):
        problem = check_apprise_url(channel.url.get_secret_value())
        if problem:
            raise _fail(file, lines, ("channels", i, "url"), f'channel "{channel.name}": {problem}')


def _check_queries(config: Config, file: Path, lines: dict[KeyPath, int]) -> None:
    from rules import QuerySyntaxError, parse_query

    for i, topic in enumerate(config.topics):
        try:
            parse_query(topic.query)
        except QuerySyntaxError as exc:
            line = line_of(lines, ("topics", i, "query"))
            where = f"{file}:{line}" if line else str(file)
            raise UserError(exc.render(f"{where} topics[{i}].query")) from None


def load_config(path: str | Path) -> Config:
    """Read and validate the config at ``path``."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{file}: no such config file (create one, see README)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{file}: cannot read: {exc}") from None
    return parse_config(text, file)
