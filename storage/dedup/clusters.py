"""Which cluster a new article joins, and who else carried a cluster.

A cluster's id is the id of its first article. A new article joins the cluster
of the earliest stored article it duplicates (exact content hash first, then
confirmed near-duplicates); clusters are never merged afterwards, because their
alerts may already have gone out under their ids.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.dedup.config import DedupConfig
from storage.dedup.index import near_duplicates
from storage.dedup.minhash import Sketch
from storage.models import Article, Source


async def exact_cluster(session: AsyncSession, digest: str) -> int | None:
    """Cluster of the earliest article with this content hash."""
    if not digest:
        return None
    row = await session.exec(
        select(Article.cluster_id)
        .where(Article.content_hash == digest)
        .order_by(col(Article.id))
        .limit(1)
    )
    return row.first()


async def find_cluster(
    session: AsyncSession, sketch: Sketch, cfg: DedupConfig
) -> tuple[int | None, bool]:
    """(cluster to join or None, whether it was an exact duplicate)."""
    exact = await exact_cluster(session, sketch.digest)
    if exact is not None:
        return exact, True
    confirmed = await near_duplicates(session, sketch.shingles, sketch.band_keys, cfg)
    if not confirmed:
        return None, False
    earliest = min(confirmed, key=lambda pair: pair[0].id or 0)[0]
    return earliest.cluster_id or earliest.id, False


async def cluster_sources(session: AsyncSession, cluster_id: int) -> list[str]:
    """Names of every source that carried the cluster, in order of first appearance."""
    rows = await session.exec(
        select(Source.name, func.min(Article.id))
        .join(Article, col(Article.source_id) == col(Source.id))
        .where(Article.cluster_id == cluster_id)
        .group_by(col(Source.name))
    )
    return [name for name, _ in sorted(rows, key=lambda row: row[1])]
