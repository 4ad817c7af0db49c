"""The effective config: config.toml plus what people defined in the console.

Everything downstream (the matcher, the catalog sync, the outbox, digest schedules,
backfill) reads one ``Config``, so console topics and channels are turned into the
same ``TopicConfig``/``ChannelConfig`` objects config.toml gives: nothing after this
point needs to know where a topic was defined. A topic's channels are the ones
config.toml names plus the user channels subscribed to it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import structlog
from pydantic import ValidationError

from daemon.config import Config, TopicConfig
from daemon.notify.settings import ChannelConfig
from daemon.redaction import register
from storage.console_defs import console_definitions
from storage.console_models import ConsoleChannel
from storage.db import Database

log = structlog.get_logger("tingfeng.console")


def email_server(config: Config) -> str | None:
    """``[web] email_url``: the SMTP server (an Apprise mailto URL) email channels use."""
    url = config.web.email_url
    return url.get_secret_value() if url is not None else None


def mail_url(server: str, address: str) -> str:
    """``server`` (an Apprise mailto URL) sending to ``address`` only."""
    base, _, query = server.partition("?")
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "to"]
    params.append(("to", address))
    return f"{base}?{urlencode(params, safe='@:,')}"


def channel_url(config: Config, channel: ConsoleChannel) -> str | None:
    """The Apprise URL a console channel sends to; None for email without a mail server."""
    if channel.kind != "email":
        return channel.url
    server = email_server(config)
    return mail_url(server, channel.url) if server else None


def channel_config(config: Config, channel: ConsoleChannel) -> ChannelConfig | None:
    """The console channel as a ``[[channels]]`` table would give it; None when it cannot
    send (email without ``[web] email_url``, a setting no longer valid)."""
    url = channel_url(config, channel)
    if url is None:
        return None
    register([url])
    try:
        return ChannelConfig.model_validate({**channel.settings, "name": channel.name, "url": url})
    except ValidationError as exc:
        problem = str(exc.errors()[0]["msg"])
        log.error("console channel skipped", channel=channel.name, error=problem)
        return None


def topic_config(name: str, definition: dict[str, Any], channels: list[str]) -> TopicConfig:
    """A console topic as a ``[[topics]]`` table; raises ValidationError if invalid."""
    return TopicConfig.model_validate({**definition, "name": name, "channels": channels})


async def effective_config(config: Config, db: Database) -> Config:
    """``config`` with the console's topics and enabled users' channels added, and each
    topic routed to its subscribers' channels as well as its own. Given an effective
    config, it starts again from the file's part of it."""
    from rules import QuerySyntaxError, parse_query

    found = await console_definitions(db)
    console_names = {c.name for c in found.channels}
    channels = [c for c in config.channels if c.name not in console_names]
    for console_channel in found.channels:
        made = channel_config(config, console_channel)
        if made is not None:
            channels.append(made)
    usable = {c.name for c in channels}

    def routed(name: str, own: list[str]) -> list[str]:
        extra = [c for c in found.routes.get(name, []) if c in usable and c not in own]
        return [*own, *extra]

    own_topics = config.file_topics()
    topics = [t.model_copy(update={"channels": routed(t.name, t.channels)}) for t in own_topics]
    taken = {t.name for t in topics}
    for row in found.topics:
        if row.name in taken:
            continue
        try:
            topic = topic_config(row.name, row.definition, routed(row.name, []))
            parse_query(topic.query)
        except (ValidationError, QuerySyntaxError) as exc:
            # The console refuses both on save; a row changed behind its back is skipped.
            log.error("console topic skipped", topic=row.name, error=str(exc).splitlines()[0])
            continue
        topics.append(topic)
    merged = config.model_copy(update={"topics": topics, "channels": channels})
    merged._console_topics = {t.name for t in topics[len(own_topics) :]}
    return merged
