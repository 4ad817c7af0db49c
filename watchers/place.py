"""The place an article is about, read from its own words, for every source kind.

Topic rules filter on ``places``; a county paper's story datelined ``本报金乡讯`` is
about 金乡 whatever the source's ``region`` says. The text is read the way the
segmenter reads page text (``watchers/segment/cues.py``): the dateline first, then a
county named in its credit (``本报讯（通讯员 金乡县委宣传部 …）``), then a county
leading the kicker (``■本报通讯员 …`` stories carry no dateline). The source's
``region`` only fills in where the text names none.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from watchers.segment.cues import DATELINE, place_of

if TYPE_CHECKING:
    from watchers.article import ArticleDraft

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
# A county-level name opening a word: 金乡县, 济宁市, 任城区 (not 经开区 inside a word).
_COUNTY = re.compile(rf"(?:^|(?<=[\s\u3000（(、，,：:省市]))([{_HAN}]{{2,3}}?)(?:县|市|区)")
_KICKER_COUNTY = re.compile(rf"^([{_HAN}]{{2,3}}?)(?:县|市|区)")
# A dateline opens the body, perhaps after a headline echo or a byline line.
_OPENING_LINES = 4


def place_in_text(text: str, kicker: str = "") -> str:
    """The place the article's dateline, credit or kicker names, or ``""``."""
    for line in [line.strip(" \t\u3000") for line in text.splitlines() if line.strip()][
        :_OPENING_LINES
    ]:
        dateline = DATELINE.match(line)
        if dateline is None:
            continue
        if place := place_of(dateline):
            return place
        counties = _COUNTY.findall(dateline.group(0))
        if counties:
            # 济宁市任城区: the most specific, the last named.
            return str(counties[-1])
        break
    county = _KICKER_COUNTY.match(kicker.strip())
    return county.group(1) if county else ""


def place_of_article(draft: ArticleDraft, region: str) -> str:
    """The draft's place: what it already says, else its text, else the source's region."""
    return draft.place or place_in_text(draft.text, draft.kicker) or region
