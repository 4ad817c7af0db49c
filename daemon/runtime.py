"""Opening and closing what every command that touches data needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from daemon.config import Config
from daemon.errors import UserError
from daemon.pipeline import Pipeline
from storage.db import Database, StorageError
from watchers.fetch import Fetcher


@asynccontextmanager
async def open_database(config: Config) -> AsyncIterator[Database]:
    """The migrated database; storage problems become one-line user errors."""
    try:
        db = Database(config.storage_url())
        await db.migrate()
    except StorageError as exc:
        raise UserError(str(exc)) from None
    try:
        yield db
    finally:
        await db.close()


@asynccontextmanager
async def open_pipeline(config: Config) -> AsyncIterator[Pipeline]:
    async with open_database(config) as db, Fetcher(config.fetch) as fetcher:
        pipeline = Pipeline(config, db, fetcher)
        await pipeline.prepare()
        yield pipeline
