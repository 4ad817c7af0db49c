"""PDF page -> text blocks with font sizes, via pdfminer.six's layout analysis.

pdfminer groups characters into lines and lines into text boxes and orders the boxes
for reading; a box is what the page printed together, the natural counterpart of a
blank-line-separated block in page text. The box's dominant font size lets the
segmenter tell headlines (printed large) from body text without guessing from
punctuation. An indented line inside a box opens a new paragraph. pdfminer is imported
on the first PDF (20 MB that a daemon without PDF sources never needs).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from watchers.segment.model import Block, SegmentError

if TYPE_CHECKING:
    from pdfminer.layout import LTTextBox


def pdf_blocks(data: bytes, *, name: str) -> list[Block]:
    """Text blocks of every page in reading order; errors are one-line ``SegmentError``."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextBox
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException

    blocks: list[Block] = []
    chars = 0
    try:
        for page in extract_pages(io.BytesIO(data), laparams=LAParams()):
            for element in page:
                if isinstance(element, LTTextBox):
                    for block in _box_blocks(element):
                        chars += sum(len(line) for line in block.lines)
                        blocks.append(block)
    except (PDFSyntaxError, PSException, ValueError, TypeError, KeyError) as exc:
        raise SegmentError(f"{name}: not a readable PDF ({type(exc).__name__})") from None
    if chars == 0:
        raise SegmentError(f"{name}: no text layer (scanned PDF?); OCR it first")
    return blocks


def _box_blocks(box: LTTextBox) -> Iterator[Block]:
    from pdfminer.layout import LTChar, LTTextLine

    lines: list[str] = []
    sizes: Counter[float] = Counter()
    for line in box:
        if not isinstance(line, LTTextLine):
            continue
        text = line.get_text().strip()
        if not text:
            continue
        line_sizes = [round(ch.size, 1) for ch in line if isinstance(ch, LTChar)]
        size = max(set(line_sizes), key=line_sizes.count) if line_sizes else 0.0
        if lines and size and line.x0 - box.x0 > 1.5 * size:
            yield _block(lines, sizes)
            lines, sizes = [], Counter()
        lines.append(text)
        sizes[size] += len(text)
    if lines:
        yield _block(lines, sizes)


def _block(lines: list[str], sizes: Counter[float]) -> Block:
    size = sizes.most_common(1)[0][0] if sizes else 0.0
    return Block(lines, size or None)
