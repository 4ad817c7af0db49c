"""End to end: one story on two local sources, one copy edited → one alert per topic.

Runs the real CLI (``tingfeng once`` and ``export``, in-process)
against an aiohttp server that plays an RSS source, an HTML list source and the
webhook receiver behind a ``json://`` Apprise channel.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.cli_runner import run_cli
from tests.dedup_corpus import Corpus

ROOT = Path(__file__).resolve().parent.parent


def site(
    title: str, original: str, edited_title: str, edited: str, posts: list[Any]
) -> web.Application:
    paragraphs = "".join(f"<p>{p}</p>" for p in original.split("\n"))
    feed = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>县融媒</title><link>http://county/</link>
<item><title>{title}</title><link>{{base}}/feed/story.html</link>
<pubDate>Mon, 20 May 2024 02:30:00 GMT</pubDate>
<description><![CDATA[{paragraphs}]]></description></item>
<item><title>县人民医院启动夏季义诊活动</title><link>{{base}}/feed/clinic.html</link>
<description><![CDATA[<p>县人民医院组织专家深入乡镇开展义诊。</p>]]></description></item>
</channel></rss>"""
    listing = f"""<html><body><ul class="news-list">
<li><a href="news/1.html">{edited_title}</a></li></ul></body></html>"""
    body = "".join(f"<p>{p}</p>" for p in edited.split("\n"))
    article = (
        f"<html><body><h1>{edited_title}</h1><div class='date'>2024-05-20</div>"
        f"<div id='zoom'>{body}</div></body></html>"
    )

    async def serve(request: web.Request) -> web.Response:
        base = f"http://{request.host}"
        pages = {
            "/feed.xml": feed.replace("{base}", base),
            "/list.html": listing,
            "/news/1.html": article,
        }
        if request.path not in pages:
            raise web.HTTPNotFound()
        kind = "application/rss+xml" if request.path.endswith(".xml") else "text/html"
        return web.Response(text=pages[request.path], content_type=kind, charset="utf-8")

    async def hook(request: web.Request) -> web.Response:
        posts.append(await request.json())
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/{path:.*}", serve)
    return app


async def cli(*args: str) -> str:
    result = await run_cli(*args, cwd=ROOT)
    assert result.code == 0, result.err
    return result.out


async def test_same_story_on_two_sources_alerts_once_per_topic(
    tmp_path: Path, storage_url: str
) -> None:
    corpus = Corpus(31)
    story = corpus.story("燃气安全")
    _, edited = corpus.edited(story)
    edited_title = "聚焦：" + story.title
    posts: list[Any] = []
    server = TestServer(site(story.title, story.text, edited_title, edited, posts))
    await server.start_server()
    try:
        base = f"http://127.0.0.1:{server.port}"
        config = tmp_path / "config.toml"
        config.write_text(
            f"""
[daemon]
# fixture pages are dated 2024: alert them on the first run too
first_run_window = "0s"

[storage]
url = "{storage_url}"

[fetch]
per_host_delay = "0.1s"

[[sources]]
name = "县融媒"
kind = "feed"
url = "{base}/feed.xml"

[[sources]]
name = "县政府网"
kind = "html"
url = "{base}/list.html"
selectors = {{ item = "ul.news-list li a", title = "h1", text = "#zoom", date = ".date" }}

[[topics]]
name = "燃气安全"
query = "液化石油气 OR 燃气 OR 液化气 OR 气瓶 OR 钢瓶"
channels = ["hook"]

[[topics]]
name = "县域动态"
query = "{story.county}"
channels = ["hook"]

[[channels]]
name = "hook"
url = "json://127.0.0.1:{server.port}/hook"
""",
            encoding="utf-8",
        )
        await cli("once", "--config", str(config))
        await cli("once", "--config", str(config))  # nothing new: nothing sent again
        exported = [
            json.loads(line) for line in (await cli("export", "--config", str(config))).splitlines()
        ]
    finally:
        await server.close()

    assert len(posts) == 2
    assert sorted("燃气安全" in json.dumps(p, ensure_ascii=False) for p in posts) == [False, True]
    copies = [r for r in exported if r["title"] in (story.title, edited_title)]
    assert {r["source"] for r in copies} == {"县融媒", "县政府网"}
    assert len({r["cluster"] for r in copies}) == 1
    others = [r for r in exported if r not in copies]
    assert len(others) == 1 and others[0]["cluster"] != copies[0]["cluster"]
