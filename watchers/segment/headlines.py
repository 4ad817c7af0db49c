"""Which body does each headline line belong to, and which line is kicker, title, banner.

Pages disagree on order: print layout puts a headline before its body, text pulled
out of a PDF often puts it after, and one page can mix both. So every run of
headline-shaped lines between two bodies is cut in up to three parts: the lines
heading the body before it (printed after that body), page-level lines (banners,
section headers: no article's), and the lines heading the body after it. Evidence:

* content: a headline shares rare words with its own body far more than with its
  neighbour's (words found in every nearby body, like the county name, weigh little);
  a kicker names its body's place, unit or theme, so a "kicker" sharing no word with
  the body is a banner;
* habit: the page's own order (before/after), learned from the headlines whose body
  is clear on content, plus the page edges (a page opening on a dateline prints its
  headlines after their bodies);
* shape: every article should get a headline, at most kicker + title (+ a dashed
  subtitle); a run of three or more lines above the first headline is a banner block.

A dynamic programme over the page picks the cuts maximising the total, at most one
headline per article. Headline words come from jieba, loaded lazily once; bodies are
only searched with ``in``, so the cost stays proportional to headline text.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jieba

_PRIOR = 0.4  # what the page's habit is worth against one headline's word overlap
_HEADED = 0.5  # an article with a headline: never leave a title empty without cause
_BANNER = -0.2  # a headline-shaped line left to no article (a banner) is the exception
_LONE_KICKER = -0.6  # a kicker or title sharing no word with its body: a banner instead
_SUBTITLE = -0.25  # a third line under kicker and title: its subtitle, when nothing else fits
_KICKER_SHARE = 0.3  # a kicker names its body: at least this share of its words recur there
_STUB = -0.4  # a "title" of a few characters or a bare unit name is a kicker or place line
_CERTAIN = 0.3  # overlap margin over the other neighbour that makes a headline's body certain
_ORG = re.compile(
    r"(?:[县区市镇乡村局委办厅处科所站队部社]|街道|社区|中心|公司|集团|学校|医院|法院|"
    r"学院|研究院|检察院|协会|联合会|妇联|团委|开发区|管委会)$"
)
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


@functools.lru_cache(maxsize=4096)
def _words(lines: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for line in lines:
        for word in head_words(line):
            seen.setdefault(word, None)
    return tuple(seen)


@dataclass(slots=True)
class Overlap:
    """Word overlap between headline text and nearby article bodies, rare words weighing more.

    The page search asks about the same lines many times, so word presence and
    scores are memoised for the page.
    """

    bodies: Sequence[str | None]  # None for units that cannot take a headline (photos)
    _where: dict[str, frozenset[int]] = field(default_factory=dict)
    _scores: dict[tuple[tuple[str, ...], int], float] = field(default_factory=dict)

    def score(self, head: str | Sequence[str], unit: int) -> float:
        """Share of the headline's (idf-weighted) words found in body ``unit``, 0..1.

        Several lines are tokenised one by one: joining a kicker to its title would
        make up words across the seam.
        """
        words = _words((head,) if isinstance(head, str) else tuple(head))
        key = (words, unit)
        if key not in self._scores:
            found, total = self._weights(words, unit)
            self._scores[key] = found / total if total else 0.0
        return self._scores[key]

    def mentions(self, line: str, unit: int, share: float = 0.0) -> bool:
        """Whether body ``unit`` speaks of ``line``: uses it whole, or more than ``share``
        of its words (``梁山县`` also as ``梁山``).

        For a kicker one common word (``优化``) is not enough: a section header shares
        as much with the stories under it.
        """
        body = self.bodies[unit] or ""
        compact = line.replace(" ", "").replace("\u3000", "")
        if len(compact) >= 2 and (compact in body or compact[:-1] in body):
            return True
        words = head_words(line)
        found = sum(
            word in body or (len(word) >= 3 and word[-1] in _ADMIN and word[:-1] in body)
            for word in words
        )
        return bool(words) and found > share * len(words)

    def _units_with(self, word: str) -> frozenset[int]:
        if word not in self._where:
            self._where[word] = frozenset(
                u for u, body in enumerate(self.bodies) if body is not None and word in body
            )
        return self._where[word]

    def _weights(self, words: Sequence[str], unit: int) -> tuple[float, float]:
        if self.bodies[unit] is None or not words:
            return 0.0, 0.0
        lo, hi = max(0, unit - _WINDOW), min(len(self.bodies), unit + _WINDOW + 1)
        near = sum(1 for u in range(lo, hi) if self.bodies[u] is not None)
        total = found = 0.0
        for word in words:
            units = self._units_with(word)
            df = sum(1 for u in units if lo <= u < hi)
            if df == 0:
                continue
            weight = math.log(1 + near / df)
            total += weight
            if unit in units:
                found += weight
        return found, total


@dataclass(frozen=True, slots=True)
class HeadLine:
    """One headline-shaped paragraph as printed: its lines, font size, dashed subtitle."""

    text: str
    printed: tuple[str, ...] = ()
    size: float | None = None
    subtitle: str = ""


@dataclass(frozen=True, slots=True)
class Headline:
    """The headline chosen for one article, and how sure the choice is."""

    kicker: str
    title: str
    subtitle: str
    confidence: float


@dataclass(slots=True)
class Plan:
    """Headline of each unit (by index) and the page-level lines of each gap."""

    heads: dict[int, Headline]
    banners: list[list[str]]  # per gap: lines that belong to no article
    after: bool  # the page's habit


_DASHES = ("——", "──", "—", "－－")


def fold_subtitles(lines: Sequence[HeadLine]) -> list[HeadLine]:
    """A line opening with a dash is the subtitle of the line above it (also in one box)."""
    out: list[HeadLine] = []
    for line in lines:
        cut = next((k for k, p in enumerate(line.printed) if k and p.startswith(_DASHES)), 0)
        if cut:
            rest = "".join(line.printed[cut:]).lstrip("—─－ ")
            head = line.printed[:cut]
            line = HeadLine("".join(head), head, line.size, rest)
        if line.text.lstrip().startswith(_DASHES) and out:
            prev = out[-1]
            out[-1] = HeadLine(prev.text, prev.printed, prev.size, line.text.lstrip("—─－ "))
        else:
            out.append(line)
    return out


def plan(gaps: Sequence[Sequence[HeadLine]], takes: Sequence[bool], overlap: Overlap) -> Plan:
    """Cut every gap's lines into (heads the body before, banners, heads the body after).

    ``gaps[i]`` holds the headline-shaped lines between unit i-1 and unit i
    (``gaps[0]`` above the first unit, ``gaps[-1]`` below the last); ``takes[u]``
    says whether unit u can carry a headline (photos cannot).
    """
    folded = [fold_subtitles(g) for g in gaps]
    seen = Counter(line.text for g in folded for line in g)
    repeated = frozenset(text for text, count in seen.items() if count > 1)
    options = _cuts(folded, takes, overlap, repeated)
    after = _habit(folded, takes, overlap, _search(options, 0.0, 0.0))
    prior_after, prior_before = (_PRIOR, 0.0) if after else (0.0, _PRIOR)
    cuts = _search(options, prior_after, prior_before)
    heads: dict[int, Headline] = {}
    banners: list[list[str]] = []
    for i, (lines, (a, b)) in enumerate(zip(folded, cuts, strict=True)):
        m = len(lines)
        if a:
            heads[i - 1] = _headline(lines[:a], i - 1, overlap, agrees=after)
        if b:
            trimmed = i == 0 and m >= 4
            heads[i] = _headline(lines[m - b :], i, overlap, agrees=not after, trimmed=trimmed)
        banners.append([line.text for line in lines[a : m - b]])
    return Plan(heads, banners, after)


def _options(m: int, i: int, takes: Sequence[bool]) -> list[tuple[int, int]]:
    n = len(takes)
    out = []
    for a in range(min(3, m) + 1):
        if a and not (i >= 1 and takes[i - 1]):
            continue
        for b in range(min(3, m - a) + 1):
            if b and not (i < n and takes[i]):
                continue
            if i == 0 and m >= 4 and b >= 2:
                continue  # a page-top run: the line above the title ends the banner block
            out.append((a, b))
    return out


def _fit(part: Sequence[HeadLine], unit: int, overlap: Overlap) -> float:
    if len(part) == 3:  # kicker, title and an undashed subtitle under it
        return _SUBTITLE + _fit(part[:2], unit, overlap)
    value = overlap.score([line.text for line in part], unit)
    compact = part[-1].text.replace(" ", "")
    if len(compact) < 5 or (len(compact) <= 12 and _ORG.search(compact)):
        value += _STUB
    if len(part) == 2 and not _sized_title(part):
        # kicker and title both speak of their body; a line that does not is a banner
        kicker, title = part
        value += 0.0 if overlap.mentions(kicker.text, unit, _KICKER_SHARE) else _LONE_KICKER
        value += 0.0 if overlap.mentions(title.text, unit) else _LONE_KICKER
    return value


def _sized_title(part: Sequence[HeadLine]) -> bool:
    s1, s2 = part[0].size, part[1].size
    return s1 is not None and s2 is not None and s1 > s2 * 1.1


_Cut = tuple[int, int, float]  # lines heading the body before, lines heading the next, value


def _cuts(
    gaps: Sequence[Sequence[HeadLine]],
    takes: Sequence[bool],
    overlap: Overlap,
    repeated: frozenset[str],
) -> list[list[_Cut]]:
    """Every allowed cut of every gap, valued without the page habit (added per search).

    A line printed more than once on the page is a running section header or a
    kicker shared by several stories (``嘉祥县``), never a title.
    """
    out: list[list[_Cut]] = []
    for i, lines in enumerate(gaps):
        m = len(lines)
        cuts: list[_Cut] = []
        for a, b in _options(m, i, takes):
            if (a and lines[a - 1].text in repeated) or (b and lines[-1].text in repeated):
                continue
            value = _BANNER * (m - a - b)
            if a:
                value += _HEADED + _fit(lines[:a], i - 1, overlap)
            if b:
                value += _HEADED + _fit(lines[m - b :], i, overlap)
            cuts.append((a, b, value))
        out.append(cuts)
    return out


def _search(
    options: Sequence[Sequence[_Cut]], prior_after: float, prior_before: float
) -> list[tuple[int, int]]:
    """Best (a, b) cut per gap: exact optimum by dynamic programming along the page."""
    # best[claimed]: best total so far, given whether the next unit already has a headline
    best: dict[bool, float] = {False: 0.0}
    back: list[dict[bool, tuple[bool, tuple[int, int]]]] = []
    for allowed in options:
        nxt: dict[bool, float] = {}
        choice: dict[bool, tuple[bool, tuple[int, int]]] = {}
        for claimed, value in best.items():
            for a, b, gain in allowed:
                if a and claimed:
                    continue
                total = value + gain + (prior_after if a else 0.0) + (prior_before if b else 0.0)
                state = b > 0
                if total > nxt.get(state, -math.inf):
                    nxt[state] = total
                    choice[state] = (claimed, (a, b))
        back.append(choice)
        best = nxt
    state = max(best, key=lambda s: best[s])
    cuts: list[tuple[int, int]] = [(0, 0)] * len(options)
    for i in range(len(options) - 1, -1, -1):
        state, cuts[i] = back[i][state]
    return cuts


def _habit(
    gaps: Sequence[Sequence[HeadLine]],
    takes: Sequence[bool],
    overlap: Overlap,
    cuts: Sequence[tuple[int, int]],
) -> bool:
    """True when this page prints headlines after their bodies.

    The page edges say it (a page opening on a body, or closing on headlines), and
    so does every headline whose body is certain: it shares clearly more words with
    that body than with the body on its other side.
    """
    n = len(takes)
    evidence = 1.0 if not gaps[0] else 0.0
    evidence += 1.0 if gaps[n] else -1.0
    for i, (lines, (a, b)) in enumerate(zip(gaps, cuts, strict=True)):
        m = len(lines)
        if a:
            part = [x.text for x in lines[:a]]
            own = overlap.score(part, i - 1)
            other = overlap.score(part, i) if i < n else 0.0
            evidence += 1.0 if own - other >= _CERTAIN else 0.0
        if b:
            part = [x.text for x in lines[m - b :]]
            own = overlap.score(part, i)
            other = overlap.score(part, i - 1) if i >= 1 else 0.0
            evidence -= 1.0 if own - other >= _CERTAIN else 0.0
    return evidence > 0


def _headline(
    part: Sequence[HeadLine],
    unit: int,
    overlap: Overlap,
    *,
    agrees: bool,
    trimmed: bool = False,
) -> Headline:
    """The headline, with a confidence from word overlap, the habit and the shape."""
    kicker, title, subtitle = split_part(part)
    confidence = 0.45 + 0.45 * min(1.0, overlap.score([kicker, title], unit))
    confidence += 0.1 if agrees else 0.0
    confidence -= 0.15 if trimmed else 0.0
    return Headline(kicker, title, subtitle, round(max(0.05, min(1.0, confidence)), 2))


def split_part(part: Sequence[HeadLine]) -> tuple[str, str, str]:
    """(kicker, title, subtitle) of the lines heading one article.

    Two lines are kicker and title, unless the PDF prints the first larger (then it
    is the title and the second its subtitle); a third line is the subtitle. One
    paragraph printed on two lines is a wrapped title, or a kicker and title set in
    one box when its first line names a place or unit
    (``经开区综合行政执法局`` / ``精细执法 城市有序``).
    """
    if len(part) == 3:
        kicker, title, subtitle = part
        return kicker.text, title.text, title.subtitle or subtitle.text
    if len(part) == 2:
        first, second = part
        if _sized_title(part):
            return "", first.text, first.subtitle or second.text
        return first.text, second.text, second.subtitle
    (line,) = part
    printed = line.printed
    if len(printed) >= 2 and _ORG.search(printed[0].strip()) and len(printed[0].strip()) >= 3:
        return printed[0].strip(), "".join(p.strip() for p in printed[1:]), line.subtitle
    return "", line.text, line.subtitle
