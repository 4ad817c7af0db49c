"""Shared fixtures: a local fixture site as a running HTTP server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.sites import Hits, site_app

SiteFactory = Callable[..., Awaitable[tuple[str, Hits]]]


@pytest.fixture
async def serve_site(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> SiteFactory:
    """``base_url, hits = await serve_site("classic", encoding="gbk")``."""

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
