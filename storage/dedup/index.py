"""Database side of near-duplicate search: band keys in, confirmed duplicates out.

Candidates are articles sharing at least one band key; each is confirmed by the
exact Jaccard or containment of its shingles, recomputed from its stored text.
Recomputing (a few candidates per new article, usually none) costs less than
storing every article's shingle set, which would triple the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.dedup.config import DedupConfig
from storage.dedup.minhash import text_shingles
from storage.dedup.models import DedupBand
from storage.dedup.shingles import clean_text
from storage.models import Article

_CHUNK = 400  # bound parameters per IN list, well below every backend's limit


@dataclass(frozen=True, slots=True)
class Similarity:
    jaccard: float
    containment: float


def similarity(a: frozenset[int], b: frozenset[int]) -> Similarity:
    """Exact Jaccard, and containment of the smaller set in the larger."""
    if not a or not b:
        return Similarity(0.0, 0.0)
    shared = len(a & b)
    return Similarity(shared / (len(a) + len(b) - shared), shared / min(len(a), len(b)))


def is_duplicate(sim: Similarity, cfg: DedupConfig) -> bool:
    return sim.jaccard >= cfg.jaccard or sim.containment >= cfg.containment


def add_band_keys(session: AsyncSession, article_id: int, keys: Sequence[int]) -> None:
    """Index an article under its band keys (duplicates within one sketch collapse)."""
    session.add_all(DedupBand(band_key=k, article_id=article_id) for k in sorted(set(keys)))


async def candidates(
    session: AsyncSession, keys: Sequence[int], limit: int
) -> list[tuple[int, int]]:
    """(article id, shared band count) for stored articles sharing a band key, best first."""
    counts: dict[int, int] = {}
    unique = sorted(set(keys))
    for start in range(0, len(unique), _CHUNK):
        rows = await session.exec(
            select(DedupBand.article_id, func.count())
            .where(col(DedupBand.band_key).in_(unique[start : start + _CHUNK]))
            .group_by(col(DedupBand.article_id))
        )
        for article_id, count in rows:
            counts[article_id] = counts.get(article_id, 0) + count
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:limit]


async def near_duplicates(
    session: AsyncSession, values: frozenset[int], keys: Sequence[int], cfg: DedupConfig
) -> list[tuple[Article, Similarity]]:
    """Stored articles confirmed as near-duplicates of a text with these shingles/keys."""
    if not values or not keys:
        return []
    found = await candidates(session, keys, cfg.max_candidates)
    if not found:
        return []
    rows = await session.exec(
        select(Article).where(col(Article.id).in_([article_id for article_id, _ in found]))
    )
    confirmed = []
    for article in rows:
        sim = similarity(values, text_shingles(clean_text(article.text), cfg))
        if is_duplicate(sim, cfg):
            confirmed.append((article, sim))
    return confirmed
