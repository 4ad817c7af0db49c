"""Building the console's aiohttp application from its parts.

Each page module owns a ``routes`` table; this module wires them, the templates, the
static files and the middlewares together, so a page is added by writing its module
and listing it in ``PAGES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web

from daemon.config import Config
from daemon.web import api_errors, auth, filters
from storage.db import Database

HERE = Path(__file__).parent
# Route modules, each with a module-level ``routes = web.RouteTableDef()``.
PAGES = (
    "daemon.web.auth",
    "daemon.web.today",
    "daemon.web.story",
    "daemon.web.feeds",
    "daemon.web.sources",
    "daemon.web.outbox",
    "daemon.web.subscriptions",
    "daemon.web.topics",
    "daemon.web.api",
)


async def _nothing() -> None:
    return None


@dataclass
class Console:
    """What the pages share: the effective config (config.toml plus what the console
    defined), the database, and ``changed`` — awaited after a page changed topics,
    channels or subscriptions, so the daemon in this process rebuilds its matcher."""

    config: Config
    db: Database
    changed: Callable[[], Awaitable[None]] = field(default=_nothing)
    # True: cookies are ``Secure`` whenever the browser keeps them so (HTTPS, localhost;
    # see ``auth.secure_request``). False: never, for test clients on plain HTTP.
    secure_cookies: bool = True

    @property
    def tz(self) -> ZoneInfo:
        return self.config.tz


CONSOLE = web.AppKey("console", Console)


def console_of(request: web.Request) -> Console:
    return request.app[CONSOLE]


@web.middleware
async def compress_and_cache(request: web.Request, handler: auth.Handler) -> web.StreamResponse:
    """Versioned static files are cached for a year; text answers are gzipped when the
    browser accepts it (pages of 今日动态 shrink about five times)."""
    response = await handler(request)
    if request.path.startswith("/static/"):
        if "v" in request.query:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            response.headers["Cache-Control"] = "public, max-age=3600"
    elif "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    content_type = response.headers.get("Content-Type", "")
    if isinstance(response, web.Response) and content_type.startswith(
        ("text/", "application/json", "application/xml", "application/atom", "application/rss")
    ):
        response.enable_compression()
    return response


def create_app(console: Console) -> web.Application:
    app = web.Application(
        middlewares=[
            compress_and_cache,
            auth.security_headers,
            api_errors.json_errors,
            auth.session_middleware,
        ]
    )
    app[CONSOLE] = console
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=jinja2.select_autoescape(default=True),
        context_processors=[auth.template_context],
    )
    filters.install(env, console.tz)
    for module in PAGES:
        app.router.add_routes(importlib.import_module(module).routes)
    app.router.add_static("/static/", HERE / "static", name="static", append_version=True)
    return app
