"""Shared test fixtures: a local news site, an alert catcher, PostgreSQL databases.

Everything is served on 127.0.0.1 by aiohttp; nothing touches the internet.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.sites import Hits, site_app

ROOT = Path(__file__).resolve().parent.parent

# Compiled-matcher caches (rules.cache) go to one directory per test run, never ~/.cache;
# CLI subprocesses inherit it.
os.environ.setdefault("TINGFENG_CACHE_DIR", tempfile.mkdtemp(prefix="tingfeng-test-cache-"))


@dataclass
class Catcher:
    """Records json:// alerts; ``fail_next`` makes the next N posts answer 500."""

    server: TestServer
    received: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.port}/alerts"


@pytest.fixture
async def catcher() -> Any:
    state: dict[str, Any] = {}

    async def receive(request: web.Request) -> web.Response:
        c: Catcher = state["catcher"]
        if c.fail_next > 0:
            c.fail_next -= 1
            return web.Response(status=500, text="boom")
        c.received.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/alerts", receive)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    state["catcher"] = Catcher(server)
    yield state["catcher"]
    await server.close()


class Site:
    """A mutable local site: tests set ``pages[path] = (content_type, body)``."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, bytes]] = {}
        self.hits: list[str] = []
        self.server: TestServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    def add(self, path: str, body: str, content_type: str = "text/html; charset=utf-8") -> None:
        self.pages[path] = (content_type, body.encode("utf-8"))


@pytest.fixture
async def site() -> Any:
    s = Site()

    async def serve(request: web.Request) -> web.Response:
        s.hits.append(request.path)
        if request.path not in s.pages:
            raise web.HTTPNotFound()
        content_type, body = s.pages[request.path]
        return web.Response(
            body=body.replace(b"{BASE}", s.base.encode()), headers={"Content-Type": content_type}
        )

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    s.server = TestServer(app, host="127.0.0.1")
    await s.server.start_server()
    yield s
    await s.server.close()


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


SiteFactory = Callable[..., Awaitable[tuple[str, Hits]]]


@pytest.fixture
async def serve_site(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> SiteFactory:
    """``base_url, hits = await serve_site("classic", encoding="gbk")``: a platform fixture site."""

    async def start(name: str, **kwargs: Any) -> tuple[str, Hits]:
        app, hits = site_app(name, **kwargs)
        server = await aiohttp_server(app)
        return str(server.make_url("")).rstrip("/"), hits

    return start


@pytest.fixture
async def serve_app(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> Callable[..., Any]:
    """Serve any aiohttp app; returns its base URL."""

    async def start(app: web.Application) -> str:
        server = await aiohttp_server(app)
        return str(server.make_url("")).rstrip("/")

    return start


ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"


@asynccontextmanager
async def fresh_pg_database() -> AsyncIterator[str]:
    """A new PostgreSQL database, dropped afterwards; skips the test when no server runs."""
    try:
        admin = await asyncpg.connect(ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432: {exc}")
    name = f"tingfeng_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with fresh_pg_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The embedded default and the scale path, for tests that must hold on both."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tf.db'}"
        return
    async with fresh_pg_database() as url:
        yield url
