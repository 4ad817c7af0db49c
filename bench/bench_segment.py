"""Throughput of ``segment_text`` on one core, against a naive baseline in the same run.

Usage: python bench/bench_segment.py [--mb 5]

Builds at least ``--mb`` MB of synthetic page text from tests/fixtures/pages, then times
(1) the segmenter page by page (the real workload), (2) the segmenter on the whole
corpus as one text (guards against super-linear behaviour), and (3) a baseline that
only splits lines and cuts at datelines with a regex. Prints MB/s and the ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from watchers.segment import segment_text  # noqa: E402
from watchers.segment.cues import DATELINE  # noqa: E402

PAGES = ROOT / "tests" / "fixtures" / "pages"


def corpus(megabytes: float) -> list[str]:
    """Fixture pages, repeated with a varying number so no two pages are identical."""
    sources = [p.read_text(encoding="utf-8") for p in sorted(PAGES.glob("*.txt"))]
    pages: list[str] = []
    size = n = 0
    while size < megabytes * 1_000_000:
        page = sources[n % len(sources)].replace("6月", f"{n % 12 + 1}月")
        pages.append(page)
        size += len(page.encode("utf-8"))
        n += 1
    return pages


def baseline(text: str) -> list[list[str]]:
    """What a naive splitter does: lines, cut wherever a line opens with a dateline."""
    items: list[list[str]] = [[]]
    for line in text.splitlines():
        if DATELINE.match(line):
            items.append([])
        items[-1].append(line)
    return items


def timed(label: str, func: Callable[[str], object], texts: list[str], nbytes: int) -> float:
    start = time.perf_counter()
    for text in texts:
        func(text)
    seconds = time.perf_counter() - start
    rate = nbytes / 1e6 / seconds
    print(f"{label:<34} {seconds:7.2f} s  {rate:7.2f} MB/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=5.0, help="corpus size in MB (default 5)")
    args = parser.parse_args()
    pages = corpus(args.mb)
    nbytes = sum(len(p.encode("utf-8")) for p in pages)
    print(f"corpus: {len(pages)} pages, {nbytes / 1e6:.1f} MB of UTF-8 page text")
    segment_text(pages[0])  # load jieba's dictionary outside the timing
    per_page = timed("segment_text, page by page", segment_text, pages, nbytes)
    whole_text = ["\n\n".join(pages)]
    whole = timed(f"segment_text, one {args.mb:g} MB text", segment_text, whole_text, nbytes)
    base = timed("baseline: splitlines + dateline re", baseline, pages, nbytes)
    print(f"segmenter / baseline: {per_page / base:.3f}x page by page, {whole / base:.3f}x whole")


if __name__ == "__main__":
    main()
