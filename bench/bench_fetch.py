"""Fetch benchmark: one cycle over 500 sources on 50 local hosts, then one with nothing new.

Run: ``/work/main/.venv/bin/python bench/bench_fetch.py`` (about 75 s).

Default politeness (one request at a time per host, 1 s apart) makes the first cycle
cost about (requests per host) seconds; the second cycle should cost one conditional
request per source (304) and no article fetches, so a small fraction of the first.
Hosts are separate ports on 127.0.0.1: the fetcher's gates key on host:port.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from daemon.config import parse_config
from daemon.logs import configure_logging
from daemon.runtime import open_pipeline


def host_app(sources: int, articles: int, counter: list[int]) -> web.Application:
    """One host: ``sources`` list pages of ``articles`` articles each, all with ETags."""

    async def serve(request: web.Request) -> web.Response:
        counter[0] += 1
        parts = request.path.strip("/").split("/")
        if len(parts) == 2 and parts[1] == "list":
            items = "".join(
                f'<li><a href="/{parts[0]}/a{j}.html">消息{parts[0]}-{j}</a></li>'
                for j in range(articles)
            )
            html = f'<html><body><ul class="list">{items}</ul></body></html>'
        elif len(parts) == 2 and parts[1].startswith("a"):
            html = (
                f"<html><body><h1>{request.path}</h1>"
                f'<div id="zoom"><p>本报讯 {request.path} 的正文。</p></div></body></html>'
            )
        else:
            raise web.HTTPNotFound()
        body = html.encode()
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="text/html", headers={"ETag": etag})

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    return app


async def main(hosts: int, per_host: int, articles: int) -> None:
    configure_logging(json=False, level=40)
    counter = [0]
    runners: list[web.AppRunner] = []
    ports: list[int] = []
    for _ in range(hosts):
        runner = web.AppRunner(host_app(per_host, articles, counter), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        ports.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    with tempfile.TemporaryDirectory() as tmp:
        sources = "".join(
            f"""
[[sources]]
name = "h{h}-s{s}"
kind = "html"
url = "http://127.0.0.1:{port}/s{s}/list"
selectors = {{ item = "ul.list a", title = "h1", text = "#zoom" }}
"""
            for h, port in enumerate(ports)
            for s in range(per_host)
        )
        # Default [fetch] politeness: per_host_concurrency = 1, per_host_delay = 1s.
        config = parse_config(
            f'[storage]\nurl = "sqlite:///{tmp}/bench.db"\n{sources}', Path(tmp) / "c.toml"
        )
        async with open_pipeline(config) as pipeline:
            timings = []
            for label in ("first cycle (all new)", "second cycle (nothing new)"):
                counter[0] = 0
                start = time.monotonic()
                reports, _ = await pipeline.cycle()
                elapsed = time.monotonic() - start
                timings.append(elapsed)
                new = sum(r.new for r in reports)
                failed = sum(r.error is not None for r in reports)
                print(
                    f"{label}: {elapsed:6.1f} s, {counter[0]} requests, "
                    f"{new} new articles, {failed} failed sources"
                )
    for runner in runners:
        await runner.cleanup()
    print(
        f"{hosts} hosts x {per_host} sources x {articles} articles; "
        f"second/first = {timings[1] / timings[0]:.2f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--sources-per-host", type=int, default=10)
    parser.add_argument("--articles", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.hosts, args.sources_per_host, args.articles))
