"""Tell a PDF from page text, and decode text the way Chinese sites actually encode it.

Strict UTF-8 first (it almost never decodes non-UTF-8 by accident), then GB18030
(a superset of GB2312/GBK). Bytes that decode but come out as control characters or
private-use code points are binary or a wrong guess: reject them rather than
segmenting noise.
"""

from __future__ import annotations

import codecs

from watchers.segment.model import SegmentError

MAX_BYTES = 50_000_000  # a county page is ~20 kB and a whole PDF issue a few MB
_ALLOWED_CONTROLS = frozenset("\n\r\t\x0c")


def is_pdf(data: bytes) -> bool:
    """PDF files start with ``%PDF-`` (some producers put junk before it)."""
    return b"%PDF-" in data[:1024]


def decode_text(data: bytes, *, name: str) -> str:
    """Decoded page text, or ``SegmentError`` for binary or undecodable input."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text
    raise SegmentError(f"{name}: not page text (binary, or an encoding other than UTF-8/GB18030)")


def _looks_like_text(text: str) -> bool:
    """Few control, private-use or unassigned-looking characters: real text."""
    if not text:
        return True
    sample = text[:200_000]
    bad = sum(
        1
        for ch in sample
        if (ch < " " and ch not in _ALLOWED_CONTROLS)
        or "\ue000" <= ch <= "\uf8ff"
        or ch in "\ufffd\x7f"
        or "\x80" <= ch <= "\x9f"
    )
    return bad <= len(sample) * 0.01
