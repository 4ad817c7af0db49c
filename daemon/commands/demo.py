"""``tingfeng demo``: the whole pipeline against a bundled local site, no account needed."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from daemon.commands._shared import run_async
from daemon.commands.once import delivery_lines, one_cycle, source_line
from daemon.config import parse_config
from daemon.demo.site import start_site

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
    parser.set_defaults(handler=run)


async def demo(folder: Path) -> None:
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
    finally:
        await runner.cleanup()


def run(args: argparse.Namespace) -> int:
    if args.keep:
        folder = Path(args.keep)
        folder.mkdir(parents=True, exist_ok=True)
        run_async(demo(folder))
    else:
        with tempfile.TemporaryDirectory(prefix="tingfeng-demo-") as tmp:
            run_async(demo(Path(tmp)))
    return 0
