"""Data shapes shared by the segmenter's stages.

The pipeline is text/PDF -> ``Block`` (what the source laid out together) ->
``Para`` (one logical paragraph, classified) -> ``PageItem`` (one article or photo).
Keeping layout hints (font size) on blocks lets PDF input reuse the text rules.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class SegmentError(ValueError):
    """Input the segmenter cannot use; the message is one line meant for the user."""


@dataclass(slots=True)
class PageItem:
    """One article or photo cut from a page.

    ``text`` holds the dateline/byline and the body, never the headline, so that
    downstream matching sees each word once. ``continued_to``/``continued_from``
    hold the page label of a ``（下转第2版）``/``（上接第1版）`` marker so a later
    stage can join the parts. ``banner`` holds the page-level lines in force above
    the item (series header, section title: one per line), never part of a headline;
    ``confidence`` (0..1) says how sure the headline choice is.
    """

    kind: str
    kicker: str
    title: str
    place: str
    text: str
    continued_to: str = ""
    continued_from: str = ""
    subtitle: str = ""
    banner: str = ""
    confidence: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape promised by ``tingfeng segment --format json``."""
        return asdict(self)


@dataclass(slots=True)
class Block:
    """Lines the source printed together: a blank-line-separated run, or a PDF text box.

    ``size`` is the dominant font size when the source knows it (PDF), else None.
    """

    lines: list[str]
    size: float | None = None


class Role(Enum):
    """What a paragraph is for the page structure."""

    DATELINE = "dateline"  # 本报嘉祥讯（通讯员 …）… opens an article
    BYLINE = "byline"  # ■本报通讯员 付哲 on its own, before a body
    CREDIT = "credit"  # a standalone photo credit (■通讯员 … 摄)
    PHOTO = "photo"  # a caption: opens (and is) a photo item
    HEAD = "head"  # short, unpunctuated: kicker, title, subhead or banner
    BANNER = "banner"  # section banner or page furniture: belongs to no item
    MARKER = "marker"  # a continuation marker standing alone
    BODY = "body"


@dataclass(slots=True)
class Para:
    """One logical paragraph after unwrapping, with what the classifier found."""

    text: str
    nlines: int = 1
    size: float | None = None
    role: Role = Role.BODY
    place: str = ""
    continued_to: str = ""
    continued_from: str = ""
    big: bool = False  # printed larger than the body text (PDF headline)
    full_last: bool = False  # its last line ran to the column edge (a cut, not an end)
    extra: list[str] = field(default_factory=list)  # credit paragraphs folded into this one
    lines: list[str] = field(default_factory=list)  # as printed (a two-line headline's parts)
