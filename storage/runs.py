"""Per-cycle source run claims, so several daemons on one PostgreSQL fetch a source once.

Every instance schedules every source; when a source's job fires, the instance
claims the source's row in ``source_runs`` (``FOR UPDATE SKIP LOCKED``, a token
and a lease) and runs it only if the row is due and not claimed by a live lease.
The run's results are stored only while the claim is still its own (fencing):
an instance that stalled past its lease cannot overwrite the run that took over.
SQLite is single-instance by design and runs without claims.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.models import SourceRun
from storage.types import utcnow

OWNER = f"{socket.gethostname()}:{os.getpid()}"


class ClaimLost(Exception):
    """The run's lease ran out and another instance took the source over."""


@dataclass(frozen=True, slots=True)
class RunClaim:
    """This instance's claim on one run of one source."""

    source_id: int
    token: str


async def claim_run(db: Database, source_id: int, lease: float) -> RunClaim | None:
    """Claim this cycle's run of a source, or None when another instance has it or ran it."""
    now = utcnow()
    async with db.writing() as session:
        connection = await session.connection()
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        await connection.execute(
            insert(SourceRun)
            .values(source_id=source_id, due_at=now)
            .on_conflict_do_nothing(index_elements=["source_id"])
        )
        found = await session.exec(
            select(SourceRun)
            .where(SourceRun.source_id == source_id)
            .with_for_update(skip_locked=True)
        )
        row = found.first()
        if row is None or row.due_at > now:
            await session.rollback()
            return None
        if row.claim_token is not None and row.claimed_until and row.claimed_until > now:
            await session.rollback()
            return None
        claim = RunClaim(source_id, str(uuid.uuid4()))
        row.claim_token, row.claimed_by = claim.token, OWNER
        row.claimed_until = now + timedelta(seconds=lease)
        session.add(row)
        await session.commit()
    return claim


def _own(claim: RunClaim):  # type: ignore[no-untyped-def]
    return update(SourceRun).where(
        col(SourceRun.source_id) == claim.source_id, col(SourceRun.claim_token) == claim.token
    )


async def renew_run(db: Database, claim: RunClaim, lease: float) -> bool:
    """Extend the lease of a run still in progress; False when the claim was taken over."""
    async with db.writing() as session:
        connection = await session.connection()
        result = await connection.execute(
            _own(claim).values(claimed_until=utcnow() + timedelta(seconds=lease))
        )
        await session.commit()
    return bool(result.rowcount)


async def finish_run(session: AsyncSession, claim: RunClaim, next_due: datetime) -> bool:
    """Within the run's storing transaction: release the claim and set the next cycle.

    False means the claim is no longer this run's (its lease ran out and another
    instance took the source over): the caller must roll back what it stored.
    """
    connection = await session.connection()
    result = await connection.execute(
        _own(claim).values(claim_token=None, claimed_by=None, claimed_until=None, due_at=next_due)
    )
    return bool(result.rowcount)
