"""One source run: watch → store → match → owe alerts, then deliver what is due.

Each source's new articles, matches and owed deliveries commit together; a
source that fails records its error and costs the others nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import structlog

from daemon.config import Config, SourceConfig
from daemon.notify.outbox import DeliveryReport, deliver_due
from rules import Document, Hit, TopicRule, compile_rules
from rules.normalize import normalize
from storage.articles import known_url_keys, sketch_drafts, store_articles, store_matches
from storage.catalog import RunValidators, record_failure, record_success, sync_catalog
from storage.db import Database
from storage.dedup.continuations import join_continuations
from storage.models import Article, Source
from watchers.base import ArticleDraft, WatchContext, WatchError
from watchers.fetch import Fetcher, FetchError
from watchers.registry import watcher_for

log = structlog.get_logger("tingfeng.pipeline")


@dataclass(slots=True)
class SourceReport:
    name: str
    new: int = 0
    matched: int = 0
    owed: int = 0
    error: str | None = None
    skipped: int = 0


def combined_hits(title: str, hits: Iterable[Hit]) -> list[list[object]]:
    """Field spans → spans into ``normalize(title) + "\\n" + normalize(text)``."""
    title_len = len(normalize(title))
    offset = title_len + 1 if title_len else 0
    return [
        [
            h.start + (offset if h.field == "text" else 0),
            h.end + (offset if h.field == "text" else 0),
            h.term,
        ]
        for h in hits
    ]


def topic_rules(config: Config) -> list[TopicRule]:
    return [
        TopicRule(
            name=t.name,
            query=t.query,
            mode=t.mode,
            places=tuple(t.places),
            sources=tuple(t.sources),
            min_hits=t.min_hits,
        )
        for t in config.topics
    ]


async def run_cpu(func, *args, **kwargs):  # type: ignore[no-untyped-def]
    """CPU-heavy work (parsing, jieba) off the event loop."""
    return await asyncio.to_thread(func, *args, **kwargs)


class Pipeline:
    def __init__(self, config: Config, db: Database, fetcher: Fetcher) -> None:
        self.config = config
        self.db = db
        self.fetcher = fetcher
        self.matcher = compile_rules(topic_rules(config))
        self.topic_channels = {t.name: list(t.channels) for t in config.topics}
        self.sources: dict[str, Source] = {}

    async def prepare(self) -> None:
        """Mirror config into the database (sources, topics, channels)."""
        async with self.db.writing() as session:
            self.sources = await sync_catalog(
                session,
                ((s.name, s.kind, s.url) for s in self.config.sources),
                ((t.name, t.query) for t in self.config.topics),
                ((c.name, c.mode) for c in self.config.channels),
            )
            await session.commit()

    async def _known(self, urls: Iterable[str]) -> set[str]:
        async with self.db.session() as session:
            return await known_url_keys(session, urls)

    async def run_source(
        self, spec: SourceConfig, next_run: datetime | None = None
    ) -> SourceReport:
        report = SourceReport(spec.name)
        source = self.sources[spec.name]
        watcher = watcher_for(spec.kind)
        validators = RunValidators(self.db)
        try:
            if watcher is None:
                raise WatchError(f"source kind {spec.kind!r} is not supported yet")
            ctx = WatchContext(self.fetcher.for_run(validators), run_cpu, self._known)
            drafts = await watcher.poll(spec, ctx)
        except (WatchError, FetchError) as exc:
            report.error = str(exc)
        if report.error is not None:
            async with self.db.writing() as session:
                await record_failure(session, await session.merge(source), report.error, next_run)
                await session.commit()
            log.warning("source failed", source=spec.name, error=report.error)
            return report
        broken = [d for d in drafts if "error" in d.extra]
        drafts = [d for d in drafts if "error" not in d.extra]
        report.skipped = len(broken)
        await self._store(spec, source, drafts, report, validators, next_run)
        if broken:
            log.warning(
                "articles skipped",
                source=spec.name,
                count=len(broken),
                first=broken[0].extra["error"],
            )
        return report

    async def _store(
        self,
        spec: SourceConfig,
        source: Source,
        drafts: list[ArticleDraft],
        report: SourceReport,
        validators: RunValidators,
        next_run: datetime | None,
    ) -> None:
        known = await self._known(d.url for d in drafts)
        fresh = [d for d in drafts if d.url not in known]
        join_continuations(fresh)
        # A part joined into its head is matched as part of the head's text only.
        documents = [
            Document(id=str(i), title=d.title, text=d.text, source=spec.name, place=d.place)
            for i, d in enumerate(fresh)
            if "continuation_of" not in d.extra
        ]
        results = iter(await run_cpu(self.matcher.match_many, documents))
        found = [[] if "continuation_of" in d.extra else next(results) for d in fresh]
        sketches = await run_cpu(sketch_drafts, fresh, self.config.dedup)
        async with self.db.writing() as session:
            merged = await session.merge(source)
            stored = await store_articles(session, merged, fresh, self.config.dedup, sketches)
            pairs: list[tuple[Article, str, list[list[object]]]] = []
            for draft, article, matches in zip(fresh, stored, found, strict=True):
                if article is None:
                    continue
                report.new += 1
                for m in matches:
                    pairs.append((article, m.topic, combined_hits(draft.title, m.hits)))
            report.matched = len(pairs)
            report.owed = await store_matches(session, pairs, self.topic_channels)
            await validators.save(session)
            await record_success(session, merged, report.new, next_run)
            await session.commit()
        log.info("source done", source=spec.name, new=report.new, matched=report.matched)

    async def deliver(self) -> DeliveryReport:
        return await deliver_due(self.db, self.config)

    async def cycle(self) -> tuple[list[SourceReport], DeliveryReport]:
        """Every enabled source once (hosts are paced by the fetcher), then deliveries."""
        specs = [s for s in self.config.sources if s.enabled]
        reports = await asyncio.gather(*(self.run_source(s) for s in specs))
        return list(reports), await self.deliver()
