"""Text normalisation shared by matching and deduplication.

Hard-wrapped newspaper text breaks words across lines (``瓶装液\\n化石油气``) and
full-width forms hide ASCII, so every comparison works on one canonical form:
NFKC, Latin case-folding, whitespace between two CJK characters removed, other
whitespace runs folded to a single space.
"""

from __future__ import annotations

import os
import re
import unicodedata

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


def normalize(text: str) -> str:
    """Return the canonical matching/dedup form of ``text``."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _CJK_GAP.sub("", text)
    return _SPACE_RUN.sub(" ", text).strip()


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


_TRAD_TO_SIMP: dict[int, int] | None = None


def fold(text: str) -> str:
    """Map traditional characters to simplified ones, character by character.

    Used on both rule terms and normalised article text so ``液化石油氣`` matches
    ``液化石油气``; kept out of :func:`normalize` so the dedup hash contract stays
    as design.md describes. Length-preserving by construction.
    """
    global _TRAD_TO_SIMP
    if _TRAD_TO_SIMP is None:
        _TRAD_TO_SIMP = _load_trad_to_simp()  # idempotent; a race only builds it twice
    return text.translate(_TRAD_TO_SIMP)


def match_form(text: str) -> str:
    """The form the matcher searches: ``fold(normalize(text))`` (same length as normalize)."""
    return fold(normalize(text))
