"""Local fixture sites for watcher tests: real HTTP servers, never the internet.

A site is a folder under ``fixtures/sites``; its pages are UTF-8 on disk and can be
served in another encoding (GBK) *without* a charset in the Content-Type header, as
old e-paper stacks do. Every response carries an ETag, so conditional GET works,
and every request is logged so tests can see what was (not) fetched again.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from sqlmodel import select

from daemon.config import Config, parse_config
from daemon.pipeline import SourceReport
from daemon.runtime import open_database, open_pipeline
from storage.models import Article, Source

SITES = Path(__file__).parent / "fixtures" / "sites"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Hits:
    """Requests a site received: (method, path, monotonic time)."""

    log: list[tuple[str, str, float]] = field(default_factory=list)

    def paths(self, method: str = "GET") -> list[str]:
        return [p for m, p, _ in self.log if m == method]

    def count(self, fragment: str) -> int:
        return sum(fragment in p for _, p, _ in self.log)


def _content_type(path: str) -> str:
    if path.endswith(".xml"):
        return "text/xml"
    if path.endswith(".pdf"):
        return "application/pdf"
    if path.endswith(".txt"):
        return "text/plain"
    return "text/html"


def page_response(request: web.Request, body: bytes, content_type: str) -> web.Response:
    """A 200 with an ETag, or a 304 when the client already has this body."""
    etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers={"ETag": etag})
    # aiohttp adds no charset for a bytes body: the page must be decoded from its bytes.
    return web.Response(body=body, content_type=content_type, headers={"ETag": etag})


def site_app(
    name: str,
    *,
    encoding: str = "utf-8",
    pages: dict[str, str] | None = None,
    routes: dict[str, Handler] | None = None,
) -> tuple[web.Application, Hits]:
    """An app serving ``fixtures/sites/<name>`` (or ``pages``: path → HTML) in ``encoding``."""
    hits = Hits()
    files = dict(pages or {})
    if not pages:
        root = SITES / name
        for file in root.rglob("*"):
            if file.is_file():
                files["/" + file.relative_to(root).as_posix()] = file.read_text("utf-8")
    extra = routes or {}

    @web.middleware
    async def log_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
        hits.log.append((request.method, request.path, time.monotonic()))
        return await handler(request)

    async def serve(request: web.Request) -> web.StreamResponse:
        if request.path in extra:
            return await extra[request.path](request)
        text = files.get(request.path)
        if text is None:
            raise web.HTTPNotFound()
        return page_response(request, text.encode(encoding), _content_type(request.path))

    app = web.Application(middlewares=[log_requests])
    app.router.add_route("*", "/{tail:.*}", serve)
    return app, hits


def make_config(
    tmp_path: Path, sources: str, *, extra: str = "", delay: str = "0s", fetch: str = ""
) -> Config:
    """A config with its database in ``tmp_path`` and no politeness delay (unless asked)."""
    text = f"""
[storage]
url = "sqlite:///{tmp_path / "t.db"}"

[fetch]
per_host_delay = "{delay}"
timeout = "2s"
connect_timeout = "2s"
{fetch}

{extra}

{sources}
"""
    return parse_config(text, tmp_path / "config.toml")


async def run_sources(config: Config, *names: str) -> dict[str, SourceReport]:
    """One run of the named sources (all when none named), concurrently like a cycle."""
    import asyncio

    async with open_pipeline(config) as pipeline:
        specs = [s for s in config.sources if not names or s.name in names]
        reports = await asyncio.gather(*(pipeline.run_source(s) for s in specs))
    return {r.name: r for r in reports}


async def stored(config: Config) -> dict[str, Article]:
    """Stored articles by URL."""
    async with open_database(config) as db, db.session() as session:
        return {a.url: a for a in await session.exec(select(Article))}


async def source_row(config: Config, name: str) -> Source:
    async with open_database(config) as db, db.session() as session:
        row = (await session.exec(select(Source).where(Source.name == name))).one()
        return row
