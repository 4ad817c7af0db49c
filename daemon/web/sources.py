"""来源 (admin): every source's health, pause/resume, and probing a URL before it is
added to config.toml — so an operator need not reach for the server's shell to see why a
county site went quiet or whether a new paper can be watched."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import structlog
from aiohttp import web

from daemon.redaction import display_text
from daemon.source_health import source_health
from daemon.web.app import console_of
from daemon.web.auth import require_admin
from storage.catalog import NoSuchSource, set_paused
from watchers.fetch import FetchError
from watchers.probe import ProbeResult, config_block, probe_url

routes = web.RouteTableDef()
log = structlog.get_logger("tingfeng.web")

# A probe fetches the page and a few articles (an e-paper: several pages); past this
# the answer is "too slow to watch", said in one line.
PROBE_TIMEOUT = 60.0
PROBE_ARTICLES = 3
STATE_LABELS = {
    "ok": "正常",
    "failing": "出错",
    "unhealthy": "故障",
    "stale": "未按时运行",
    "new": "尚未运行",
    "paused": "已暂停",
    "disabled": "已停用（配置文件）",
}


async def _page(
    request: web.Request,
    *,
    notices: list[str] | None = None,
    errors: list[str] | None = None,
    probe: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    console = console_of(request)
    rows = await source_health(console.config, console.db)
    context = {
        "nav": "sources",
        "rows": rows,
        "errors_shown": {r.name: display_text(r.last_error) for r in rows},
        "labels": STATE_LABELS,
        "notices": notices or [],
        "errors": errors or [],
        "probe": probe,
    }
    return aiohttp_jinja2.render_template("sources.html.j2", request, context, status=status)


@routes.get("/sources")
async def sources(request: web.Request) -> web.Response:
    require_admin(request)
    return await _page(request)


async def pause_source(request: web.Request, name: str, paused: bool) -> bool:
    """Pause or resume a configured source for the logged-in admin; returns whether it
    changed. Raises ``HTTPNotFound`` / ``HTTPConflict`` with a message for people."""
    user = require_admin(request)
    console = console_of(request)
    if name not in {s.name for s in console.config.sources}:
        raise web.HTTPNotFound(text=f"没有名为“{name}”的来源")
    try:
        return await set_paused(console.db, name, paused, user.id)
    except NoSuchSource:
        raise web.HTTPConflict(
            text=f"来源“{name}”尚未写入数据库：守护进程首次运行后才能暂停"
        ) from None


async def _set_paused(request: web.Request, paused: bool) -> web.Response:
    require_admin(request)
    name = str((await request.post()).get("name", ""))
    try:
        changed = await pause_source(request, name, paused)
    except (web.HTTPNotFound, web.HTTPConflict) as exc:
        return await _page(request, errors=[exc.text or ""], status=exc.status)
    verb = "暂停" if paused else "恢复"
    notice = f"已{verb}来源“{name}”" if changed else f"来源“{name}”此前已{verb}"
    return await _page(request, notices=[notice])


@routes.post("/sources/pause")
async def pause(request: web.Request) -> web.Response:
    return await _set_paused(request, True)


@routes.post("/sources/resume")
async def resume(request: web.Request) -> web.Response:
    return await _set_paused(request, False)


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be probed, in one line, or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "网址格式不正确"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "网址须以 http:// 或 https:// 开头并包含主机名"
    return None


class ProbeFailed(Exception):
    """A probe that found nothing to show; the message is one line for people."""


async def run_probe(request: web.Request, url: str) -> ProbeResult:
    """The probe with the console's fetch settings, bounded by ``PROBE_TIMEOUT``; raises
    ``ProbeFailed`` with a one-line reason."""
    try:
        return await asyncio.wait_for(
            probe_url(url, console_of(request).config.fetch, PROBE_ARTICLES), PROBE_TIMEOUT
        )
    except TimeoutError:
        raise ProbeFailed(f"{PROBE_TIMEOUT:.0f} 秒内没有探测完成") from None
    except FetchError as exc:
        raise ProbeFailed(display_text(str(exc))) from None
    except Exception as exc:
        # A page no watcher expected can break a parser in ways of its own; the admin
        # gets its one-line reason, the log the traceback.
        log.exception("probe failed", url=display_text(url))
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        raise ProbeFailed(display_text(reason)) from None


@routes.post("/sources/probe")
async def probe(request: web.Request) -> web.Response:
    require_admin(request)
    url = str((await request.post()).get("url", "")).strip()
    problem = url_problem(url)
    if problem:
        return await _page(request, probe={"url": url, "error": problem}, status=400)
    try:
        found = await run_probe(request, url)
    except ProbeFailed as exc:
        return await _page(request, probe={"url": url, "error": f"探测失败：{exc}"})
    tz = console_of(request).tz
    articles = [
        {
            "title": a.title,
            "place": a.place,
            "page": a.page,
            "day": a.published.astimezone(tz).date().isoformat() if a.published else "",
            "start": a.text.replace("\n", " ")[:80],
        }
        for a in found.articles
    ]
    return await _page(
        request,
        probe={
            "url": url,
            "found": found,
            "articles": articles,
            "block": config_block(found) if found.kind else "",
            "error": display_text(found.error) if found.error else "",
        },
    )
