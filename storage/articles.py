"""Writing articles, matches and outbox rows; reading what is already known.

A source's new articles, their matches and the deliveries they cause are written
in one transaction, so a crash or shutdown never leaves an article stored
without its alerts owed (or alerts owed for an article that was rolled back).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.canonical import url_key
from storage.db import Database
from storage.dedup.clusters import find_cluster
from storage.dedup.config import DedupConfig
from storage.dedup.index import add_band_keys
from storage.dedup.joins import StoredHead, join_continuations, join_text, page_order
from storage.dedup.minhash import Sketch, sketch
from storage.deliveries import owe
from storage.models import Article, Channel, Match, Source, Topic
from watchers.article import ArticleDraft


async def known_url_keys(session: AsyncSession, urls: Iterable[str]) -> set[str]:
    """The URLs among ``urls`` whose canonical form is already stored."""
    by_key = {url_key(url): url for url in urls}
    found: set[str] = set()
    keys = list(by_key)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = await session.exec(select(Article.url_key).where(col(Article.url_key).in_(chunk)))
        found.update(by_key[key] for key in rows)
    return found


class KnownUrls:
    """One source run's "is this URL stored?" answers: each URL is looked up once per run.

    The watcher asks before fetching article pages and the pipeline asks again before
    matching; the second question costs nothing for URLs the first already answered.
    ``store_articles`` still checks inside its transaction, against other writers.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._answers: dict[str, bool] = {}

    async def __call__(self, urls: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(urls))
        ask = [url for url in wanted if url not in self._answers]
        if ask:
            async with self.db.session() as session:
                found = await known_url_keys(session, ask)
            self._answers.update((url, url in found) for url in ask)
        return {url for url in wanted if self._answers[url]}


_RECENT_HEADS = 200  # a continued part arrives with the same edition, so recent rows suffice


def sketch_drafts(drafts: Sequence[ArticleDraft], cfg: DedupConfig) -> list[Sketch]:
    """Dedup sketches of drafts (CPU-bound: the pipeline runs this in a worker thread)."""
    return [sketch(d.title, d.text, cfg) for d in drafts]


async def join_parts(
    session: AsyncSession, source: Source, drafts: list[ArticleDraft]
) -> dict[str, str]:
    """Join a run's continued parts into their heads, in the batch or stored by earlier runs.

    The one joining step of a run (see ``storage.dedup.joins``); pass what it returns
    to ``store_articles``, which extends the stored heads.
    """
    stored: list[StoredHead] = []
    if any(d.continued_from for d in drafts):
        rows = await session.exec(
            select(Article)
            .where(Article.source_id == source.id)
            .order_by(col(Article.id).desc())
            .limit(_RECENT_HEADS)
        )
        stored = [
            StoredHead(
                url=a.url,
                title=a.title,
                page=a.page,
                continued_to=a.extra["continued_to"],
                root=a.extra.get("continuation_of") or a.url,
            )
            for a in rows
            if a.extra.get("continued_to") and not a.extra.get("parts")
        ]
    return join_continuations(drafts, stored)


async def _by_url(session: AsyncSession, url: str) -> Article | None:
    found = await session.exec(select(Article).where(Article.url_key == url_key(url)))
    return found.first()


def _add_part(article: Article, part_url: str) -> None:
    article.extra = {**article.extra, "parts": [*article.extra.get("parts", []), part_url]}


async def _extend_stored(
    session: AsyncSession, root: Article, part: ArticleDraft, head_url: str
) -> None:
    """Append a part to the stored article it continues; its head is then no longer open."""
    root.text = join_text(root.text, part.text)
    _add_part(root, part.url)
    if head_url and url_key(head_url) != root.url_key:
        head = await _by_url(session, head_url)
        if head is not None:
            _add_part(head, part.url)
            session.add(head)
    session.add(root)


CLUSTER_LOCKS = 64
"""Advisory lock slots (PostgreSQL) the dedup band space is folded into: an instance
storing a batch holds the slots of its articles' bands until it commits, so two
instances storing copies of one story never both open a new cluster for it."""
_CLUSTER_LOCK_CLASS = 0x7466  # "tf": the first key of pg_advisory_xact_lock(int, int)


async def _lock_clusters(session: AsyncSession, sketches: Sequence[Sketch]) -> None:
    """Serialise cluster choice with other instances storing near-duplicates (PostgreSQL).

    Slots are taken in one sorted statement, so two batches never deadlock. SQLite
    needs nothing: it has one writer at a time.
    """
    if _dialect(session) != "postgresql" or not sketches:
        return
    slots = sorted(
        {k % CLUSTER_LOCKS for s in sketches for k in s.band_keys}
        | {int(s.digest[:15], 16) % CLUSTER_LOCKS for s in sketches if s.digest}
    )
    connection = await session.connection()
    await connection.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(:cls, slot)) FROM "
            "(SELECT unnest(CAST(:slots AS integer[])) AS slot ORDER BY 1) AS s"
        ),
        {"cls": _CLUSTER_LOCK_CLASS, "slots": slots},
    )


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def _insert_new(session: AsyncSession, article: Article) -> Article | None:
    """Insert unless the URL is already stored (``ON CONFLICT DO NOTHING``).

    Two daemons on one database may fetch the same story at once; the second
    insert is skipped instead of failing the whole source run with an
    IntegrityError.
    """
    values = article.model_dump(exclude={"id"})
    dialect_insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(Article)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["url_key"])
        .returning(col(Article.id))
    )
    connection = await session.connection()
    new_id = (await connection.execute(statement)).scalar_one_or_none()
    if new_id is None:
        return None
    return await session.get(Article, new_id)


async def store_articles(
    session: AsyncSession,
    source: Source,
    drafts: Sequence[ArticleDraft],
    cfg: DedupConfig | None = None,
    sketches: Sequence[Sketch] | None = None,
    joined_to_stored: dict[str, str] | None = None,
) -> list[Article | None]:
    """Insert drafts not yet stored; returns the new Article per draft (None if known).

    Each new article joins a cluster: a continued part its head's, otherwise the
    earliest article with the same content hash, otherwise the earliest confirmed
    near-duplicate, otherwise a new cluster of its own. ``sketches`` (one per
    draft) lets the caller compute them off the event loop. Parts must have been
    joined first (``join_parts``): they carry ``continuation_of``, and
    ``joined_to_stored`` (what ``join_parts`` returned) names the stored heads whose
    rows a part extends.
    """
    cfg = cfg or DedupConfig()
    sketches = list(sketches) if sketches is not None else sketch_drafts(drafts, cfg)
    joined = joined_to_stored or {}
    known = await known_url_keys(session, (d.url for d in drafts))
    out: list[Article | None] = [None] * len(drafts)
    stored: dict[str, Article] = {}
    # Heads before their parts, front pages first, so a part finds its head's cluster.
    order = sorted(
        range(len(drafts)),
        key=lambda i: (
            bool(drafts[i].continuation_of),
            page_order(drafts[i].continued_from),
        ),
    )
    await _lock_clusters(session, [sketches[i] for i in order if drafts[i].url not in known])
    for i in order:
        draft, draft_sketch = drafts[i], sketches[i]
        key = url_key(draft.url)
        if draft.url in known or key in stored:
            continue
        index_it = False
        root: Article | None = None
        if root_url := draft.continuation_of:
            root = stored.get(url_key(root_url)) or await _by_url(session, root_url)
            cluster_id = root.cluster_id if root is not None else None
        else:
            cluster_id, exact = await find_cluster(session, draft_sketch, cfg)
            index_it = not exact
        article = Article(
            source_id=source.id or 0,
            url=draft.url,
            url_key=key,
            title=draft.title,
            kicker=draft.kicker,
            subtitle=draft.subtitle,
            author=draft.author,
            text=draft.text,
            place=draft.place,
            page=draft.page,
            kind=draft.kind,
            published_at=draft.published,
            content_hash=draft_sketch.digest,
            cluster_id=cluster_id,
            extra=draft.stored_extra(),
        )
        inserted = await _insert_new(session, article)
        if inserted is None:
            continue  # another daemon stored this URL after we looked
        article = inserted
        if root is not None and url_key(root.url) not in stored:
            await _extend_stored(session, root, draft, joined.get(draft.url, ""))
        if article.cluster_id is None:
            article.cluster_id = article.id
        if index_it:
            add_band_keys(session, article.id or 0, draft_sketch.band_keys)
        stored[key] = article
        out[i] = article
    return out


_MATCH_CHUNK = 1000


async def _insert_matches(session: AsyncSession, rows: Sequence[Match]) -> None:
    """Insert matches in bulk (one executemany per chunk), giving each its id.

    Thousands of overlapping topics can match one run thousands of times; a flush
    per match kept one SQLite transaction open for minutes.
    """
    connection = await session.connection()
    statement = insert(Match).returning(col(Match.id), sort_by_parameter_order=True)
    for start in range(0, len(rows), _MATCH_CHUNK):
        chunk = rows[start : start + _MATCH_CHUNK]
        result = await connection.execute(statement, [m.model_dump(exclude={"id"}) for m in chunk])
        for match, new_id in zip(chunk, result.scalars().all(), strict=True):
            match.id = new_id


async def new_matches(
    session: AsyncSession, matches: Sequence[tuple[Article, str, list[list[object]]]]
) -> list[tuple[Article, str, list[list[object]]]]:
    """The (article, topic, hits) of ``matches`` not recorded yet: a backfill re-reads
    articles a topic may already have matched (under its old query, or an earlier run)."""
    topic_ids = {t.name: t.id for t in await session.exec(select(Topic))}
    article_ids = sorted({a.id or 0 for a, _, _ in matches})
    known: set[tuple[int, int]] = set()
    for start in range(0, len(article_ids), _MATCH_CHUNK):
        rows = await session.exec(
            select(Match.article_id, Match.topic_id).where(
                col(Match.article_id).in_(article_ids[start : start + _MATCH_CHUNK])
            )
        )
        known.update((a, t) for a, t in rows)
    return [m for m in matches if (m[0].id or 0, topic_ids.get(m[1]) or 0) not in known]


async def store_matches(
    session: AsyncSession,
    matches: Sequence[tuple[Article, str, list[list[object]]]],
    topic_channels: dict[str, list[str]],
) -> int:
    """Record matches and owe one delivery per (cluster, topic, channel); returns rows owed.

    The delivery key makes a cluster alert once per topic and channel, whichever of
    its copies matched first.
    """
    topics = {t.name: t for t in await session.exec(select(Topic))}
    channels = {c.name: c for c in await session.exec(select(Channel))}
    rows = [
        Match(
            article_id=article.id or 0,
            topic_id=topics[topic_name].id or 0,
            cluster_id=article.cluster_id or article.id or 0,
            hits=hits,
            story_at=article.published_at or article.fetched_at,
        )
        for article, topic_name, hits in matches
    ]
    await _insert_matches(session, rows)
    owed = 0
    for (_article, topic_name, _hits), match in zip(matches, rows, strict=True):
        topic = topics[topic_name]
        targets = [channels[name] for name in topic_channels.get(topic_name, [])]
        owed += await owe(session, match, topic.id or 0, targets)
    await session.flush()
    return owed
