"""A newspaper page served as text flows through segmentation, storage, rules and alerts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.cli_runner import run_cli
from tests.conftest import Catcher, Site

PAGES = Path(__file__).parent / "fixtures" / "pages"

CONFIG = """
[daemon]
# fixture pages are dated 2024: alert them on the first run too
first_run_window = "0s"

[storage]
url = "sqlite:///{db}"

[fetch]
per_host_delay = "0s"

[[sources]]
name = "county-page"
kind = "text"
url = "{base}/page.txt"
region = "济宁"

[[topics]]
name = "大蒜"
query = "大蒜"
channels = ["catch"]

[[channels]]
name = "catch"
url = "{catch}"
"""


async def test_page_text_source_alerts_per_article_not_per_page(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    page = (PAGES / "page-c-after-wrapped.txt").read_text(encoding="utf-8")
    gold = json.loads((PAGES / "gold.json").read_text(encoding="utf-8"))["page-c-after-wrapped.txt"]
    site.add("/page.txt", page, "text/plain; charset=utf-8")
    config = write_config(CONFIG.format(db=tmp_path / "t.db", base=site.base, catch=catcher.url))

    first = await run_cli("once", "--config", str(config))
    second = await run_cli("once", "--config", str(config))

    assert first.code == 0 and second.code == 0, first.err + second.err
    assert f"county-page: {len(gold)} new" in first.out
    assert "county-page: 0 new" in second.out
    exported = [
        json.loads(line)
        for line in (await run_cli("export", "--config", str(config))).out.splitlines()
    ]
    assert sorted(r["title"] for r in exported if r["title"]) == sorted(
        g["title"] for g in gold if g["title"]
    )
    garlic = [r for r in exported if "大蒜" in r["topics"]]
    assert [m["message"].split("\n")[0] for m in catcher.received] == [r["title"] for r in garlic]
    assert garlic and all(r["place"] == "金乡" for r in garlic)
