"""Which e-paper platform a page belongs to, from its URL first and its markup second."""

from __future__ import annotations

import re
from typing import Protocol

from watchers.epaper import founder_classic, founder_pc, paperindex
from watchers.epaper.common import ArticleParts, IssuePage


class Platform(Protocol):
    """A platform module: ``NAME``, ``matches``, ``parse_page``, ``parse_article``."""

    NAME: str
    ARTICLE_HREF: re.Pattern[str]

    def matches(self, url: str, html: str) -> bool: ...

    def parse_page(self, html: str, url: str) -> IssuePage: ...

    def parse_article(self, html: str, url: str) -> ArticleParts: ...


PLATFORMS: tuple[Platform, ...] = (founder_classic, founder_pc, paperindex)
# Markup is weaker evidence than the URL: the most specific markers are tried first.
_BY_MARKUP: tuple[Platform, ...] = (founder_pc, paperindex, founder_classic)

EXPECTED = (
    "expected a Founder classic e-paper (…/paperindex.htm → html/YYYY-MM/DD/node_N.htm "
    "or nbs.…_01.htm, page links id=pageLink), "
    "a Founder pc layout (…/layout/index.html → layout/YYYYMM/DD/node_NN.html, swiper-slide) "
    "or a PaperIndex e-paper (content/PaperIndex.htm → YYYYMMDD/IssueIndex.htm, li.banci)"
)


def detect(url: str, html: str) -> Platform | None:
    """The platform whose page-URL shape ``url`` has; failing that, whose markup ``html`` has."""
    for platform in PLATFORMS:
        if platform.matches(url, ""):
            return platform
    for platform in _BY_MARKUP:
        if platform.matches(url, html):
            return platform
    return None
