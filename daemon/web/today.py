"""今日动态: the stories that matched, newest first (the console's home page)."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

routes = web.RouteTableDef()


@routes.get("/")
async def today(request: web.Request) -> web.Response:
    return aiohttp_jinja2.render_template("today.html.j2", request, {"nav": "today"})
