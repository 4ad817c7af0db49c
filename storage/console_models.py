"""The web console's tables: accounts, sessions, and what staff define for themselves.

Config stays the truth for what an administrator wrote in ``config.toml``; these tables
hold what people change from the console (topics, their own channels, subscriptions),
so the daemon merges both into one effective configuration. Channel URLs typed in the
console carry tokens like the ones in config: they are stored here because there is
nowhere else, and no page, log or export ever shows them back in full.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class User(SQLModel, table=True):
    """A console account; ``role`` is "admin" or "staff"."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    password_hash: str
    role: str = "staff"
    disabled: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Secret in the URL of the user's RSS/Atom feeds; replacing it revokes old links.
    feed_token: str | None = Field(default=None, unique=True)
    # SHA-256 of the user's API token (the token itself is shown once, when made).
    api_token_hash: str | None = Field(default=None, unique=True)


class WebSession(SQLModel, table=True):
    """A logged-in browser. Only the token's SHA-256 is stored, so a leaked database
    cannot be replayed as a cookie."""

    __tablename__ = "web_sessions"

    token_hash: str = Field(primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    csrf_token: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    ip: str = ""


class LoginAttempt(SQLModel, table=True):
    """Every login try, so failures can be throttled per user name and per address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_user", "user_name", "at"),
        Index("ix_login_attempts_ip", "ip", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    user_name: str
    ip: str
    ok: bool = False


class ConsoleTopic(SQLModel, table=True):
    """A topic defined in the console. ``definition`` holds the same keys as a
    ``[[topics]]`` table of config.toml except ``name`` and ``channels`` (routing is by
    subscription). ``version`` grows with every save, so a save made from an older form
    is noticed (and still wins, with a notice)."""

    __tablename__ = "console_topics"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    definition: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    owner_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: int | None = Field(default=None, foreign_key="users.id")


class ConsoleChannel(SQLModel, table=True):
    """A delivery target a user owns: a chat bot / any Apprise URL, or an email address.

    ``name`` is the unique channel name the outbox uses (``user:<id>:<n>``); ``label`` is
    what the owner called it. ``settings`` holds ``[[channels]]`` keys other than
    ``name`` and ``url`` (mode, at, every, weekday, …).
    """

    __tablename__ = "console_channels"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    owner_id: int = Field(foreign_key="users.id", index=True)
    label: str = ""
    kind: str = "chat"  # "chat" (any Apprise URL) or "email" (an address)
    url: str = Field(sa_type=Text)
    settings: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Subscription(SQLModel, table=True):
    """A user follows a topic (by the catalog's topic row, so config and console topics
    alike), through one of their channels or, with no channel, in the console only."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "topic_id", "channel_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    topic_id: int = Field(foreign_key="topics.id", index=True)
    channel_id: int | None = Field(default=None, foreign_key="console_channels.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """Who changed what, when. Its newest id is also the console's generation: a daemon
    serving no console notices changes made by ``tingfeng web`` by watching it grow."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id")
    action: str
    target: str = Field(default="", sa_type=Text)
    detail: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
