"""The database is who it says it is: an id written at creation, checked by every transaction.

A SQLite file deleted or replaced under a running daemon (a restore, a careless
``rm``, a second deployment pointed at the same path) would otherwise be
recreated or adopted silently: history gone, every item still in the feeds
alerted again. The file's device/inode pins SQLite to the file that was opened;
the ``instance`` row pins both backends to the database that was migrated.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError


class DatabaseIdentityError(Exception):
    """The database changed identity under the process; the message is safe to show."""


FileId = tuple[int, int]


def file_id(path: Path) -> FileId | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def ensure_instance(conn: Connection) -> tuple[str, bool]:
    """The database's id, creating it on a new database; True when it was created now.

    Reading first keeps a read-only database readable (``sources`` still works).
    """
    found = conn.execute(text("SELECT id FROM instance WHERE singleton = 1")).scalar()
    if found is not None:
        return str(found), False
    inserted = conn.execute(
        text(
            "INSERT INTO instance (singleton, id, created_at) "
            "VALUES (1, :id, CURRENT_TIMESTAMP) ON CONFLICT (singleton) DO NOTHING"
        ),
        {"id": str(uuid.uuid4())},
    ).rowcount
    found = conn.execute(text("SELECT id FROM instance WHERE singleton = 1")).scalar_one()
    return str(found), inserted == 1


def _missing_table(exc: DBAPIError) -> bool:
    message = str(exc.orig or exc).lower()
    return "instance" in message and ("no such table" in message or "does not exist" in message)


def check_identity(
    conn: Connection, instance_id: str, path: Path | None, opened: FileId | None
) -> None:
    """Raise DatabaseIdentityError unless ``conn`` is still the database that was opened."""
    if path is not None:
        now = file_id(path)
        if now is None:
            raise DatabaseIdentityError(
                f"database file {path} was deleted while tingfeng was running; "
                "writes stopped so history is not silently restarted"
            )
        if now != opened:
            raise DatabaseIdentityError(
                f"database file {path} was replaced by another file while tingfeng was "
                "running; writes stopped"
            )
    try:
        found = conn.execute(text("SELECT id FROM instance WHERE singleton = 1")).scalar()
    except DBAPIError as exc:
        # A database without the table is another database; any other error (a dropped
        # connection, a read-only server) is a storage failure, not a change of identity.
        if not _missing_table(exc):
            raise
        found = None
    if found != instance_id:
        raise DatabaseIdentityError(
            "the database is not the one tingfeng opened (instance id "
            f"{instance_id[:8]} expected, found {str(found)[:8] if found else 'none'}): "
            "it was replaced or recreated; writes stopped"
        )
