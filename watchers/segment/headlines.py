"""Which body does each headline belong to, and which line is kicker, title, banner.

Pages disagree on order: print layout puts a headline before its body, text pulled
out of a PDF often puts it after. Two kinds of evidence decide, per page and then
per headline:

* structure: a page that opens on a dateline and ends on a headline reads
  "body then headline"; one that opens on a headline and ends on body reads
  "headline then body";
* content: a headline shares rare words with its own body far more than with its
  neighbour's (words found in every nearby body, like the county name, weigh little).

A small dynamic programme then gives each headline group to the body before or after
it (or to none: a banner), at most one group per article, maximising page prior plus
word overlap. Headline words come from jieba, loaded lazily once; bodies are only
searched with ``in``, so the cost stays proportional to headline text, not page text.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

_PRIOR = 0.6  # what the page-level order is worth against one headline's word overlap
_UNASSIGNED = -0.3  # a headline-like group left without an article is likely a banner
_WINDOW = 6  # idf is computed over this many articles either side (page-local)
_ADMIN = frozenset("省市县区镇乡村")  # place-name suffixes a dateline often drops
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _jieba() -> jieba.Tokenizer:
    """jieba's dictionary takes about a second to load: do it once, on first use."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            _tokenizer = tokenizer
        return _tokenizer


@functools.lru_cache(maxsize=4096)
def head_words(text: str) -> tuple[str, ...]:
    """Content words of a headline: two or more characters, at least one of them Han."""
    seen: dict[str, None] = {}
    for word in _jieba().lcut(text.replace(" ", "").replace("\u3000", "")):
        if len(word) >= 2 and any("\u4e00" <= ch <= "\u9fff" for ch in word):
            seen.setdefault(word, None)
    return tuple(seen)


@dataclass(slots=True)
class Overlap:
    """Word overlap between headline text and nearby article bodies, rare words weighing more."""

    bodies: Sequence[str | None]  # None for units that cannot take a headline (photos)

    def score(self, head: str, unit: int) -> float:
        """Share of the headline's (idf-weighted) words found in body ``unit``, 0..1."""
        found, total = self._weights(head, unit)
        return found / total if total else 0.0

    def mentions(self, line: str, unit: int) -> bool:
        """Whether body ``unit`` uses any word of ``line`` (``梁山县`` also as ``梁山``)."""
        body = self.bodies[unit] or ""
        for word in head_words(line):
            if word in body or (len(word) >= 3 and word[-1] in _ADMIN and word[:-1] in body):
                return True
        return False

    def _weights(self, head: str, unit: int) -> tuple[float, float]:
        body = self.bodies[unit]
        if body is None or not head:
            return 0.0, 0.0
        lo, hi = max(0, unit - _WINDOW), min(len(self.bodies), unit + _WINDOW + 1)
        near = [b for b in self.bodies[lo:hi] if b is not None]
        total = found = 0.0
        for word in head_words(head):
            df = sum(word in b for b in near)
            if df == 0:
                continue
            weight = math.log(1 + len(near) / df)
            total += weight
            if word in body:
                found += weight
        return found, total


def page_order(groups: Sequence[str], takes: Sequence[bool], overlap: Overlap) -> bool:
    """True when this page prints headlines after their bodies.

    ``groups[i]`` is the headline text between unit i-1 and unit i (``groups[0]``
    before the first unit, ``groups[-1]`` after the last); ``takes[u]`` says
    whether unit u can carry a headline.
    """
    n = len(takes)
    evidence = 1.0 if not groups[0] else -1.0
    evidence += 1.0 if groups[n] else -1.0
    for i in range(1, n):
        if groups[i] and takes[i - 1] and takes[i]:
            evidence += 2 * (overlap.score(groups[i], i - 1) - overlap.score(groups[i], i))
    return evidence > 0


def assign(
    groups: Sequence[str], takes: Sequence[bool], overlap: Overlap, after: bool
) -> list[int | None]:
    """For each group, the unit it heads (None: no unit, a banner).

    Group i may go to unit i-1 (after its body) or unit i (before it); each unit
    takes at most one group. Exact optimum by dynamic programming over a path.
    """
    n = len(takes)
    prior_after, prior_before = (_PRIOR, 0.0) if after else (0.0, _PRIOR)
    # best[c]: best score so far given whether unit i (the next one) is already claimed
    best: dict[bool, float] = {False: 0.0}
    back: list[dict[bool, tuple[bool, int | None]]] = []
    for i in range(n + 1):
        nxt: dict[bool, float] = {}
        choice: dict[bool, tuple[bool, int | None]] = {}

        def offer(
            state: bool,
            value: float,
            prev: bool,
            target: int | None,
            nxt: dict[bool, float] = nxt,
            choice: dict[bool, tuple[bool, int | None]] = choice,
        ) -> None:
            if value > nxt.get(state, -math.inf):
                nxt[state] = value
                choice[state] = (prev, target)

        for claimed, value in best.items():
            head = groups[i]
            if not head:
                offer(False, value, claimed, None)
                continue
            offer(False, value + _UNASSIGNED, claimed, None)
            if i >= 1 and takes[i - 1] and not claimed:
                offer(False, value + prior_after + overlap.score(head, i - 1), claimed, i - 1)
            if i < n and takes[i]:
                offer(True, value + prior_before + overlap.score(head, i), claimed, i)
        back.append(choice)
        best = nxt
    state = max(best, key=lambda s: best[s])
    targets: list[int | None] = [None] * (n + 1)
    for i in range(n, -1, -1):
        prev, target = back[i][state]
        targets[i] = target
        state = prev
    return targets


def split_group(
    lines: Sequence[str],
    sizes: Sequence[float | None],
    overlap: Overlap,
    unit: int,
    after: bool,
) -> tuple[str, str, str]:
    """(kicker, title, subtitle) from a headline group's lines, extra lines being banners.

    The title is the last line of the pair (kicker above title), or the line in the
    largest font when the PDF says so; a line opening with a dash is a subtitle.
    With three or more lines the pair next to the body is kicker and title and the
    rest are banners (word overlap cannot decide this: a section banner shares its
    theme with the articles under it). A kicker names the body's place, unit or
    theme, so a first line sharing no word with the body is a banner instead.
    """
    subtitle = ""
    rest: list[tuple[str, float | None]] = []
    for line, size in zip(lines, sizes, strict=True):
        if line.lstrip().startswith(("——", "──", "—", "－－")) and rest:
            subtitle = line.lstrip("—─－ ")
        else:
            rest.append((line, size))
    if not rest:
        return "", subtitle, ""
    if len(rest) > 2:
        rest = rest[:2] if after else rest[-2:]
    if len(rest) == 1:
        return "", rest[0][0], subtitle
    (first, s1), (second, s2) = rest
    if s1 is not None and s2 is not None and s1 > s2 * 1.1:
        return "", first, subtitle or second
    if not overlap.mentions(first, unit):
        return "", second, subtitle
    return first, second, subtitle
