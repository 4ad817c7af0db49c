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
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator

from daemon.errors import UserError
from daemon.notify.apprise_urls import check_apprise_url
from daemon.notify.settings import ChannelConfig
from daemon.redaction import register
from daemon.tomlpos import Path as KeyPath
from daemon.tomlpos import format_path, key_lines, line_of
from storage.dedup.config import DedupConfig
from watchers.registry import BY_NAME, AnySource
from watchers.settings import FetchConfig
from watchers.settings import Strict as _Strict
from watchers.units import Duration

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class StorageConfig(_Strict):
    url: str = "sqlite:///data/tingfeng.db"


class TopicConfig(_Strict):
    name: str
    query: str
    mode: Literal["word", "substring"] = "word"
    places: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    min_hits: int = Field(default=1, ge=1)
    fields: list[Literal["title", "text"]] = Field(default=["title", "text"], min_length=1)
    channels: list[str] = Field(default_factory=list)
    # When the topic is new or its query changes: match the articles stored this far back.
    backfill: Duration | None = None


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
    # How long an instance owns a claimed source run (renewed while it lasts) before
    # another instance on the same database may take the source over.
    run_lease: Duration = 300.0
    admin_channel: str | None = None
    # A source's first run on this database alerts only items published this recently
    # (undated items are alerted); older ones are stored and matched silently, so a new
    # or lost database cannot flood staff with a feed's backlog. 0s alerts everything.
    first_run_window: Duration = 24 * 3600.0
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

    @field_validator("lease", "outbox_every", "run_lease")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be longer than 0s")
        return value


DEFAULT_LISTEN = "127.0.0.1:8750"


def split_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:8750`` for IPv6) as a host and a port number; port 0 takes
    any free port (the console logs the one it got)."""
    host, sep, port = value.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f'"{value}" is not host:port (try "{DEFAULT_LISTEN}")')
    return host, int(port)


class WebConfig(_Strict):
    """The web console. Without ``listen`` the daemon serves no console."""

    listen: str | None = None
    # The console's address as people reach it (behind a proxy, say): links in feeds
    # and alerts start with it. Unset: links are built from the request.
    public_url: str | None = None
    # Apprise mailto:// URL of the SMTP server that sends staff's email subscriptions;
    # the recipient is added per subscription. Unset: the console offers no email.
    email_url: SecretStr | None = None
    session_days: int = Field(default=14, ge=1, le=365)

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if value is not None:
            split_listen(value)
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f'"{value}" is not an http(s) URL (try "https://tingfeng.example.cn")')
        return value.rstrip("/")

    @field_validator("email_url")
    @classmethod
    def _email_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        url = value.get_secret_value()
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme not in ("mailto", "mailtos"):
            raise ValueError(
                "must be an Apprise mailto:// or mailtos:// URL of the SMTP server "
                '(try "mailtos://user:password@smtp.example.cn?from=tingfeng@example.cn")'
            )
        return value

    def host_port(self) -> tuple[str, int]:
        return split_listen(self.listen or DEFAULT_LISTEN)


class Config(_Strict):
    daemon: DaemonConfig = DaemonConfig()
    storage: StorageConfig = StorageConfig()
    web: WebConfig = WebConfig()
    fetch: FetchConfig = FetchConfig()
    dedup: DedupConfig = DedupConfig()
    sources: list[AnySource] = Field(default_factory=list)
    topics: list[TopicConfig] = Field(default_factory=list)
    channels: list[ChannelConfig] = Field(default_factory=list)
    path: Path = Path("config.toml")
    _warnings: list[str] = PrivateAttr(default_factory=list)
    # Names of the topics the web console added (daemon/console_config.py).
    _console_topics: set[str] = PrivateAttr(default_factory=set)

    @property
    def warnings(self) -> list[str]:
        """Settings that are valid but do nothing (see :func:`_warnings_for`)."""
        return list(self._warnings)

    def file_topics(self) -> list[TopicConfig]:
        """The topics config.toml itself defines (read-only in the console)."""
        return [t for t in self.topics if t.name not in self._console_topics]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.daemon.timezone)

    def secrets(self) -> list[str]:
        """Every channel URL and the console's SMTP URL: redacted from whatever text
        reaches a log, an error or the CLI."""
        found = [c.url.get_secret_value() for c in self.channels]
        if self.web.email_url is not None:
            found.append(self.web.email_url.get_secret_value())
        return found

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
            register([os.environ[name]])
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


def _located(error: dict[str, Any]) -> tuple[KeyPath, dict[str, Any]]:
    """The error's key path as the user wrote it: without the kind pydantic chose by."""
    loc = tuple(error["loc"])
    if loc[:1] != ("sources",) or len(loc) < 2:
        return loc, error
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        kinds = ", ".join(f"'{k}'" for k in BY_NAME)
        if error["type"] == "union_tag_not_found":
            return (*loc[:2], "kind"), {**error, "type": "missing"}
        return (*loc[:2], "kind"), {**error, "type": "literal_error", "msg": f"must be {kinds}"}
    if len(loc) > 2 and loc[2] in BY_NAME:
        loc = (*loc[:2], *loc[3:])
    return loc, error


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
        loc, first = _located(dict(exc.errors()[0]))
        raise _fail(file, lines, loc, _message(first)) from None
    _check_channels(config, file, lines)
    _check_email_url(config, file, lines)
    _check_queries(config, file, lines)
    _check_templates(config, file, lines)
    config._warnings = _warnings_for(config, file, lines)
    return config


def _warnings_for(config: Config, file: Path, lines: dict[KeyPath, int]) -> list[str]:
    """Valid settings that quietly do nothing: one line each, named like an error.

    A config with nothing to watch, a topic whose matches reach nobody and a channel
    no topic sends to are all legal (a topic may only feed ``match`` and exports), but a
    person who wrote them most likely expected alerts; they are told, not stopped.
    """

    def at(path: KeyPath) -> str:
        line = line_of(lines, path)
        return f"{file}:{line}" if line else str(file)

    found: list[str] = []
    if not config.sources and not config.topics:
        found.append(
            f"{file}: no [[sources]] and no [[topics]]: nothing will be fetched or matched"
        )
    elif not config.sources:
        found.append(f"{file}: no [[sources]]: nothing will be fetched")
    elif not config.topics:
        found.append(f"{file}: no [[topics]]: articles are stored, nothing is matched or alerted")
    for i, topic in enumerate(config.topics):
        if not topic.channels:
            found.append(
                f'{at(("topics", i, "name"))} topics[{i}] "{topic.name}": no channels, '
                "its matches are stored but nobody is alerted"
            )
    used = {name for topic in config.topics for name in topic.channels}
    used.add(config.daemon.admin_channel or "")
    for i, channel in enumerate(config.channels):
        if channel.name not in used:
            found.append(
                f'{at(("channels", i, "name"))} channels[{i}] "{channel.name}": '
                "no topic sends to this channel"
            )
    return found


def _check_channels(config: Config, file: Path, lines: dict[KeyPath, int]) -> None:
    for i, channel in enumerate(config.channels):
        problem = check_apprise_url(channel.url.get_secret_value())
        if problem:
            raise _fail(file, lines, ("channels", i, "url"), f'channel "{channel.name}": {problem}')


def _check_email_url(config: Config, file: Path, lines: dict[KeyPath, int]) -> None:
    """The SMTP URL is a secret wherever it appears: the whole URL and its password are
    registered for redaction, so a send error quoting either shows ``***``."""
    if config.web.email_url is None:
        return
    url = config.web.email_url.get_secret_value()
    register([url, *([urlsplit(url).password or ""])])
    problem = check_apprise_url(url)
    if problem:
        raise _fail(file, lines, ("web", "email_url"), problem)


def _check_queries(config: Config, file: Path, lines: dict[KeyPath, int]) -> None:
    from rules import QuerySyntaxError, parse_query

    for i, topic in enumerate(config.topics):
        try:
            parse_query(topic.query)
        except QuerySyntaxError as exc:
            line = line_of(lines, ("topics", i, "query"))
            where = f"{file}:{line}" if line else str(file)
            raise UserError(exc.render(f"{where} topics[{i}].query")) from None


def _check_templates(config: Config, file: Path, lines: dict[KeyPath, int]) -> None:
    """A template override that does not compile fails here, not at send time."""
    folder = config.templates_dir()
    if folder is None:
        return
    from daemon.notify.render import RenderError, renderer_for

    if not folder.is_dir():
        raise _fail(file, lines, ("daemon", "templates"), f"no such folder: {folder}")
    try:
        renderer_for(config).check()
    except RenderError as exc:
        raise UserError(f"{file}: {exc}") from None


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
