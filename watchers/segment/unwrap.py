"""Undo the typesetting: hard line wraps and sentences cut by column breaks.

Why these rules: a page's column width is visible in its line lengths, so a line
that ends a sentence *and* stops short of the column width ended a paragraph; any
other line break is a wrap. A short unpunctuated line opening a box above prose is a
line of its own (a headline printed in the same box as a photo caption). A blank
line marks a text box or column break; a block that stops mid-sentence (open
punctuation, or punctuated prose without a full stop) was cut there and continues in
the next block unless that block opens something new.
"""

from __future__ import annotations

import re

from watchers.segment.cues import (
    CONTINUATION,
    CREDIT_LINE,
    CREDIT_TAIL,
    DATELINE,
    OPEN_ENDERS,
    SENTENCE_PUNCT,
    ends_sentence,
    is_banner,
)
from watchers.segment.model import Block, Para

_INDENT = re.compile(r"^(?:\u3000|  )")
_ASCII_WORD = re.compile(r"[A-Za-z]")


def text_to_blocks(text: str) -> list[Block]:
    """Split page text at blank lines; keep lines (stripped) but note indents."""
    blocks: list[Block] = []
    current: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip(" \t\u3000\ufeff\x0c")
        if not line:
            if current:
                blocks.append(Block(current))
                current = []
            continue
        # An indented line starts a paragraph: mark it with a leading tab for _split_block.
        current.append("\t" + line if _INDENT.match(raw) and current else line)
    if current:
        blocks.append(Block(current))
    return blocks


_NARROW = re.compile(r"[\u0000-\u1fff]+")


def width(line: str) -> int:
    """Display width: CJK characters and punctuation take two cells, ASCII one."""
    return 2 * len(line) - sum(map(len, _NARROW.findall(line)))


def join_lines(left: str, right: str) -> str:
    """Join a wrapped line: no space in CJK text, one space between Latin words."""
    if left and right and _ASCII_WORD.match(left[-1]) and _ASCII_WORD.match(right[0]):
        return f"{left} {right}"
    return left + right


def _starts_item(line: str) -> bool:
    return bool(DATELINE.match(line)) or bool(CREDIT_LINE.match(line))


def _standalone(line: str, line_width: int, full: int, prose_below: bool) -> bool:
    """A short unpunctuated line above prose cannot be a wrap: it stands alone.

    Above more short lines only, it is part of a headline printed over several
    lines, which the headline stage takes apart.
    """
    return (
        prose_below
        and line_width < 0.85 * full
        and not SENTENCE_PUNCT.search(line)
        and not ends_sentence(line)
        and not CREDIT_TAIL.search(line)
    )


def _joined(lines: list[str]) -> str:
    text = lines[0]
    if len(lines) > 1 and any(_ASCII_WORD.match(line[:1]) for line in lines[1:]):
        for line in lines[1:]:
            text = join_lines(text, line)
        return text
    return "".join(lines)


def _split_block(block: Block, column: int) -> list[Para]:
    """Rejoin a block's wrapped lines into paragraphs.

    ``column`` is the page's usual line width (0 when unknown): a one-line block that
    fills it and stops mid-sentence was cut by a column break like a longer one.
    """
    lines = [raw.lstrip("\t") for raw in block.lines]
    widths = [width(line) for line in lines]
    full = max(widths)
    prose_below = [False] * len(lines)  # some later line of the block is punctuated prose
    for i in range(len(lines) - 2, -1, -1):
        later = lines[i + 1]
        prose_below[i] = prose_below[i + 1] or bool(
            SENTENCE_PUNCT.search(later) or ends_sentence(later)
        )
    paras: list[Para] = []
    printed: list[str] = []
    for i, (raw, line) in enumerate(zip(block.lines, lines, strict=True)):
        is_last = i == len(lines) - 1
        alone = not printed and not is_last and _standalone(line, widths[i], full, prose_below[i])
        if printed and (raw.startswith("\t") or _starts_item(line)):
            paras.append(Para(_joined(printed), len(printed), block.size, lines=printed))
            printed = []
        printed.append(line)
        if not is_last and (alone or (ends_sentence(line) and widths[i] < 0.85 * full)):
            paras.append(Para(_joined(printed), len(printed), block.size, lines=printed))
            printed = []
    if printed:
        paras.append(Para(_joined(printed), len(printed), block.size, lines=printed))
    if len(lines) > 1:
        paras[-1].full_last = widths[-1] >= 0.85 * full
    else:
        paras[-1].full_last = bool(column) and widths[-1] >= 0.9 * column
    return paras


def _column(blocks: list[Block]) -> int:
    """The page's usual line width: the commonest width among wrapped blocks' lines.

    A couple of hundred lines settle it; a huge page is not measured line by line.
    """
    counts: dict[int, int] = {}
    sampled = 0
    for block in blocks:
        if sampled >= 300:
            break
        if len(block.lines) >= 3:
            for line in block.lines[:-1]:
                w = width(line.lstrip("\t"))
                counts[w] = counts.get(w, 0) + 1
            sampled += len(block.lines) - 1
    if not counts:
        return 0
    best = max(counts, key=lambda w: counts[w])
    return best if counts[best] >= 3 else 0


def _cut_mid_sentence(para: Para) -> bool:
    """A paragraph that stops where no sentence can stop was cut by a column break."""
    text = para.text.rstrip()
    if not text or ends_sentence(text) or CONTINUATION.search(text[-12:]):
        return False
    if CREDIT_TAIL.search(text):  # a caption closed by its credit is complete
        return False
    if text[-1] in OPEN_ENDERS:
        return True
    marks = len(SENTENCE_PUNCT.findall(text))
    if not marks:
        return False
    return len(text) >= 20 or para.full_last or marks >= 2


def _opens_something(para: Para) -> bool:
    text = para.text
    return bool(
        DATELINE.match(text)
        or CREDIT_LINE.match(text)
        or CONTINUATION.match(text)
        or is_banner(text)
    )


def _same_font(a: Para, b: Para) -> bool:
    if a.size is None or b.size is None:
        return True
    return abs(a.size - b.size) <= 0.1 * max(a.size, b.size)


def unwrap(blocks: list[Block]) -> list[Para]:
    """Paragraphs of the page in order, wraps and column cuts undone."""
    paras: list[Para] = []
    column = _column(blocks)
    for block in blocks:
        parts = _split_block(block, column)
        first = parts[0]
        if (
            paras
            and _cut_mid_sentence(paras[-1])
            and not _opens_something(first)
            and _same_font(paras[-1], first)
        ):
            prev = paras[-1]
            prev.text = join_lines(prev.text, first.text)
            prev.nlines += first.nlines
            prev.lines = [*prev.lines, *first.lines]
            prev.full_last = first.full_last
            parts = parts[1:]
        paras.extend(parts)
    return paras
