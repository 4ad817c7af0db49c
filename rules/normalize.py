"""Text normalisation shared by matching and deduplication.

Hard-wrapped newspaper text breaks words across lines (``瓶装液\\n化石油气``) and
full-width forms hide ASCII, so every comparison works on one canonical form:
NFKC, Latin case-folding, whitespace between two CJK characters removed, other
whitespace runs folded to a single space.
"""

from __future__ import annotations

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


def is_cjk(char: str) -> bool:
    """True for characters between which whitespace carries no meaning."""
    return bool(re.match(f"[{_CJK_CLASS}]", char))


def normalize(text: str) -> str:
    """Return the canonical matching/dedup form of ``text``."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _CJK_GAP.sub("", text)
    return _SPACE_RUN.sub(" ", text).strip()
