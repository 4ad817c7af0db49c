"""Which cluster a new article joins, and who else carried a cluster.

A cluster's id is the id of its first article. A new article joins the cluster
of the earliest stored article it duplicates (exact content hash first, then
confirmed near-duplicates); clusters are never merged afterwards, because their
alerts may already have gone out under their ids.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.dedup.config import DedupConfig
from storage.dedup.index import earliest_duplicate, lookup
from storage.dedup.minhash import Sketch
from storage.models import Article, Source


async def find_cluster(
    session: AsyncSession, sketch: Sketch, cfg: DedupConfig
) -> tuple[int | None, bool]:
    """(cluster to join or None, whether it was an exact duplicate).

    One query finds both the exact twin and the near-duplicate candidates.
    """
    keys = sketch.band_keys if sketch.confirm.size else ()
    exact, found = await lookup(session, sketch.digest, keys, cfg.max_candidates)
    if exact is not None:
        return exact, True
    if not found:
        return None, False
    # Confirming re-cleans and re-shingles each candidate's stored text: CPU work that
    # must not run on the event loop (a huge article with many candidates takes long).
    earliest = await asyncio.to_thread(earliest_duplicate, sketch.confirm, found, cfg)
    return (earliest.cluster_id, False) if earliest is not None else (None, False)


async def cluster_sources(session: AsyncSession, cluster_id: int) -> list[str]:
    """Names of every source that carried the cluster, in order of first appearance."""
    rows = await session.exec(
        select(Source.name, func.min(Article.id))
        .join(Article, col(Article.source_id) == col(Source.id))
        .where(Article.cluster_id == cluster_id)
        .group_by(col(Source.name))
    )
    return [name for name, _ in sorted(rows, key=lambda row: row[1] or 0)]
