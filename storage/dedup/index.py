"""Database side of near-duplicate search: band keys in, confirmed duplicates out.

Candidates are articles sharing at least one band key; each is confirmed by the
exact Jaccard or containment of its shingles, recomputed from its stored text.
Recomputing (a few candidates per new article, usually none) costs less than
storing every article's shingle set, which would triple the database.

The whole check is one query (:func:`lookup`): the earliest article with the
same content hash, and the best candidates by shared band keys with their
texts. On SQLite it goes straight to the aiosqlite connection of the session
(one thread hop instead of the four a SQLAlchemy statement costs, and no
statement compilation); other backends run the same SQL through the session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import bindparam, text
from sqlalchemy.sql.elements import TextClause
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.dedup.config import DedupConfig
from storage.dedup.minhash import confirm_array
from storage.dedup.models import DedupBand
from storage.dedup.shingles import clean_text

# Dialects whose driver connection is queried directly (see the module docstring).
FAST_DIALECTS = {"sqlite"}


@dataclass(frozen=True, slots=True)
class Similarity:
    jaccard: float
    containment: float


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored article sharing band keys with a new one."""

    id: int
    cluster_id: int
    text: str
    shared: int


def similarity(a: frozenset[int], b: frozenset[int]) -> Similarity:
    """Exact Jaccard, and containment of the smaller set in the larger."""
    if not a or not b:
        return Similarity(0.0, 0.0)
    return _ratios(len(a & b), len(a), len(b))


def array_similarity(a: np.ndarray, b: np.ndarray) -> Similarity:
    """:func:`similarity` of two sorted unique hash arrays (``confirm_array``)."""
    if not a.size or not b.size:
        return Similarity(0.0, 0.0)
    if a.size > b.size:
        a, b = b, a
    at = np.searchsorted(b, a)
    at[at == b.size] = 0
    return _ratios(int(np.count_nonzero(b[at] == a)), a.size, b.size)


def _ratios(shared: int, a: int, b: int) -> Similarity:
    return Similarity(shared / (a + b - shared), shared / min(a, b))


def is_duplicate(sim: Similarity, cfg: DedupConfig) -> bool:
    return sim.jaccard >= cfg.jaccard or sim.containment >= cfg.containment


def add_band_keys(session: AsyncSession, article_id: int, keys: Sequence[int]) -> None:
    """Index an article under its band keys (duplicates within one sketch collapse)."""
    session.add_all(DedupBand(band_key=k, article_id=article_id) for k in sorted(set(keys)))


_EXACT = (
    "SELECT * FROM (SELECT 0 AS part, id, cluster_id, '' AS text, 0 AS shared FROM articles"
    " WHERE content_hash = {digest} ORDER BY id LIMIT 1) AS exact"
)
_NEAR = (
    "SELECT 1 AS part, a.id, a.cluster_id, a.text, c.shared FROM"
    " (SELECT article_id, count(*) AS shared FROM dedup_bands WHERE band_key IN {keys}"
    " GROUP BY article_id ORDER BY shared DESC, article_id LIMIT {limit}) AS c"
    " JOIN articles AS a ON a.id = c.article_id"
)


@lru_cache(maxsize=64)
def _sqlite_sql(exact: bool, keys: int) -> str:
    parts = [_EXACT.format(digest="?")] if exact else []
    if keys:
        parts.append(_NEAR.format(keys="(" + ",".join("?" * keys) + ")", limit="?"))
    return " UNION ALL ".join(parts)


@lru_cache(maxsize=4)
def _portable_sql(exact: bool, near: bool) -> TextClause:
    parts = [_EXACT.format(digest=":digest")] if exact else []
    if near:
        # An expanding parameter renders its own parentheses.
        parts.append(_NEAR.format(keys=":keys", limit=":limit"))
    statement = text(" UNION ALL ".join(parts))
    return statement.bindparams(bindparam("keys", expanding=True)) if near else statement


async def _rows(session: AsyncSession, digest: str, keys: list[int], limit: int) -> Sequence[Any]:
    # Our own query bypasses autoflush: articles and band keys added earlier in
    # this transaction must be visible to it.
    await session.flush()
    connection = await session.connection()
    if connection.dialect.name in FAST_DIALECTS:
        raw = await connection.get_raw_connection()
        params: list[Any] = [digest] if digest else []
        if keys:
            params += [*keys, limit]
        driver: Any = raw.driver_connection
        return list(await driver.execute_fetchall(_sqlite_sql(bool(digest), len(keys)), params))
    named: dict[str, Any] = {"digest": digest, "keys": keys, "limit": limit}
    result = await connection.execute(_portable_sql(bool(digest), bool(keys)), named)
    return result.all()


async def lookup(
    session: AsyncSession, digest: str, keys: Sequence[int], limit: int
) -> tuple[int | None, list[Candidate]]:
    """(cluster of the earliest article with this content hash, best candidates).

    Candidates are the ``limit`` stored articles sharing the most band keys.
    """
    unique = sorted(set(keys))
    if not digest and not unique:
        return None, []
    exact: int | None = None
    found: list[Candidate] = []
    for part, article_id, cluster_id, body, shared in await _rows(session, digest, unique, limit):
        if part == 0:
            exact = cluster_id or article_id
        else:
            found.append(Candidate(article_id, cluster_id or article_id, body or "", shared))
    return exact, found


def earliest_duplicate(
    values: np.ndarray, found: Sequence[Candidate], cfg: DedupConfig
) -> Candidate | None:
    """The earliest candidate whose text is confirmed as a near-duplicate.

    Candidates are confirmed in id order and the first confirmed one wins, so
    later candidates are not even re-shingled.
    """
    if not values.size:
        return None
    for candidate in sorted(found, key=lambda c: c.id):
        other = confirm_array(clean_text(candidate.text), cfg)
        if is_duplicate(array_similarity(values, other), cfg):
            return candidate
    return None
