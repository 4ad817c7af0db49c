"""The daemon: APScheduler jobs rebuilt from config at start-up, clean shutdown on signals.

Misfire grace is minutes, not APScheduler's default second, so a busy loop delays a
job instead of silently dropping it. An edited config (or SIGHUP) is applied in place.
Delivery is not a job: the outbox runs one worker per channel, which source and
digest jobs wake. Digests whose time passed while the daemon was down are built at
start-up. On SIGINT/SIGTERM no new run starts, the running ones finish their
transaction, and each channel finishes its send in flight and hands back the rest.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import DBAPIError

from daemon.config import Config, load_config
from daemon.console_config import effective_config
from daemon.errors import UserError
from daemon.notify.digest import build_digest, catch_up
from daemon.notify.operator import alert_operator
from daemon.notify.settings import ChannelConfig
from daemon.pipeline import Pipeline
from storage.console_defs import console_generation
from storage.identity import DatabaseIdentityError
from storage.leader import Leadership
from watchers.settings import SourceConfig

log = structlog.get_logger("tingfeng.scheduler")

MISFIRE_GRACE = 600
SHUTDOWN_GRACE = 60.0
CONFIG_CHECK = 10.0


def source_trigger(source: SourceConfig, config: Config) -> BaseTrigger:
    if source.cron:
        return CronTrigger.from_crontab(source.cron, timezone=config.tz)
    jitter = source.jitter if source.jitter is not None else min(60.0, source.interval * 0.1)
    return IntervalTrigger(seconds=source.interval, jitter=int(jitter) or None, timezone=config.tz)


def digest_trigger(channel: ChannelConfig, config: Config) -> BaseTrigger:
    """Daily (or weekly on ``weekday``) at the channel's local ``at``."""
    hour, minute = channel.at.split(":")
    weekday = channel.weekday if channel.every == "weekly" else "*"
    return CronTrigger(hour=int(hour), minute=int(minute), day_of_week=weekday, timezone=config.tz)


class Daemon:
    def __init__(self, config: Config, pipeline: Pipeline) -> None:
        self.config = config
        self.pipeline = pipeline
        self.scheduler = AsyncIOScheduler(timezone=config.tz)
        self.running: set[asyncio.Task[Any]] = set()
        self.stopping = asyncio.Event()
        self._loaded_mtime: float | None = None
        # The console's generation (newest audit id) the running config was built from.
        self._loaded_generation = 0
        # The poll, SIGHUP and the console's callback may ask at once; one reload at a time.
        self._reloading = asyncio.Lock()
        # Set when the database changed identity: the daemon stops and exits non-zero.
        self.fatal: DatabaseIdentityError | None = None
        self.leadership = Leadership(pipeline.db)
        # Told each config the daemon switches to (the console in this process shows it).
        self.on_reload: Callable[[Config], None] | None = None

    def _tracked(
        self, name: str, work: Callable[[], Awaitable[Any]]
    ) -> Callable[[], Awaitable[None]]:
        """Wrap a job so shutdown can wait for it and a failure is logged, not lost."""

        async def job() -> None:
            if self.stopping.is_set():
                return
            task = asyncio.current_task()
            assert task is not None
            self.running.add(task)
            try:
                await work()
            except DatabaseIdentityError as exc:
                await self._stop_for(exc)
            except (DBAPIError, OSError) as exc:
                await self.pipeline.storage_failed(exc)
            except Exception:
                log.exception("job failed", job=name)
            finally:
                self.running.discard(task)

        return job

    async def _storage_failed(self, exc: Exception) -> None:
        if isinstance(exc, DatabaseIdentityError):
            await self._stop_for(exc)
        else:
            await self.pipeline.storage_failed(exc)

    async def _stop_for(self, exc: DatabaseIdentityError) -> None:
        """Stop every write at once, say why in one line, and tell the operator directly."""
        if self.fatal is not None:
            return
        self.fatal = exc
        log.error("database changed under the daemon; stopping", error=str(exc))
        await alert_operator(self.config, "数据库被删除或替换，听风已停止", str(exc))
        self.stopping.set()

    def _next_run(self, job_id: str) -> datetime | None:
        job = self.scheduler.get_job(job_id)
        return job.next_run_time.astimezone(UTC) if job and job.next_run_time else None

    def _back_off(self, job_id: str, retry_at: datetime) -> None:
        """Delay only this source's job; every other job keeps its own schedule."""
        job = self.scheduler.get_job(job_id)
        if job is not None:
            job.modify(next_run_time=retry_at.astimezone(self.config.tz))

    def _first_run(self, source: SourceConfig, now: datetime) -> datetime:
        """Now, unless the source is failing and its backoff (kept across restarts) says later."""
        row = self.pipeline.sources.get(source.name)
        if row is None or not row.failures_in_row or row.next_run_at is None:
            return now
        return max(now, row.next_run_at.astimezone(self.config.tz))

    def _add(
        self,
        job_id: str,
        work: Callable[[], Awaitable[Any]],
        trigger: BaseTrigger,
        first_run: datetime | None = None,
    ) -> None:
        """Every job: one instance at a time, missed runs coalesced, late runs still run."""
        extra = {"next_run_time": first_run} if first_run is not None else {}
        self.scheduler.add_job(
            self._tracked(job_id, work),
            trigger,
            id=job_id,
            name=job_id,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=MISFIRE_GRACE,
            replace_existing=True,
            **extra,
        )

    def build_jobs(self, previous: Config | None = None) -> None:
        """Add (or, after a reload, replace) every job; unchanged sources keep their timing."""
        now = datetime.now(self.config.tz)
        unchanged = (
            {s.name for s in previous.sources if s in self.config.sources} if previous else set()
        )
        wanted = {f"source:{s.name}" for s in self.config.sources if s.enabled}
        for job in self.scheduler.get_jobs():
            if job.id.startswith(("source:", "digest:")) and job.id not in wanted:
                job.remove()
        for source in self.config.sources:
            if not source.enabled or source.name in unchanged:
                continue
            job_id = f"source:{source.name}"

            async def run(source: SourceConfig = source, job_id: str = job_id) -> None:
                report = await self.pipeline.run_claimed(source, self._next_run(job_id))
                if report.paused:
                    log.info("source paused in the console; run skipped", source=source.name)
                    return
                if report.retry_at is not None:
                    self._back_off(job_id, report.retry_at)
                await self.pipeline.deliver()

            self._add(
                job_id, run, source_trigger(source, self.config), self._first_run(source, now)
            )
        config_check = IntervalTrigger(seconds=CONFIG_CHECK, timezone=self.config.tz)
        self._add("config", self._reload_if_changed, config_check)

        for channel in self.config.channels:
            if channel.mode != "digest":
                continue
            job_id = f"digest:{channel.name}"

            async def digest(channel: ChannelConfig = channel) -> None:
                if not await self.leadership.is_leader():
                    return  # another instance on this database builds the digests
                await build_digest(self.pipeline.db, channel)
                await self.pipeline.deliver()

            self._add(job_id, digest, digest_trigger(channel, self.config))

    def _config_mtime(self) -> float | None:
        try:
            return self.config.path.stat().st_mtime
        except OSError:
            return None

    async def _reload_if_changed(self) -> None:
        """The config file was edited, or a console (this process's or ``tingfeng web``
        on the same database) changed topics, channels or subscriptions."""
        generation = await console_generation(self.pipeline.db)
        if self._config_mtime() != self._loaded_mtime or generation != self._loaded_generation:
            await self.reload()

    async def reload(self) -> None:
        """Apply an edited config or console change without a restart: topics recompile,
        jobs follow sources and digest channels.

        A config with a mistake is reported and ignored; the daemon keeps running on
        the last good one. The console's ``changed`` callback is this method.
        """
        async with self._reloading:
            await self._reload()

    async def _reload(self) -> None:
        self._loaded_mtime = self._config_mtime()
        try:
            self._loaded_generation = await console_generation(self.pipeline.db)
            config = await effective_config(load_config(self.config.path), self.pipeline.db)
            await self.pipeline.reload(config)
        except UserError as exc:
            log.error("config reload failed; keeping the running config", error=str(exc))
            return
        except Exception as exc:
            # Whatever breaks while applying an edit, the daemon keeps its running config
            # and says so in one line; a reload is never worth a traceback or a dead daemon.
            error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            log.error("config reload failed; keeping the running config", error=error)
            return
        previous, self.config = self.config, config
        self.build_jobs(previous)
        if self.on_reload is not None:
            self.on_reload(config)
        log.info("config reloaded", sources=len(config.sources), topics=len(config.topics))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        self._loaded_mtime = self._config_mtime()
        self._loaded_generation = await console_generation(self.pipeline.db)
        if await self.leadership.is_leader():
            caught = await catch_up(self.pipeline.db, self.config)
            if caught:
                log.info("digests missed while down, sent now", channels=caught)
        self.build_jobs()
        self.pipeline.outbox.storage_failed = self._storage_failed
        self.pipeline.outbox.start()
        self.scheduler.start()
        log.info("daemon started", sources=len(self.config.sources), topics=len(self.config.topics))
        await self.stopping.wait()
        log.info("stopping: waiting for running jobs", running=len(self.running))
        self.scheduler.shutdown(wait=False)
        waits: list[Awaitable[Any]] = [self.pipeline.outbox.stop()]
        if self.running:
            waits.append(asyncio.wait(set(self.running), timeout=SHUTDOWN_GRACE))
        await asyncio.gather(*waits)
        await self.leadership.release()
        log.info("daemon stopped")
        if self.fatal is not None:
            raise self.fatal
