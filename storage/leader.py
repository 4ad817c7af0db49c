"""One leader among the daemons sharing a PostgreSQL database, with takeover.

Digests are built by one instance only: the one holding a session-level advisory
lock on a connection of its own. When that instance dies its connection closes,
the lock is released, and the next instance to ask becomes the leader. With
SQLite (one instance by design) this instance always leads.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database

LEADER_LOCK = 0x7469_6E67_6C65_6164  # "tinglead"


class Leadership:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: AsyncConnection | None = None

    async def is_leader(self) -> bool:
        """True when this instance leads (taking the lead if it is free)."""
        if self.db.is_sqlite:
            return True
        try:
            if self._conn is not None:
                await self._conn.execute(text("SELECT 1"))
                return True
            conn = await self.db.engine.connect()
            won = (
                await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK})
            ).scalar()
            await conn.commit()
            if not won:
                await conn.close()
                return False
            self._conn = conn
            return True
        except (DBAPIError, OSError):
            await self.release()
            return False

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except (DBAPIError, OSError):
                await conn.invalidate()
