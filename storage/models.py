"""The tables. UTC everywhere; people see local time only when the CLI renders it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


def _utc() -> Any:
    """An optional UTC timestamp column."""
    return Field(default=None, sa_type=UTCDateTime, nullable=True)


class Source(SQLModel, table=True):
    """A configured source and its health, kept across restarts."""

    __tablename__ = "sources"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    kind: str
    url: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_run_at: datetime | None = _utc()
    last_success_at: datetime | None = _utc()
    last_error: str | None = Field(default=None, sa_type=Text)
    last_error_at: datetime | None = _utc()
    failures_in_row: int = 0
    last_article_count: int | None = None
    next_run_at: datetime | None = _utc()
    # Set when the operator was alerted about the current incident; cleared on recovery,
    # so one incident alerts once, not on every failed run.
    alerted_at: datetime | None = _utc()
    # Watcher memory between runs (WatchContext.state), e.g. {"last_issue": "2024-12-25"}.
    state: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    # Set while an admin has paused the source in the console: its runs are skipped.
    paused_at: datetime | None = _utc()


class HttpCache(SQLModel, table=True):
    """Validators for conditional GET, per URL (a source fetches many URLs)."""

    __tablename__ = "http_cache"

    url: str = Field(primary_key=True)
    etag: str | None = None
    last_modified: str | None = None
    checked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Article(SQLModel, table=True):
    """One article as one source carried it; near-duplicates share ``cluster_id``."""

    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_fetched", "fetched_at"),
        Index("ix_articles_place", "place"),  # 今日动态's place filter
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    url: str = Field(sa_type=Text)
    url_key: str = Field(unique=True, index=True)
    title: str = Field(default="", sa_type=Text)
    kicker: str = Field(default="", sa_type=Text)
    subtitle: str = Field(default="", sa_type=Text)
    author: str = Field(default="", sa_type=Text)
    text: str = Field(default="", sa_type=Text)
    place: str = ""
    page: str = ""
    kind: str = "article"
    published_at: datetime | None = _utc()
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    content_hash: str = Field(index=True)
    cluster_id: int | None = Field(default=None, index=True)
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Topic(SQLModel, table=True):
    __tablename__ = "topics"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    query: str = Field(sa_type=Text)


class Channel(SQLModel, table=True):
    """A delivery target; the secret URL lives only in config, never in the database."""

    __tablename__ = "channels"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    mode: str = "instant"
    # Email channels with several recipients: one delivery row per address, so one
    # refusing recipient never makes the others receive a message twice.
    recipients: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    # Set while an outage is open: the operator was told once; cleared on recovery.
    outage_alerted_at: datetime | None = _utc()


class Match(SQLModel, table=True):
    """An article matched a topic; hits say why."""

    __tablename__ = "matches"
    __table_args__ = (
        UniqueConstraint("article_id", "topic_id"),
        Index("ix_matches_created", "created_at"),
        # 今日动态 groups matches by cluster and orders stories by time from this index
        # alone (storage/news.py): no join with the wide articles table for a page.
        Index("ix_matches_story", "cluster_id", "story_at", "topic_id", "article_id"),
        Index("ix_matches_topic_story", "topic_id", "cluster_id", "story_at"),  # by topic
        Index("ix_matches_recent", "story_at", "cluster_id", "topic_id"),  # newest stories
    )

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="articles.id", index=True)
    topic_id: int = Field(foreign_key="topics.id", index=True)
    cluster_id: int = Field(index=True)
    hits: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The article's time as people see it (published, else fetched), copied here so
    # stories are listed newest first without reading the articles table.
    story_at: datetime | None = _utc()


class Delivery(SQLModel, table=True):
    """The outbox: one row per (cluster, topic, channel), sent at most once by its key.

    pending → claimed (lease) → sent, or failed (next_attempt_at) → dead after too
    many attempts or too long. Nothing leaves this table without a record of what
    happened.

    ``kind`` is "alert" (one match) or "digest" (one message for the alert rows that
    point at it through ``digest_id``; those wait as "batched" until it is sent).
    """

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    kind: str = Field(default="alert")
    match_id: int | None = Field(default=None, foreign_key="matches.id", index=True)
    channel_id: int = Field(foreign_key="channels.id", index=True)
    digest_id: int | None = Field(default=None, foreign_key="deliveries.id", index=True)
    status: str = Field(default="pending")
    attempts: int = 0
    # Parts of a split message already confirmed, so a retry resumes after them.
    parts_sent: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_until: datetime | None = _utc()
    # Who holds the claim: sending and recording happen only while this is still ours.
    claim_token: str | None = Field(default=None, index=True)
    # One address of a multi-recipient email channel ("" = the channel's whole URL).
    recipient: str = Field(default="", sa_column_kwargs={"server_default": ""})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = _utc()
    # Set once the operator has been told this row went dead.
    operator_alerted_at: datetime | None = _utc()
    # Set when a channel's recovery re-queued this dead row (that happens once per row).
    requeued_at: datetime | None = _utc()


class Instance(SQLModel, table=True):
    """The database's identity: one row, written when the database is created.

    Every transaction checks it (storage/identity.py), so a database that was
    replaced or recreated under a running daemon stops the writes instead of
    silently starting history again.
    """

    __tablename__ = "instance"

    singleton: int = Field(default=1, primary_key=True)
    id: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SourceRun(SQLModel, table=True):
    """Who runs a source this cycle, so several daemons on one PostgreSQL fetch it once.

    A run is claimed with a token and a lease (``claimed_until``), renewed while it
    lasts; its results are stored only while the claim is still its own (fencing).
    ``due_at`` is when the next cycle's run may be claimed.
    """

    __tablename__ = "source_runs"

    source_id: int = Field(foreign_key="sources.id", primary_key=True)
    due_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claim_token: str | None = None
    claimed_by: str | None = None
    claimed_until: datetime | None = _utc()


# Tables defined by feature packages register on the same metadata (for Alembic).
from storage import console_models as _console_models  # noqa: E402,F401
from storage.dedup import models as _dedup_models  # noqa: E402,F401
