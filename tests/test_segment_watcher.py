"""``PageTextWatcher`` on a local page: items become drafts with stable URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.pipeline import run_cpu
from watchers.base import WatchContext, WatchError
from watchers.fetch import Fetcher
from watchers.pagetext import PageTextWatcher
from watchers.pagetext_settings import PageFileSource
from watchers.settings import FetchConfig

PAGE = Path(__file__).parent / "fixtures" / "pages" / "page-c-after-wrapped.txt"


async def _nothing_known(urls: object) -> set[str]:
    return set()


def _ctx() -> WatchContext:
    """A real context; local pages never reach the fetcher."""
    return WatchContext(Fetcher(FetchConfig()).for_run(None), run_cpu, _nothing_known)


def _source(url: str, kind: str = "text") -> PageFileSource:
    return PageFileSource(name="county-page", kind=kind, url=url)


async def test_local_page_yields_drafts_with_stable_urls() -> None:
    watcher = PageTextWatcher()
    first = await watcher.poll(_source(str(PAGE)), _ctx())
    again = await watcher.poll(_source(PAGE.as_uri()), _ctx())
    assert len(first) == 6
    assert [d.url.split("#")[1] for d in first] == [d.url.split("#")[1] for d in again]
    assert len({d.url for d in first}) == 6
    garlic = first[0]
    assert (garlic.kicker, garlic.title, garlic.place) == (
        "金乡县",
        "大蒜冷链物流园投入运营",
        "金乡",
    )
    assert garlic.url.startswith(f"{PAGE}#")
    assert [d.kind for d in first].count("photo") == 1
    assert first[-1].continued_to == "2"


async def test_unreadable_or_binary_page_is_a_watch_error(tmp_path: Path) -> None:
    watcher = PageTextWatcher()
    with pytest.raises(WatchError, match=r"missing\.txt"):
        await watcher.poll(_source(str(tmp_path / "missing.txt")), _ctx())
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(WatchError, match="not page text"):
        await watcher.poll(_source(str(blob), kind="pdf"), _ctx())
