"""Text normalisation shared by matching and deduplication.

Hard-wrapped newspaper text breaks words across lines (``瓶装液\\n化石油气``) and
full-width forms hide ASCII, so every comparison works on one canonical form:
NFKC, Latin case-folding, whitespace between two CJK characters removed, other
whitespace runs folded to a single space.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from dataclasses import dataclass

# Ideographs (BMP, compatibility, extension planes), CJK punctuation and the
# full-width punctuation NFKC leaves alone; whitespace between two of these is a
# typesetting artefact, never a word separator.
_CJK_CLASS = (
    "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff01-\uff0f\uff1a-\uff20\uff5b-\uff65"
    "\U00020000-\U0002fa1f\u2018\u2019\u201c\u201d\u2026\u2014\u00b7"
)
_CJK_GAP = re.compile(f"(?<=[{_CJK_CLASS}])\\s+(?=[{_CJK_CLASS}])")
_SPACE_RUN = re.compile(r"\s+")


# Compatibility characters in nearly every Chinese article (full-width punctuation, the
# ideographic space, the ellipsis), each with its full compatibility decomposition.
_EVERYDAY = tuple((c, unicodedata.normalize("NFKD", c)) for c in "，：；！？（）％\u3000…")


def normalize(text: str) -> str:
    """Return the canonical matching/dedup form of ``text``."""
    if not text:
        return ""
    return _spaces(_nfkc(text).casefold())


def _nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, several times faster on Chinese news.

    NFKC takes the same value after any character is replaced by its own compatibility
    decomposition, and the everyday punctuation's decompositions are plain ASCII, so
    swapping those with ``str.replace`` leaves, in most articles, text that is already
    in NFKC; a quick check says so, and only other text takes the full normalisation.
    """
    for char, plain in _EVERYDAY:
        if char in text:
            text = text.replace(char, plain)
    if unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", text)


def _spaces(text: str) -> str:
    """Whitespace between CJK characters dropped, other runs made one space, ends stripped.

    ``str.split`` finds whitespace (the same characters as ``\\s``) far faster than the
    look-behind pattern scans text, and most Chinese articles have none at all.
    """
    if text.split(maxsplit=1) == [text]:
        return text
    return _SPACE_RUN.sub(" ", _CJK_GAP.sub("", text)).strip()


# Marks NFKC composes onto the character before them (é = e + U+0301, が = か + U+3099):
# such a cluster is normalised as one unit so the map stays exact.
_COMBINING = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u3099\u309a"
_CLUSTER = re.compile(f"(?s).[{_COMBINING}]*")
_HAS_COMBINING = re.compile(f"[{_COMBINING}]")
_CJK_CHAR = re.compile(f"[{_CJK_CLASS}]")


@dataclass(frozen=True, slots=True)
class Mapped:
    """``normalize(original)`` plus where each of its characters came from.

    ``starts[i]``/``ends[i]`` are the span in the original that produced character
    ``i`` of ``text``, so a hit found in normalised text is quoted from the original.
    """

    text: str
    starts: list[int]
    ends: list[int]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original span that normalised ``[start, end)`` came from."""
        if not self.text or start >= end:
            return 0, 0
        start = min(max(start, 0), len(self.text) - 1)
        end = min(max(end, start + 1), len(self.text))
        return self.starts[start], self.ends[end - 1]


@functools.lru_cache(maxsize=4096)
def _fold_char(unit: str) -> str:
    return unicodedata.normalize("NFKC", unit).casefold()


def normalize_mapped(original: str) -> Mapped:
    """:func:`normalize` that also keeps the offset map back into ``original``.

    Only alerts and quotes call it (never the matcher's hot path), on one article at
    a time; it gives exactly ``normalize(original)`` (tests check it on varied text).
    """
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    if _HAS_COMBINING.search(original):
        units = [(m.start(), m.group()) for m in _CLUSTER.finditer(original)]
    else:
        # most characters normalise to themselves: copy those runs whole, visit the rest
        changing = {c for c in set(original) if _fold_char(c) != c}
        units = [(i, c) for i, c in enumerate(original) if c in changing] if changing else []
    kept = 0
    for pos, unit in units:
        chars.append(original[kept:pos])
        starts.extend(range(kept, pos))
        ends.extend(range(kept + 1, pos + 1))
        piece = _fold_char(unit)
        end = pos + len(unit)
        chars.append(piece)
        starts.extend([pos] * len(piece))
        ends.extend([end] * len(piece))
        kept = end
    chars.append(original[kept:])
    starts.extend(range(kept, len(original)))
    ends.extend(range(kept + 1, len(original) + 1))
    folded = "".join(chars)
    out: list[str] = []
    out_starts: list[int] = []
    out_ends: list[int] = []
    kept = 0
    for run in _SPACE_RUN.finditer(folded):
        lo, hi = run.span()
        out.append(folded[kept:lo])
        out_starts += starts[kept:lo]
        out_ends += ends[kept:lo]
        kept = hi
        inner = lo > 0 and hi < len(folded)
        if inner and _CJK_CHAR.match(folded[lo - 1]) and _CJK_CHAR.match(folded[hi]):
            continue
        out.append(" ")
        out_starts.append(starts[lo])
        out_ends.append(ends[hi - 1])
    out.append(folded[kept:])
    out_starts += starts[kept:]
    out_ends += ends[kept:]
    text = "".join(out)
    lead = len(text) - len(text.lstrip(" "))
    trail = len(text.rstrip(" "))
    return Mapped(text[lead:trail], out_starts[lead:trail], out_ends[lead:trail])


def _load_trad_to_simp() -> dict[int, int]:
    """One-to-one traditional→simplified character table from OpenCC's data.

    Only single-character entries are used, taking OpenCC's preferred (first)
    candidate, so folding never changes the length of a string: hit spans found
    in the folded text are valid spans in ``normalize(text)`` too.
    """
    import opencc  # local import: the data file ships inside the package

    path = os.path.join(os.path.dirname(opencc.__file__), "dictionary", "TSCharacters.txt")
    table: dict[int, int] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            trad, _, simp = line.rstrip("\n").partition("\t")
            first = simp.split(" ")[0] if simp else ""
            if len(trad) == 1 and len(first) == 1 and trad != first:
                table[ord(trad)] = ord(first)
    return table


@dataclass(frozen=True, slots=True)
class _Folding:
    """The traditional→simplified table as patterns that find its characters.

    ``str.translate`` looks every character up (most are not traditional) and costs
    more than normalising; a character-class search skips the rest in C. Such a class
    is fast only while its characters fit in 16 bits, so characters beyond U+FFFF
    (rare, but some dictionary words have them) are found as any such character and
    looked up one by one.
    """

    narrow: re.Pattern[str]
    simplified: dict[str, str]


def _load_folding() -> _Folding:
    simplified = {chr(t): chr(s) for t, s in _load_trad_to_simp().items()}
    narrow = "".join(c for c in simplified if c <= "\uffff")
    return _Folding(re.compile(f"[{re.escape(narrow)}]"), simplified)


_FOLDING: _Folding | None = None
ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def fold(text: str) -> str:
    """Map traditional characters to simplified ones, character by character.

    Used on both rule terms and normalised article text so ``液化石油氣`` matches
    ``液化石油气``; kept out of :func:`normalize` so the dedup hash contract stays
    as design.md describes. Length-preserving by construction.
    """
    global _FOLDING
    if _FOLDING is None:
        _FOLDING = _load_folding()  # idempotent; a race only builds it twice
    simplified = _FOLDING.simplified
    text = _FOLDING.narrow.sub(lambda m: simplified[m.group()], text)
    if _has_astral(text):
        text = ASTRAL.sub(lambda m: simplified.get(m.group(), m.group()), text)
    return text


def _has_astral(text: str) -> bool:
    """Whether ``text`` has characters beyond U+FFFF (two UTF-16 code units each).

    Encoding is a C loop over the whole text, quicker than any pattern search.
    """
    return len(text.encode("utf-16-le", "surrogatepass")) > 2 * len(text)


def match_form(text: str) -> str:
    """The form the matcher searches: ``fold(normalize(text))`` (same length as normalize)."""
    return fold(normalize(text))
