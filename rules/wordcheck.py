"""Chinese word-boundary check: is an automaton hit a word, or just a substring?

Plain substring matching finds ``化石`` inside ``液化石油气`` and ``和服`` inside
``提供和服务``. A hit counts in word mode when jieba's dictionary segmentation
(with every rule term added to the dictionary, as ``jieba.add_word`` would) puts a
boundary at both ends of it, or when the hit is a dictionary sub-word of the
segment covering it (``石油气`` in ``液化石油气``), found by re-segmenting that
segment without its whole-word reading (recursively, like a finer search mode).

Only the clause around a hit is segmented, never the whole article. The jieba
dictionary is loaded once and treated as read-only; each compiled matcher keeps
a private copy with its rule terms added, so matchers never fight over global state.
"""

from __future__ import annotations

import bisect
import importlib.util
import itertools
import math
import os
import re
import string
import threading
from collections.abc import Iterable
from dataclasses import dataclass

# jieba's own block pattern (re_han_default): segmentation happens inside these runs,
# everything else (punctuation, spaces) is a boundary anyway.
_BLOCK_CHARS = r"\u4E00-\u9FD5a-zA-Z0-9+#&._%\-"
_OUTSIDE = re.compile(f"[^{_BLOCK_CHARS}]")
_LATIN = frozenset(string.ascii_letters + string.digits)
_LONG = 5
"""Keys this long are few (words of five or more characters and their prefixes)."""
_MAX_BLOCK = 256
"""Longer unpunctuated runs (a 100,000-character article) are cut in windows around hits."""
_WINDOW = 48
_PAIR_MASK = (1 << 24) - 1
"""A character pair's slot in a pair bitmap: 2**24 bits (2 MB), so few pairs share one."""

_base_lock = threading.Lock()
_base: BaseDictionary | None = None


@dataclass(frozen=True)
class BaseDictionary:
    """jieba's prefix dictionary as log probabilities, loaded once per process.

    ``0.0`` marks a prefix that is not a word (a real log probability is negative), so
    one look-up answers both "is this a prefix?" and "what does this word score?", and
    the DAG needs no logarithm per edge. jieba's own frequency table is dropped once
    this is built (tens of megabytes in a daemon): :meth:`freq` recovers a frequency
    exactly from its log probability, and equal frequencies share one float object.
    ``singles`` (the one-character keys) and ``long_keys`` (those of :data:`_LONG`
    characters or more) are small tables that stay in the processor's cache: every
    character of a segmented clause is looked up, and most long strings are not keys,
    where a look-up in ``logp`` costs a trip to memory.
    """

    logp: dict[str, float]
    logtotal: float
    longest: int
    singles: dict[str, float]
    long_keys: frozenset[str]
    pairs: bytes
    """:func:`pair_bitmap` of every word (not prefix) in ``logp``."""

    def freq(self, word: str) -> int:
        """jieba's frequency of ``word``; 0 for a prefix or an unknown string."""
        lp = self.logp.get(word)
        return round(math.exp(lp + self.logtotal)) if lp else 0


def base_dictionary() -> BaseDictionary:
    """The shared :class:`BaseDictionary`, from the cache (:mod:`rules.cache`) or jieba.

    Thread-safe; jieba itself is never imported, only its dictionary file read.
    """
    from rules.cache import cache_dir, load_dictionary, save_dictionary

    global _base
    with _base_lock:
        if _base is None:
            directory = cache_dir()
            cached = load_dictionary(directory) if directory is not None else None
            if cached is not None:
                logp, logtotal, pairs = cached
            else:
                logp, logtotal = _from_jieba()
                pairs = bytes(pair_bitmap(word for word, lp in logp.items() if lp))
            singles = {k: v for k, v in logp.items() if len(k) == 1}
            long_keys = frozenset(k for k in logp if len(k) >= _LONG)
            longest = max(map(len, long_keys or logp))
            _base = BaseDictionary(logp, logtotal, longest, singles, long_keys, pairs)
            if directory is not None and cached is None:
                save_dictionary(directory, logp, logtotal, pairs)
        return _base


def pair_bitmap(words: Iterable[str], bitmap: bytearray | None = None) -> bytearray:
    """A bit set (in ``bitmap``, else a new one) for each two adjacent characters of each word.

    A dictionary word crossing a position holds the two characters around it, so a
    clear bit rules every such word out with one probe: most hits'
    edges are settled without a dictionary look-up. A set bit may be a collision and
    proves nothing.
    """
    if bitmap is None:
        bitmap = bytearray((_PAIR_MASK + 1) >> 3)
    for word in words:
        for a, b in itertools.pairwise(word):
            slot = ((ord(a) << 10) ^ ord(b)) & _PAIR_MASK
            bitmap[slot >> 3] |= 1 << (slot & 7)
    return bitmap


def jieba_dictionary_path() -> str:
    """jieba's default dictionary file, found without importing jieba (and its baggage)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        raise RuntimeError("jieba is not installed")
    return os.path.join(os.path.dirname(spec.origin), "dict.txt")


def read_jieba_dictionary() -> tuple[dict[str, int], int]:
    """jieba's prefix dictionary (word -> frequency, other prefixes -> 0) and total frequency.

    Built from dict.txt as jieba's Tokenizer builds it (a later line for a word wins and
    every line counts towards the total; a test compares the two), but without importing
    jieba, whose module state and pkg_resources cost a daemon memory it never gives back.
    """
    freq: dict[str, int] = {}
    total = 0
    with open(jieba_dictionary_path(), "rb") as fh:
        for raw in fh:
            word, count = raw.strip().decode("utf-8").split(" ")[:2]
            freq[word] = int(count)
            total += int(count)
            for k in range(1, len(word)):
                freq.setdefault(word[:k], 0)
    return freq, total


def _from_jieba() -> tuple[dict[str, float], float]:
    words, total = read_jieba_dictionary()
    logtotal = math.log(total)
    shared: dict[int, float] = {}
    logp = {}
    for word, f in words.items():
        lp = shared.get(f)
        if lp is None:
            lp = shared[f] = math.log(f) - logtotal if f else 0.0
        logp[word] = lp
    return logp, logtotal


def is_latin(ch: str) -> bool:
    """ASCII letters and digits: word edges for them are checked by neighbour, not jieba."""
    return ch in _LATIN


OwnWords = list[tuple[str, float]]
"""A matcher's own terms with their log probabilities, in the order they were added."""


class WordChecker:
    """Decides word-mode hits for one compiled matcher: jieba's dictionary plus its terms.

    The matcher's terms (and their prefixes jieba lacks) live in a small dictionary of
    its own, looked up before the shared base: no other matcher sees them, and a
    matcher costs a few hundred kilobytes instead of a copy of the base's table.
    ``own`` (from :attr:`own_words` of an earlier checker for the same terms, e.g. a
    compiled-matcher cache) skips computing the terms' frequencies; the dictionary is
    then loaded on first use, so a matcher that never checks a CJK word never loads it.
    """

    def __init__(self, terms: set[str], own: OwnWords | None = None) -> None:
        self._checks_words = bool(terms)
        self._lock = threading.Lock()
        self._base: dict[str, float] | None = None
        self._own: dict[str, float] = {}
        self._singles: dict[str, float] = {}  # the base's, with this matcher's own over them
        self._own_singles: dict[str, float] = {}  # a private copy, once an own entry needs it
        self._long_keys: frozenset[str] = frozenset()
        self._pairs = bytearray()  # the base's pair bitmap with this matcher's terms marked too
        self._fine_cache: dict[str, frozenset[tuple[int, int]]] = {}
        if own is not None:
            self.own_words = own
            return
        base = base_dictionary()
        self._logtotal, self._longest = base.logtotal, base.longest
        self._long_keys, self._singles = base.long_keys, base.singles
        self._pairs = bytearray(base.pairs)
        self._base = base.logp
        self.own_words = []
        for term in sorted(t for t in terms if t and not all(is_latin(c) for c in t)):
            lp = math.log(self._suggest_freq(term, base)) - self._logtotal
            self.own_words.append((term, lp))
            self._add(term, lp, base.logp)

    def _add(self, term: str, lp: float, base: dict[str, float]) -> None:
        """As ``jieba.add_word``: the term with its weight, its prefixes as prefixes."""
        self._own[term] = lp
        self._longest = max(self._longest, len(term))
        pair_bitmap((term,), self._pairs)
        for k in range(1, len(term)):
            prefix = term[:k]
            if prefix not in self._own and prefix not in base:
                self._own[prefix] = 0.0
        head = term[0]
        if head in self._own:  # own entries come first: the single-character table too
            if self._singles is not self._own_singles:  # still the shared base table
                self._own_singles = dict(self._singles)
            self._own_singles[head] = self._own[head]
            self._singles = self._own_singles

    @property
    def needs_dictionary(self) -> bool:
        """True while the dictionary is still to be loaded (and some term needs a word check)."""
        return self._base is None and self._checks_words

    def prepare(self) -> None:
        self._dictionaries()

    def pairs(self) -> bytearray:
        """The :func:`pair_bitmap` of every word this checker knows (loaded on first use)."""
        self._dictionaries()
        return self._pairs

    def _dictionaries(self) -> tuple[dict[str, float], dict[str, float]]:
        """(own, base): look a string up in the first, then the second; loaded on first use."""
        if self._base is None:
            with self._lock:
                if self._base is None:
                    base = base_dictionary()
                    self._logtotal, self._longest = base.logtotal, base.longest
                    self._long_keys, self._singles = base.long_keys, base.singles
                    self._pairs = bytearray(base.pairs)
                    for term, lp in self.own_words:
                        self._add(term, lp, base.logp)
                    self._base = base.logp  # last: other threads read without the lock
        assert self._base is not None
        return self._own, self._base

    def _suggest_freq(self, term: str, base: BaseDictionary) -> int:
        """The frequency ``jieba.add_word`` would give: just enough to keep the term whole."""
        total = math.exp(self._logtotal)
        p = 1.0
        for a, b in _pairs(self._cut(term)):
            p *= (base.freq(term[a:b]) or 1) / total
        return max(int(p * total) + 1, base.freq(term) or 1)

    def _cut(self, s: str, forbid_whole: bool = False) -> list[int]:
        """Boundary positions of jieba's max-probability route through ``s`` (no HMM).

        Same DAG and scoring as ``jieba.Tokenizer.calc``; ``forbid_whole`` drops the
        edge covering all of ``s`` to get its finer reading.
        """
        n = len(s)
        own, base = self._dictionaries()
        own_get, get = own.get, base.get
        unknown = -self._logtotal  # a character that is no word scores as frequency 1
        score = [0.0] * (n + 1)
        nxt = [n] * (n + 1)
        singles, pairs = self._singles, self._pairs
        # joined[k]: s[k] and s[k + 1] may sit together in a word (a bit of the pair bitmap); a word
        # s[i:j] holds every pair in it, so no longer edge from i once one is not
        joined = [
            pairs[(slot := ((ord(a) << 10) ^ ord(b)) & _PAIR_MASK) >> 3] >> (slot & 7) & 1
            for a, b in itertools.pairwise(s)
        ]
        for i in range(n - 1, -1, -1):
            lp = singles.get(s[i])
            best, best_j = (lp or unknown) + score[i + 1], i + 1
            for j in range(i + 2, n + 1):
                if not joined[j - 2]:
                    break
                piece = s[i:j]
                lp = own_get(piece)
                if lp is None:
                    lp = get(piece)
                    if lp is None:
                        break
                if lp and not (forbid_whole and i == 0 and j == n):
                    cand = lp + score[j]
                    if cand >= best:
                        best, best_j = cand, j
            score[i], nxt[i] = best, best_j
        cuts = [0]
        i = 0
        while i < n:
            i = nxt[i]
            cuts.append(i)
        return cuts

    def crosses(self, text: str, p: int, lo: int, hi: int) -> bool:
        """True when a dictionary word inside ``text[lo:hi]`` starts before ``p`` and ends after it.

        Without such a word every route through the DAG cuts at ``p``, so the
        segmentation's answer there is known without running it: most word-mode
        hits are settled by a few dictionary look-ups instead of a clause's DP.
        The prefix dictionary is prefix-closed, so a word from ``i`` crossing ``p``
        exists only if ``text[i:p+1]`` is in it; the walk stops at the first miss.
        """
        own, base = self._dictionaries()
        own_get, get = own.get, base.get
        if p >= hi:
            return False
        long_keys, pairs = self._long_keys, self._pairs
        for i in range(p - 1, max(lo, p - self._longest + 1) - 1, -1):
            slot = ((ord(text[i]) << 10) ^ ord(text[i + 1])) & _PAIR_MASK  # pair bitmap
            if not pairs[slot >> 3] >> (slot & 7) & 1:
                break  # a word from i or before crossing p would hold these two characters
            if p - i >= _LONG - 1:
                piece = text[i : p + 1]
                if piece not in long_keys and piece not in own:
                    continue
            for j in range(p + 1, hi + 1):
                piece = text[i:j]
                lp = own_get(piece)
                if lp is None:
                    lp = get(piece)
                    if lp is None:
                        break
                if lp:
                    return True
        return False

    def _fine(self, word: str) -> frozenset[tuple[int, int]]:
        """Spans of dictionary sub-words of ``word`` (recursive finer readings)."""
        cached = self._fine_cache.get(word)
        if cached is not None:
            return cached
        spans: set[tuple[int, int]] = set()
        if len(word) >= 3:
            for a, b in _pairs(self._cut(word, forbid_whole=True)):
                if b - a >= 2:
                    spans.add((a, b))
                    spans.update((a + x, a + y) for x, y in self._fine(word[a:b]))
        result = frozenset(spans)
        if len(self._fine_cache) < 100_000:
            self._fine_cache[word] = result
        return result

    def segment(self, text: str, lo: int, hi: int) -> list[int]:
        """Coarse boundary positions for ``text[lo:hi]`` (absolute offsets, ascending)."""
        return [lo + c for c in self._cut(text[lo:hi])]

    def sub_words(self, text: str, a: int, b: int) -> frozenset[tuple[int, int]]:
        """Absolute spans of dictionary sub-words of the coarse word ``text[a:b]``."""
        if b - a < 3:
            return frozenset()
        return frozenset((a + x, a + y) for x, y in self._fine(text[a:b]))


class DocumentWords:
    """Per-field, per-document cache of segmentations so each clause is cut once."""

    def __init__(self, checker: WordChecker, text: str) -> None:
        self.checker = checker
        self.text = text
        self._reversed: str | None = None
        self._pairs: bytearray | None = None
        self._windows: dict[tuple[int, int], list[int]] = {}

    def _block_start(self, pos: int) -> int:
        """Start of the jieba block holding ``pos``, else ``pos``.

        The nearest character outside any block is found by a forward search of the
        reversed text: only the clause around a hit is scanned, in C.
        """
        text = self.text
        if _OUTSIDE.match(text, pos):
            return pos
        if self._reversed is None:
            self._reversed = text[::-1]
        outside = _OUTSIDE.search(self._reversed, len(text) - pos)
        return len(text) - outside.start() if outside else 0

    def _block_stop(self, pos: int) -> int:
        """End of the jieba block holding ``pos``, else ``pos + 1``."""
        text = self.text
        if _OUTSIDE.match(text, pos):
            return pos + 1
        outside = _OUTSIDE.search(text, pos + 1)
        return outside.start() if outside else len(text)

    def _window(self, start: int, end: int) -> tuple[int, int]:
        lo, hi = self._block_start(start), self._block_stop(end - 1)
        if hi - lo > _MAX_BLOCK:
            # grid-aligned windows with margin, so hits close together share one cut
            lo = max(lo, start // _WINDOW * _WINDOW - _WINDOW)
            hi = min(hi, (end // _WINDOW + 1) * _WINDOW + _WINDOW)
        return lo, hi

    def boundary_ok(self, start: int, end: int, check_start: bool, check_end: bool) -> bool:
        """True when the requested ends of ``text[start:end]`` fall on word boundaries.

        ASCII letters/digits at an end are checked against their neighbour (``covid``
        is not in ``covidx``); CJK ends need a jieba boundary, or the whole hit must be
        a dictionary sub-word of the segment covering it.
        """
        text = self.text
        latin_start = check_start and text[start] in _LATIN
        latin_end = check_end and text[end - 1] in _LATIN
        if latin_start and start > 0 and text[start - 1] in _LATIN:
            return False
        if latin_end and end < len(text) and text[end] in _LATIN:
            return False
        cjk_start = check_start and not latin_start
        cjk_end = check_end and not latin_end
        if not (cjk_start or cjk_end):
            return True
        pairs = self._pairs
        if pairs is None:
            pairs = self._pairs = self.checker.pairs()
        # may a word cross the edge? Not unless it can hold the two characters around it
        start_may = end_may = False
        if cjk_start and start > 0:  # its bit in the pair bitmap
            slot = ((ord(text[start - 1]) << 10) ^ ord(text[start])) & _PAIR_MASK
            start_may = bool(pairs[slot >> 3] >> (slot & 7) & 1)
        if cjk_end and end < len(text):
            slot = ((ord(text[end - 1]) << 10) ^ ord(text[end])) & _PAIR_MASK
            end_may = bool(pairs[slot >> 3] >> (slot & 7) & 1)
        if not (start_may or end_may):
            return True  # no word crosses an edge: every segmentation cuts there
        key = self._window(start, end)
        cuts = self._windows.get(key)
        if cuts is None:
            lo, hi = key
            crosses = self.checker.crosses
            if not (start_may and crosses(text, start, lo, hi)) and not (
                end_may and crosses(text, end, lo, hi)
            ):
                return True
            cuts = self._windows[key] = self.checker.segment(text, lo, hi)
        pos = bisect.bisect_left(cuts, start)
        on_start = pos < len(cuts) and cuts[pos] == start
        endpos = bisect.bisect_left(cuts, end, pos)
        on_end = endpos < len(cuts) and cuts[endpos] == end
        if (not cjk_start or on_start) and (not cjk_end or on_end):
            return True
        # a dictionary sub-word of the coarse segment covering it (石油气 in 液化石油气)
        k = bisect.bisect_right(cuts, start) - 1
        if k < 0 or k + 1 >= len(cuts) or end > cuts[k + 1]:
            return False
        fine = self.checker.sub_words(text, cuts[k], cuts[k + 1])
        if check_start and check_end:
            return (start, end) in fine
        if check_start:
            return any(a == start for a, _ in fine)
        return any(b == end for _, b in fine)


def _pairs(cuts: list[int]) -> list[tuple[int, int]]:
    return list(itertools.pairwise(cuts))
