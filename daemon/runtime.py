"""Opening and closing what every command that touches data needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from daemon.config import Config
from daemon.errors import UserError
from storage.db import Database, StorageError

if TYPE_CHECKING:
    from daemon.pipeline import Pipeline


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


async def console_config(config: Config) -> Config:
    """The effective config (config.toml plus console definitions), for commands that
    read the database without a pipeline (``match --stored``)."""
    from daemon.console_config import effective_config

    async with open_database(config) as db:
        return await effective_config(config, db)


@asynccontextmanager
async def open_pipeline(config: Config) -> AsyncIterator[Pipeline]:
    """The whole pipeline on the effective config (config.toml plus what the console
    defined: see ``pipeline.config``); imported here so commands that only read the
    database stay quick."""
    from daemon.console_config import effective_config
    from daemon.pipeline import Pipeline
    from watchers.fetch import Fetcher

    async with open_database(config) as db, Fetcher(config.fetch) as fetcher:
        pipeline = Pipeline(await effective_config(config, db), db, fetcher)
        try:
            await pipeline.prepare()
        except DBAPIError as exc:
            reason = str(exc.orig or exc).splitlines()[0]
            raise UserError(f"storage.url: cannot record the config's sources: {reason}") from None
        yield pipeline
