"""Quoting cost: ``python bench/bench_quotes.py [--mb 5]``.

Alerts quote the original text through the offset map of ``rules.normalize_mapped``;
the matcher never builds it. This measures what it costs where it is used, against
``normalize`` (what matching pays anyway) in the same run:

(a) ``normalize`` vs ``normalize_mapped`` over ``--mb`` MB of newspaper-like text
    (full-width punctuation, hard line wraps, Latin, traditional characters);
(b) one alert snippet from an article of that size, the hit at the top (only a prefix
    is mapped) and at the very end (the whole text is mapped).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.notify.render import snippet_segments
from daemon.pipeline import combined_hits
from rules import Document, TopicRule, compile_rules, normalize, normalize_mapped
from storage.deliveries import Alert

LINE = (
    "本报金乡讯（通讯员 王强）近日，县应急管理局通过手机扶贫APP发布提示：瓶装液\n"
    "化石油气鋼瓶须定期检验。\n"
)


def timed(func, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = func(*args)
    return time.perf_counter() - start, result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=5.0)
    args = ap.parse_args()
    text = LINE * int(args.mb * 1_000_000 / len(LINE.encode()))
    print(f"text: {len(text.encode()) / 1e6:.1f} MB UTF-8, {len(text) / 1e6:.2f} M chars")
    plain, normal = timed(normalize, text)
    mapped_time, mapped = timed(normalize_mapped, text)
    assert mapped.text == normal
    print(
        f"(a) normalize {plain:.2f} s, normalize_mapped {mapped_time:.2f} s: "
        f"{mapped_time / plain:.1f}x (render only; matching never maps)"
    )
    matcher = compile_rules([TopicRule("t", "液化石油气", mode="substring")])
    for where, pick in (("top", 0), ("end", -1)):
        body = "液化石油气" + text + "液化石油气"
        (found,) = matcher.match(Document("1", "标题", body))
        text_hits = sorted((h for h in found.hits if h.field == "text"), key=lambda h: h.start)
        hits = combined_hits("标题", [text_hits[pick]])
        alert = Alert("t", "标题", "http://x", "s", [], "", None, body, hits)
        seconds, segments = timed(snippet_segments, alert)
        assert any(s.hit for s in segments)
        print(f"(b) snippet, hit at the {where}: {seconds * 1000:.0f} ms")


if __name__ == "__main__":
    main()
