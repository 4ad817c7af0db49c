"""``tingfeng demo``: the whole pipeline against a bundled local site, no account needed.

With ``--web`` the console then opens on the demo's data, with an administrator whose
password is made up and printed once, so a new user sees the console without writing
a config or making an account.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import tempfile
from pathlib import Path
from typing import Any

from daemon.commands._shared import run_async
from daemon.commands.once import delivery_lines, one_cycle, source_line
from daemon.config import Config, parse_config
from daemon.demo.site import start_site
from daemon.errors import UserError

DEMO_CONFIG = """\
[daemon]
# the demo pages are dated May 2024: alert them on the first run anyway
first_run_window = "0s"

[storage]
url = "sqlite:///{db}"

[fetch]
per_host_delay = "0.2s"

[[sources]]
name = "鱼台融媒"
kind = "feed"
url = "{base}/feed.xml"
region = "鱼台"

[[sources]]
name = "嘉祥政府网"
kind = "html"
url = "{base}/list.html"
region = "嘉祥"
selectors = {{ item = "ul.news-list li a", title = "h1", text = "#zoom", date = ".date" }}

[[sources]]
name = "县报第2版"
kind = "text"
url = "{base}/page.txt"

[[topics]]
name = "燃气安全"
query = "液化石油气 OR 液化气 OR 燃气"
channels = ["terminal"]

[[topics]]
name = "疫苗接种"
query = "疫苗"
channels = ["terminal"]

[[topics]]
name = "防汛"
query = "防汛 OR 暴雨"
channels = ["terminal"]

[[channels]]
name = "terminal"
url = "console://"
"""


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("demo", parents=[common])
    parser.add_argument("--keep", metavar="DIR", help="keep the demo database in DIR")
    parser.add_argument(
        "--web",
        action="store_true",
        help="then serve the web console on the demo data until Ctrl-C",
    )
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help=f"with --web: the console's address (default {DEMO_LISTEN}, or a free port)",
    )
    parser.set_defaults(handler=run)


DEMO_LISTEN = "127.0.0.1:8750"
DEMO_ADMIN = "admin"


async def serve_console(config: Config, listen: str | None) -> None:
    """The console on the demo database, with a fresh password for ``admin``."""
    from daemon.console_config import effective_config
    from daemon.runtime import open_database
    from daemon.web.app import Console
    from daemon.web.passwords import hash_password
    from daemon.web.serving import serve_until_stopped, start_console
    from storage import accounts

    password = secrets.token_urlsafe(9)
    hashed = await asyncio.to_thread(hash_password, password)
    async with open_database(config) as db:
        if await accounts.find_user(db, DEMO_ADMIN) is None:
            await accounts.add_user(db, DEMO_ADMIN, hashed, admin=True)
        else:  # --keep: the earlier run's password was printed once and is gone
            await accounts.set_password(db, DEMO_ADMIN, hashed)
        console = Console(config=await effective_config(config, db), db=db)
        try:
            runner, url = await start_console(console, listen or DEMO_LISTEN, origin="--listen")
        except UserError:
            if listen is not None:
                raise
            runner, url = await start_console(console, "127.0.0.1:0", origin="--listen")
        print(f"\nconsole: {url}  user: {DEMO_ADMIN}  password: {password}")
        print("(the password is shown only now; Ctrl-C stops the console)", flush=True)
        await serve_until_stopped(runner)


async def demo(folder: Path, web: bool = False, listen: str | None = None) -> None:
    runner, base = await start_site()
    try:
        db = folder / "demo.db"
        config = parse_config(DEMO_CONFIG.format(db=db, base=base), folder / "demo.toml")
        print(f"demo site: {base}/  database: {db}")
        print(f"watching {len(config.sources)} sources for {len(config.topics)} topics\n")
        reports, delivered = await one_cycle(config, lambda report: None)
        print("\nsummary:")
        for line in [*map(source_line, reports), *delivery_lines(delivered)]:
            print(line)
        from daemon.commands.export import rows

        print("\nmatched articles:")
        for record in await rows(config, None):
            if record["topics"]:
                print(
                    json.dumps(
                        {k: record[k] for k in ("title", "source", "topics", "cluster")},
                        ensure_ascii=False,
                    )
                )
        print("\nArticles that share a cluster are one story: alerted once per topic.")
        if web:
            # The demo site stays up meanwhile: the console links to its articles.
            await serve_console(config, listen)
    finally:
        await runner.cleanup()


def run(args: argparse.Namespace) -> int:
    if args.keep:
        folder = Path(args.keep)
        folder.mkdir(parents=True, exist_ok=True)
        run_async(demo(folder, args.web, args.listen))
    else:
        with tempfile.TemporaryDirectory(prefix="tingfeng-demo-") as tmp:
            run_async(demo(Path(tmp), args.web, args.listen))
    return 0
