"""Dedup check per new article against synthetic SQLite stores of growing size.

    python bench/bench_dedup.py [--sizes 100000,1000000] [--queries 300]

For each size the store is filled fast with raw sqlite3: article rows carrying
real synthetic texts (from a pool), and for each article 40 band keys drawn at
random, which is what the keys of distinct stories look like to the index. A few
hundred real stories are then stored through ``store_articles`` so duplicates
exist. Timed through the real code path (async SQLAlchemy session, migrations
applied): new stories and copies of stored ones, each sketched (CPU) and looked
up (exact hash, band keys, confirmation). The baseline in the same run is the
exact-hash lookup alone, the check tingfeng did before near-duplicate search.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage.articles import store_articles
from storage.db import Database
from storage.dedup.clusters import find_cluster
from storage.dedup.config import DedupConfig
from storage.dedup.index import lookup
from storage.dedup.minhash import sketch
from storage.models import Source
from tests.dedup_corpus import Corpus
from watchers.article import ArticleDraft

KEYS_PER_ARTICLE = DedupConfig().bands + DedupConfig().lead_bands


def fill(path: Path, size: int, pool: list[tuple[str, str]]) -> float:
    """Bulk-insert ``size`` articles and their band keys; returns seconds taken."""
    started = time.perf_counter()
    rng = random.Random(size)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    conn.execute(
        "INSERT INTO sources (id, name, kind, url, created_at, failures_in_row)"
        " VALUES (1, 'filler', 'feed', 'http://filler/', '2024-05-20 00:00:00', 0)"
    )
    chunk = 20_000
    for start in range(1, size + 1, chunk):
        ids = range(start, min(start + chunk, size + 1))
        articles = []
        for i in ids:
            title, text = pool[i % len(pool)]
            digest = hashlib.sha1(str(i).encode()).hexdigest()
            articles.append(
                (i, f"http://filler/{i}", digest, title, text, "2024-05-20 00:00:00", digest, i)
            )
        conn.executemany(
            "INSERT INTO articles (id, source_id, url, url_key, title, kicker, subtitle, author,"
            " text, place, page, kind, fetched_at, content_hash, cluster_id, extra)"
            " VALUES (?, 1, ?, ?, ?, '', '', '', ?, '', '', 'article', ?, ?, ?, '{}')",
            articles,
        )
        bands = sorted(
            (rng.getrandbits(64) - 2**63, i) for i in ids for _ in range(KEYS_PER_ARTICLE)
        )
        conn.executemany("INSERT INTO dedup_bands (band_key, article_id) VALUES (?, ?)", bands)
        conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    return time.perf_counter() - started


def table_bytes(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError:
        rows = []
    conn.close()
    return dict(rows)


async def measure(path: Path, queries: int, cfg: DedupConfig, plant: bool) -> dict[str, float]:
    corpus = Corpus(99)
    planted = [corpus.story() for _ in range(queries // 2)]
    db = Database(f"sqlite:///{path}")
    await db.migrate()
    async with db.writing() as session:
        if not plant:  # a kept store: the same stories were planted when it was filled
            source = None
        else:
            source = Source(name="planted", kind="feed", url="http://planted/")
            session.add(source)
            await session.flush()
            drafts = [
                ArticleDraft(url=f"http://planted/{i}", title=s.title, text=s.text)
                for i, s in enumerate(planted)
            ]
            await store_articles(session, source, drafts, cfg)
            await session.commit()
    new = [corpus.exact(corpus.story()) for _ in range(queries - len(planted))]
    copies = [corpus.edited(s) if i % 2 else corpus.trimmed(s) for i, s in enumerate(planted)]
    articles = new + copies
    timings: dict[str, list[float]] = {"sketch": [], "lookup": [], "baseline": [], "new": []}
    found = 0
    async with db.session() as session:
        for n, (title, text) in enumerate(articles):
            t0 = time.perf_counter()
            sk = sketch(title, text, cfg)
            t1 = time.perf_counter()
            cluster, _ = await find_cluster(session, sk, cfg)
            t2 = time.perf_counter()
            await lookup(session, sk.digest, (), 0)  # the exact-hash half of find_cluster
            t3 = time.perf_counter()
            found += cluster is not None
            timings["sketch"].append(t1 - t0)
            timings["lookup"].append(t2 - t1)
            if n < len(new):
                timings["new"].append(t2 - t1)
            timings["baseline"].append(t3 - t2)
    await db.close()
    out = {f"{k}_ms": statistics.mean(v) * 1000 for k, v in timings.items()}
    out["lookup_p95_ms"] = sorted(timings["lookup"])[int(len(articles) * 0.95)] * 1000
    out["found_copies"] = found / len(copies)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--dir", default=None, help="where to build the stores (default: temp)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the stores and reuse them in the next run"
    )
    args = parser.parse_args()
    cfg = DedupConfig()
    corpus = Corpus(1)
    pool = [corpus.exact(corpus.story()) for _ in range(2000)]
    folder = Path(args.dir or tempfile.mkdtemp(prefix="tingfeng-bench-"))
    print(
        f"{'articles':>10} {'fill s':>7} {'db MB':>8} {'bands MB':>9} {'B/art':>6}"
        f" {'sketch':>7} {'lookup':>7} {'p95':>7} {'new':>7} {'total':>7} {'hash-only':>9}"
        f" {'ratio':>6} {'found':>6}  (ms per article; ratio = total / hash-only)"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        path = folder / f"bench-{size}.db"
        fill_s = 0.0
        fresh = not (args.keep and path.exists())
        if path.exists() and not args.keep:
            path.unlink()
        if not path.exists():
            db = Database(f"sqlite:///{path}")
            await db.migrate()
            await db.close()
            fill_s = fill(path, size, pool)
        sizes = table_bytes(path)
        result = await measure(path, args.queries, cfg, fresh)
        bands = sizes.get("dedup_bands", 0)
        total = path.stat().st_size
        r = result
        total_ms = r["sketch_ms"] + r["lookup_ms"]
        print(
            f"{size:>10} {fill_s:>7.0f} {total / 1e6:>8.0f} {bands / 1e6:>9.0f}"
            f" {bands / size:>6.0f} {r['sketch_ms']:>7.2f} {r['lookup_ms']:>7.2f}"
            f" {r['lookup_p95_ms']:>7.2f} {r['new_ms']:>7.2f}"
            f" {total_ms:>7.2f} {r['baseline_ms']:>9.2f}"
            f" {total_ms / r['baseline_ms']:>6.1f} {r['found_copies']:>6.2f}",
            flush=True,
        )
        if not args.keep:
            path.unlink()


if __name__ == "__main__":
    asyncio.run(main())
