"""Newspaper page segmenter: page text or a page PDF in, articles and photos out.

County pages reach us as one block of text holding many articles; alerts must be per
article with the right headline. See docs/segmentation.md for how it decides.
"""

from __future__ import annotations

from watchers.decode import NotText, decode
from watchers.segment.layout.pdf import pdf_blocks
from watchers.segment.model import PageItem, SegmentError
from watchers.segment.pipeline import segment_blocks
from watchers.segment.unwrap import text_to_blocks

MAX_BYTES = 50_000_000  # a county page is ~20 kB and a whole PDF issue a few MB

__all__ = ["MAX_BYTES", "PageItem", "SegmentError", "segment_bytes", "segment_pdf", "segment_text"]


def segment_text(text: str) -> list[PageItem]:
    """Split page text into items. Pure and CPU-bound: run it in a worker thread."""
    return segment_blocks(text_to_blocks(text))


def segment_pdf(data: bytes, *, name: str = "page.pdf") -> list[PageItem]:
    """Split a page PDF (all its pages, in order) into items, using font sizes as hints."""
    return segment_blocks(pdf_blocks(data, name=name))


def is_pdf(data: bytes) -> bool:
    """PDF files start with ``%PDF-`` (some producers put junk before it)."""
    return b"%PDF-" in data[:1024]


def segment_bytes(
    data: bytes, *, name: str, encoding: str | None = None, content_type: str | None = None
) -> list[PageItem]:
    """Sniff PDF vs text, decode, segment; ``SegmentError`` names ``name`` on bad input.

    Text is decoded like any fetched page (``encoding`` is the source's override,
    ``content_type`` the server's header), refusing bytes that are not text.
    """
    if len(data) > MAX_BYTES:
        raise SegmentError(
            f"{name}: too large ({len(data) / 1e6:.0f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB)"
        )
    if is_pdf(data):
        return segment_pdf(data, name=name)
    try:
        text = decode(data, content_type=content_type, override=encoding, reject_binary=True)
    except NotText as exc:
        raise SegmentError(f"{name}: not page text ({exc})") from None
    return segment_text(text)
