"""Engine, sessions and schema migrations for SQLite (embedded) and PostgreSQL (scale)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.identity import FileId, check_identity, ensure_instance, file_id

MIGRATIONS = Path(__file__).parent / "migrations"
# pg_advisory_xact_lock key for schema migrations: instances started together on an
# empty database take turns instead of racing to create the same tables.
MIGRATION_LOCK = 0x7469_6E67_6D69_6772  # "tingmigr"


class StorageError(Exception):
    """The database cannot be opened or migrated; the message is safe to show."""


def async_url(url: str) -> str:
    """Map the user's URL to an async driver: ``sqlite:///x.db`` → ``sqlite+aiosqlite``."""
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers (CLI) work while the daemon writes; busy_timeout rides out
    # short lock contention instead of failing; SQLite ignores FKs unless asked.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 32 MiB of page cache (default 2 MiB): the upper levels of the dedup band index
    # alone exceed 2 MiB at a million articles, so every lookup re-read them.
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.close()


class Database:
    """One engine per process; sessions never expire objects on commit."""

    def __init__(self, url: str) -> None:
        self.url = async_url(url)
        self.path: Path | None = None
        if self.url.startswith("sqlite+aiosqlite:///"):
            path = self.url[len("sqlite+aiosqlite:///") :]
            if path and path != ":memory:":
                self.path = Path(path).resolve()
                self.path.parent.mkdir(parents=True, exist_ok=True)
        self.instance_id: str | None = None
        self.created = False
        self._file_id: FileId | None = None
        try:
            self.engine: AsyncEngine = create_async_engine(self.url, pool_pre_ping=True)
        except (ArgumentError, ImportError) as exc:
            raise StorageError(f"storage.url: cannot use {url.split('://')[0]!r}: {exc}") from None
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        # A session class of this database's own, so its identity check stays its own.
        checked: type[Session] = type("CheckedSession", (Session,), {})
        event.listen(checked, "after_begin", self._check_identity)
        self.sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False, sync_session_class=checked
        )
        self._write_lock = asyncio.Lock()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A session for a read-modify-write transaction.

        SQLite allows one writer; two deferred transactions that both upgrade to
        writing fail at once with "database is locked" instead of waiting, so this
        process's writers take turns. PostgreSQL needs no such lock.
        """
        if not self.is_sqlite:
            async with self.sessions() as session:
                yield session
            return
        async with self._write_lock, self.sessions() as session:
            yield session

    def _check_identity(
        self, _session: Session, _transaction: SessionTransaction, connection: Connection
    ) -> None:
        if self.instance_id is not None:
            check_identity(connection, self.instance_id, self.path, self._file_id)

    async def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent, safe at every start).

        On PostgreSQL the migration holds an advisory lock, so instances started
        at once on an empty database take turns; then the database's identity is
        read (or written, on a new database) for every later transaction to check.
        """
        try:
            async with self.engine.begin() as conn:
                if not self.is_sqlite:
                    await conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                    )
                await conn.run_sync(_upgrade)
                self.instance_id, self.created = await conn.run_sync(ensure_instance)
        except OSError as exc:
            raise StorageError(f"storage.url: cannot connect: {exc}") from None
        except DBAPIError as exc:
            reason = str(exc.orig or exc).splitlines()[0]
            raise StorageError(f"storage.url: cannot prepare the database: {reason}") from None
        if self.path is not None:
            self._file_id = file_id(self.path)

    async def close(self) -> None:
        await self.engine.dispose()


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _upgrade(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")
