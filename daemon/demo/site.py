"""Serve the bundled demo site on localhost, rewriting its placeholder host to the real one."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

SITE = Path(__file__).parent / "site"
PLACEHOLDER = "http://demo.local"


def make_app(base_url_holder: list[str]) -> web.Application:
    async def serve(request: web.Request) -> web.Response:
        name = request.match_info["path"] or "list.html"
        path = (SITE / name).resolve()
        if not path.is_relative_to(SITE) or not path.is_file():
            # Feed items link to pages that the demo serves from the same article template.
            if name.startswith("feed/"):
                return web.Response(
                    text="<h1>演示文章</h1><div id='zoom'><p>正文略。</p></div>",
                    content_type="text/html",
                    charset="utf-8",
                )
            raise web.HTTPNotFound()
        body = path.read_text(encoding="utf-8").replace(PLACEHOLDER, base_url_holder[0])
        kind = {".xml": "application/rss+xml", ".txt": "text/plain"}.get(path.suffix, "text/html")
        return web.Response(text=body, content_type=kind, charset="utf-8")

    app = web.Application()
    app.router.add_get("/{path:.*}", serve)
    return app


async def start_site() -> tuple[web.AppRunner, str]:
    holder = [""]
    runner = web.AppRunner(make_app(holder))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    holder[0] = f"http://127.0.0.1:{port}"
    return runner, holder[0]
