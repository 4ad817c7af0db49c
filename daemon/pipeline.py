"""One source run: watch → store → match → owe alerts, then deliver what is due.

Each source's new articles, matches and owed deliveries commit together; a
source that fails records its error and costs the others nothing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar

import structlog
from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession

from daemon.config import Config
from daemon.notify.channels import recipients
from daemon.notify.operator import alert_operator
from daemon.notify.outbox import DeliveryReport, Outbox
from daemon.redaction import display_text, display_url
from daemon.silence import (
    HISTORY_DAYS,
    due_retries,
    empty_run_reason,
    silence,
    update_retries,
)
from rules import Document, Hit, TopicRule
from rules.cache import compile_cached
from rules.normalize import normalize
from storage.articles import (
    KnownUrls,
    join_parts,
    sketch_drafts,
    store_articles,
    store_matches,
)
from storage.catalog import (
    RunValidators,
    changed_topics,
    is_paused,
    record_alerted,
    record_failure,
    record_success,
    sync_catalog,
)
from storage.db import Database
from storage.history import article_days, last_article_at
from storage.identity import DatabaseIdentityError
from storage.models import Article, Source
from storage.runs import ClaimLost, RunClaim, claim_run, finish_run, renew_run
from storage.types import utcnow
from watchers.article import ArticleDraft
from watchers.base import NoArticlesError, WatchContext, WatchError
from watchers.fetch import Fetcher, FetchError
from watchers.registry import watcher_for
from watchers.settings import SourceConfig

log = structlog.get_logger("tingfeng.pipeline")
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(slots=True)
class SourceReport:
    name: str
    new: int = 0
    matched: int = 0
    owed: int = 0
    error: str | None = None
    skipped: int = 0
    retry_at: datetime | None = None
    # Another instance has this cycle's run (several daemons on one PostgreSQL).
    elsewhere: bool = False
    # An admin paused the source in the console: the run was skipped.
    paused: bool = False
    # The database refused the run's writes (read-only, unreachable): not a source problem.
    storage_failed: bool = False
    # New articles matched in this run, and how many of them each topic matched.
    matched_articles: int = 0
    topic_counts: Counter[str] = field(default_factory=Counter)


def first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:500]


def backoff_delay(spec: SourceConfig, failures: int, retry_after: float | None) -> float:
    """Seconds until a failing source is tried again.

    The interval doubles per failure in a row, capped at ``max_backoff`` (or the
    interval itself when that is longer), so a broken source costs the site little
    but is never given up on; a server's Retry-After is always honoured.
    """
    cap = max(spec.max_backoff, spec.interval)
    delay = min(cap, spec.interval * 2 ** min(max(failures - 1, 0), 30))
    return max(delay, retry_after or 0.0)


MAX_STORED_HITS = 50
"""Hits kept per match: enough to show why it matched; a word repeated 10,000 times
in a long text need not be stored 10,000 times."""
BROAD_SHARE = 0.3
BROAD_MIN_ARTICLES = 20
"""A topic matching more than BROAD_SHARE of a run's new articles (runs of at least
BROAD_MIN_ARTICLES) is flagged to the operator: it is almost certainly too broad."""


def combined_hits(title: str, hits: Iterable[Hit]) -> list[list[object]]:
    """Hit spans as stored and shown: ``[start, end, term]`` into ``combined_text``."""
    title_len = len(normalize(title))
    return [[*h.combined_span(title_len), h.term] for h in list(hits)[:MAX_STORED_HITS]]


def cap_article_text(drafts: Iterable[ArticleDraft], max_chars: int) -> int:
    """Cut over-long texts to ``max_chars``, recording the original length; returns how many."""
    cut = 0
    for draft in drafts:
        if len(draft.text) > max_chars:
            draft.truncated_from = len(draft.text)
            draft.text = draft.text[:max_chars]
            cut += 1
    return cut


def topic_rules(config: Config) -> list[TopicRule]:
    return [
        TopicRule(
            name=t.name,
            query=t.query,
            mode=t.mode,
            places=tuple(t.places),
            sources=tuple(t.sources),
            min_hits=t.min_hits,
            fields=tuple(t.fields),
        )
        for t in config.topics
    ]


async def run_cpu(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """CPU-heavy work (parsing, jieba) off the event loop."""
    return await asyncio.to_thread(func, *args, **kwargs)


class Pipeline:
    def __init__(self, config: Config, db: Database, fetcher: Fetcher) -> None:
        self.config = config
        self.db = db
        self.fetcher = fetcher
        self.matcher = compile_cached(topic_rules(config))
        self.topic_channels = {t.name: list(t.channels) for t in config.topics}
        self.sources: dict[str, Source] = {}
        self.outbox = Outbox(db, config)
        # The storage failure being lived through, if any: logged and alerted once.
        self.storage_incident: str | None = None
        self._claims: dict[str, RunClaim] = {}
        self._flagged_broad: set[str] = set()

    async def prepare(self) -> None:
        """Mirror config into the database (sources, topics, channels), then backfill
        the topics that are new or changed and ask for it."""
        wanted = [(t.name, t.query) for t in self.config.topics if t.backfill]
        async with self.db.writing() as session:
            changed = set(await changed_topics(session, wanted))
            self.sources = await sync_catalog(
                session,
                ((s.name, s.kind, display_url(s.url)) for s in self.config.sources),
                ((t.name, t.query) for t in self.config.topics),
                ((c.name, c.mode, recipients(c)) for c in self.config.channels),
            )
            await session.commit()
        # here, not at the top: daemon.backfill reuses this module's matching helpers
        from daemon.backfill import backfill

        for topic in self.config.topics:
            if topic.name in changed and topic.backfill:
                since = utcnow() - timedelta(seconds=topic.backfill)
                await backfill(self.db, self.config, [topic], since)

    async def reload(self, config: Config) -> None:
        """Switch to an edited config: the matcher recompiles off the loop, catalog resyncs."""
        matcher = await run_cpu(compile_cached, topic_rules(config))
        kept = self.config, self.matcher, self.topic_channels
        self.config = config
        self.matcher = matcher
        self.topic_channels = {t.name: list(t.channels) for t in config.topics}
        try:
            await self.prepare()
        except BaseException:
            self.config, self.matcher, self.topic_channels = kept
            raise
        self.outbox.reconfigure(config)

    async def run_claimed(self, spec: SourceConfig, next_run: datetime | None) -> SourceReport:
        """Run a source unless another instance has this cycle's run (storage/runs.py).

        The daemon's jobs come here (a paused source's run is skipped); ``once`` runs
        every source regardless of claims. The claim's lease is renewed while the run
        lasts. SQLite is single-instance by design, so it runs without claims.
        """
        if await is_paused(self.db, spec.name):
            return SourceReport(spec.name, paused=True)
        if self.db.is_sqlite:
            return await self.run_source(spec, next_run)
        source = self.sources[spec.name]
        lease = self.config.daemon.run_lease
        claim = await claim_run(self.db, source.id or 0, lease)
        if claim is None:
            return SourceReport(spec.name, elsewhere=True)
        self._claims[spec.name] = claim
        renewing = asyncio.create_task(self._renew(claim, lease))
        try:
            return await self.run_source(spec, next_run)
        finally:
            renewing.cancel()
            self._claims.pop(spec.name, None)

    async def _renew(self, claim: RunClaim, lease: float) -> None:
        while True:
            await asyncio.sleep(lease / 3)
            try:
                if not await renew_run(self.db, claim, lease):
                    return
            except (DBAPIError, OSError):
                continue  # the storing transaction will find out, and fence itself

    async def _fence(
        self, session: AsyncSession, spec: SourceConfig, next_due: datetime | None
    ) -> None:
        """Release this run's claim in its storing transaction; raise if it was lost."""
        claim = self._claims.get(spec.name)
        if claim is None:
            return
        if next_due is None:
            next_due = utcnow() + timedelta(seconds=spec.interval)
        # Due again a little before the next scheduled time, so instances' clocks and
        # jitter never make a cycle's run look not yet due.
        now = utcnow()
        next_due = now + (next_due - now) * 0.9
        if not await finish_run(session, claim, next_due):
            raise ClaimLost(f"source {spec.name}: run taken over by another instance")

    async def run_source(
        self, spec: SourceConfig, next_run: datetime | None = None
    ) -> SourceReport:
        """Run one source; whatever goes wrong is recorded on the source, never raised."""
        report = SourceReport(spec.name)
        source = self.sources[spec.name]
        validators = RunValidators(self.db)
        state = dict(source.state or {})
        known = KnownUrls(self.db)
        ctx = WatchContext(
            self.fetcher.for_run(validators),
            run_cpu,
            known,
            state,
            retry_urls=due_retries(state),
        )
        retry_after: float | None = None
        empty = False
        try:
            drafts = await watcher_for(spec.kind).poll(spec, ctx)
            # Entries found but none extracted: as loud as a page that lists none.
            if reason := empty_run_reason(ctx.found, drafts, ctx.retry_urls):
                report.skipped = sum(bool(d.skip_reason) for d in drafts)
                raise NoArticlesError(f"{spec.url}: {reason}")
        except DatabaseIdentityError:
            raise
        except (WatchError, FetchError) as exc:
            report.error = str(exc)
            retry_after = exc.retry_after if isinstance(exc, FetchError) else None
            empty = isinstance(exc, NoArticlesError)
        except Exception as exc:
            # A watcher bug on one odd page must cost this run, not the daemon.
            log.exception("watcher crashed", source=spec.name)
            report.error = f"internal error: {type(exc).__name__}: {exc}"
        if report.error is not None:
            await self._record_failure(spec, report, retry_after, empty)
            return report
        broken = [d for d in drafts if d.skip_reason]
        report.skipped = len(broken)
        for url, reason in update_retries(ctx.state, drafts, ctx.retry_urls):
            log.warning("gave up retrying an entry", source=spec.name, url=url, reason=reason)
        drafts = [d for d in drafts if not d.skip_reason]
        if cut := cap_article_text(drafts, self.config.fetch.max_article_chars):
            log.warning(
                "article text cut",
                source=spec.name,
                articles=cut,
                max_chars=self.config.fetch.max_article_chars,
            )
        was_alerted = source.alerted_at is not None
        try:
            await self._store(spec, source, drafts, report, validators, next_run, ctx.state, known)
        except DatabaseIdentityError:
            raise
        except ClaimLost as exc:
            log.warning("run discarded", source=spec.name, reason=str(exc))
            return SourceReport(spec.name, elsewhere=True)
        except Exception as exc:
            # The transaction rolled back and no validator was saved, so the next run
            # fetches and stores these articles again; the other sources carry on.
            report.new = report.matched = report.owed = 0
            report.error = f"storing failed: {first_line(exc)}"
            if isinstance(exc, DBAPIError | OSError):
                report.storage_failed = True
                await self.storage_failed(exc)
            else:
                log.exception("storing failed", source=spec.name)
            await self._record_failure(spec, report, None, False)
            return report
        await self._storage_recovered()
        await self._flag_broad_topics(spec, report)
        if broken:
            log.warning(
                "articles skipped",
                source=spec.name,
                count=len(broken),
                first=f"{broken[0].url}: {broken[0].skip_reason}",
            )
        if report.error is not None:
            # Stored fine, but the source has gone quiet: unhealthy, the operator is told.
            subject = f"源 {spec.name} 已多日没有新文章"
            await self._alert(spec, self.sources[spec.name], report, subject)
            return report
        if was_alerted:
            await alert_operator(
                self.config,
                f"源 {spec.name} 已恢复",
                f"{display_url(spec.url)}\n{report.new} new articles",
            )
        return report

    async def _record_failure(
        self, spec: SourceConfig, report: SourceReport, retry_after: float | None, empty: bool
    ) -> None:
        """Record the failure where the database still allows it (a read-only one does not)."""
        try:
            await self._failed(spec, report, retry_after, empty)
        except DatabaseIdentityError:
            raise
        except ClaimLost as exc:
            log.warning("run discarded", source=spec.name, reason=str(exc))
            report.retry_at = None
        except (DBAPIError, OSError) as exc:
            report.retry_at = None
            report.storage_failed = True
            await self.storage_failed(exc)

    async def storage_failed(self, exc: BaseException) -> None:
        """Log and alert once per storage incident.

        A read-only or unreachable database fails every source on every run; one
        line and one operator alert say so, not a traceback per source per run.
        """
        if self.storage_incident is not None:
            return
        self.storage_incident = error = f"storage failed: {first_line(exc)}"
        log.error("storage failing; articles are fetched again when it works", error=error)
        await alert_operator(self.config, "数据库写入失败", error)

    async def _storage_recovered(self) -> None:
        if self.storage_incident is None:
            return
        log.warning("storage works again", error_was=self.storage_incident)
        self.storage_incident = None
        await alert_operator(self.config, "数据库已恢复写入", "storage works again")

    async def _failed(
        self, spec: SourceConfig, report: SourceReport, retry_after: float | None, empty: bool
    ) -> None:
        """Record the failure with its backoff, and alert the operator once per incident."""
        assert report.error is not None
        report.error = display_text(report.error)
        source = self.sources[spec.name]
        delay = backoff_delay(spec, source.failures_in_row + 1, retry_after)
        report.retry_at = utcnow() + timedelta(seconds=delay)
        async with self.db.writing() as session:
            merged = await session.merge(source)
            await record_failure(session, merged, report.error, report.retry_at)
            await self._fence(session, spec, report.retry_at)
            await session.commit()
        self.sources[spec.name] = merged
        log.warning("source failed", source=spec.name, error=report.error, retry_at=report.retry_at)
        if empty and merged.last_success_at is not None:
            await self._alert(spec, merged, report, f"源 {spec.name} 突然没有文章（改版？）")
        elif merged.failures_in_row >= spec.fail_alert_after:
            await self._alert(
                spec, merged, report, f"源 {spec.name} 连续失败 {merged.failures_in_row} 次"
            )

    async def _alert(
        self, spec: SourceConfig, merged: Source, report: SourceReport, subject: str
    ) -> None:
        """Tell the operator about this incident, once: nothing if already told."""
        assert report.error is not None and report.retry_at is not None
        if merged.alerted_at is not None:
            return
        retry = report.retry_at.astimezone(self.config.tz).isoformat(timespec="seconds")
        body = f"{display_url(spec.url)}\n错误: {report.error}\n下次尝试: {retry}"
        undelivered = await alert_operator(self.config, subject, body)
        if undelivered is None or self.config.daemon.admin_channel is None:
            async with self.db.writing() as session:
                merged = await session.merge(merged)
                await record_alerted(session, merged)
                await session.commit()
            self.sources[spec.name] = merged

    async def store(self, spec: SourceConfig, drafts: list[ArticleDraft]) -> SourceReport:
        """The store step of a run on its own, for drafts that come from elsewhere than a
        watcher (tests seed databases through it): the same known-URL check, joining,
        matching, deduplication and owed alerts as a fetched run."""
        report = SourceReport(spec.name)
        source = self.sources[spec.name]
        validators, known = RunValidators(self.db), KnownUrls(self.db)
        await self._store(spec, source, drafts, report, validators, None, {}, known)
        return report

    async def _store(
        self,
        spec: SourceConfig,
        source: Source,
        drafts: list[ArticleDraft],
        report: SourceReport,
        validators: RunValidators,
        next_run: datetime | None,
        state: dict[str, object],
        known_urls: KnownUrls,
    ) -> None:
        known = await known_urls(d.url for d in drafts)
        fresh = [d for d in drafts if d.url not in known]
        async with self.db.session() as session:
            into_stored = await join_parts(session, source, fresh)
        # A part joined into a head of this batch is matched as part of the head's text
        # only; one joined into a stored head (already matched) is matched on its own.
        matched = [not d.continuation_of or d.url in into_stored for d in fresh]
        documents = [
            Document(id=str(i), title=d.title, text=d.text, source=spec.name, place=d.place)
            for i, (d, match_it) in enumerate(zip(fresh, matched, strict=True))
            if match_it
        ]
        results = iter(await run_cpu(self.matcher.match_many, documents))
        found = [next(results) if match_it else [] for match_it in matched]
        report.matched_articles = len(found)
        report.topic_counts = Counter(t for matches in found for t in {m.topic for m in matches})
        sketches = await run_cpu(sketch_drafts, fresh, self.config.dedup)
        async with self.db.writing() as session:
            merged = await session.merge(source)
            stored = await store_articles(
                session, merged, fresh, self.config.dedup, sketches, into_stored
            )
            pairs: list[tuple[Article, str, list[list[object]]]] = []
            for draft, article, matches in zip(fresh, stored, found, strict=True):
                if article is None:
                    continue
                report.new += 1
                for m in matches:
                    pairs.append((article, m.topic, combined_hits(draft.title, m.hits)))
            report.matched = len(pairs)
            backlog = self._first_run_backlog(merged, pairs)
            if backlog:
                log.info(
                    "first run: older items stored without alerts",
                    source=spec.name,
                    matches=len(backlog),
                )
                await store_matches(session, backlog, {})
            silent = {id(p) for p in backlog}
            owed = [p for p in pairs if id(p) not in silent]
            report.owed = await store_matches(session, owed, self.topic_channels)
            await validators.save(session)
            quiet = await self._quiet(session, spec, merged) if report.new == 0 else None
            if quiet is None:
                await record_success(session, merged, report.new, next_run, state)
            else:
                report.error = f"{display_url(spec.url)}: {quiet}"
                report.retry_at = next_run or utcnow() + timedelta(seconds=spec.interval)
                await record_failure(session, merged, report.error, report.retry_at, state)
            await self._fence(session, spec, report.retry_at or next_run)
            await session.commit()
        self.sources[spec.name] = merged
        log.info("source done", source=spec.name, new=report.new, matched=report.matched)

    def _first_run_backlog(
        self, source: Source, pairs: list[tuple[Article, str, list[list[object]]]]
    ) -> list[tuple[Article, str, list[list[object]]]]:
        """On a source's first successful run, the matches published before the window."""
        window = self.config.daemon.first_run_window
        if source.last_success_at is not None or window <= 0:
            return []
        cutoff = utcnow() - timedelta(seconds=window)
        return [p for p in pairs if p[0].published_at is not None and p[0].published_at < cutoff]

    async def _quiet(self, session: AsyncSession, spec: SourceConfig, source: Source) -> str | None:
        """Why a source that ran fine counts as silent (see daemon/silence.py), else None."""
        if spec.silent_after <= 0 or source.id is None:
            return None
        now = utcnow()
        last = await last_article_at(session, source.id)
        if last is None or now - last < timedelta(seconds=spec.silent_after):
            return None
        days = await article_days(session, source.id, last, HISTORY_DAYS, self.config.tz)
        quiet = silence(days, last, now, spec.silent_after)
        return quiet.reason() if quiet else None

    async def _flag_broad_topics(self, spec: SourceConfig, report: SourceReport) -> None:
        """Tell the operator (once per topic and process) about a topic matching too much
        of a fetched run: it is almost certainly too broad, and floods whoever gets it."""
        if report.matched_articles < BROAD_MIN_ARTICLES:
            return
        for topic, count in report.topic_counts.items():
            share = count / report.matched_articles
            if share <= BROAD_SHARE or topic in self._flagged_broad:
                continue
            self._flagged_broad.add(topic)
            log.warning("topic too broad", topic=topic, source=spec.name, share=round(share, 2))
            await alert_operator(
                self.config,
                f"主题 {topic} 范围过宽",
                f"matched {count} of {report.matched_articles} new articles of {spec.name} "
                f"({share:.0%}); narrow its query",
            )

    async def deliver(self) -> DeliveryReport:
        """Deliver what is owed: in the daemon, wake the channels' workers (they send,
        never a source job); otherwise run one pass here."""
        if self.outbox.started:
            self.outbox.signal()
            return DeliveryReport()
        return await self.outbox.deliver_due()

    async def cycle(
        self, on_source: Callable[[SourceReport], None] | None = None
    ) -> tuple[list[SourceReport], DeliveryReport]:
        """Every enabled source once (hosts are paced by the fetcher), then deliveries.
        A paused source is reported as skipped.

        ``on_source`` hears of each source as it finishes, so ``tingfeng once`` can show
        progress instead of seconds of silence.
        """

        async def run(spec: SourceConfig) -> SourceReport:
            paused = await is_paused(self.db, spec.name)
            report = SourceReport(spec.name, paused=True) if paused else await self.run_source(spec)
            if on_source is not None:
                on_source(report)
            return report

        specs = [s for s in self.config.sources if s.enabled]
        reports = await asyncio.gather(*(run(s) for s in specs))
        return list(reports), await self.deliver()
