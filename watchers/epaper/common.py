"""What every e-paper platform parser produces, and helpers they share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from watchers.htmltext import node_text

_REFRESH = re.compile(
    r"""<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]*content\s*=\s*["']?\s*\d*\s*;?\s*url\s*=\s*([^"'>\s]+)""",
    re.I,
)
_JS_LOCATION = re.compile(
    r"""(?:window\.|document\.)?location(?:\.href)?\s*=\s*["']([^"']+)["']""", re.I
)
_PAGE_NUMBER = re.compile(r"(?:第\s*)?([A-Z]?\d{1,3})\s*版")
_LEAKED_ID_URL = re.compile(r"^\s*\d*\s*https?://\S+\s*$")


@dataclass(slots=True)
class PageRef:
    """One page (版面) of an issue as the page navigation lists it."""

    url: str
    label: str


@dataclass(slots=True)
class IssuePage:
    """One page (版面): its label, PDF, the other pages of the issue and its articles."""

    url: str
    label: str = ""
    number: str = ""
    pdf_url: str = ""
    # Some papers offer the page as plain text (本版文字); the segmenter reads it best.
    text_url: str = ""
    issue_date: date | None = None
    paper: str = ""
    pages: list[PageRef] = field(default_factory=list)
    # (absolute URL, link text) in page order, each article once.
    articles: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class ArticleParts:
    """One article page, as the platform marks it up."""

    title: str = ""
    kicker: str = ""
    subtitle: str = ""
    author: str = ""
    body: str = ""
    issue_date: date | None = None
    page_number: str = ""
    paper: str = ""


def redirect_target(html: str, base_url: str) -> str | None:
    """Where an entry page sends the browser (meta refresh or a location script), if anywhere."""
    head = html[:8000]
    match = _REFRESH.search(head) or _JS_LOCATION.search(head)
    if not match:
        return None
    target = urljoin(base_url, match.group(1).strip())
    return target if target != base_url else None


def page_number(label: str) -> str:
    """ "第01版：要闻" → "01"; "A01版" → "A01"; "" when the label has no number."""
    match = _PAGE_NUMBER.search(label)
    return match.group(1) if match else ""


def text_of(node: LexborNode | None) -> str:
    return node.text(strip=True) if node is not None else ""


def first_text(tree: LexborHTMLParser, *selectors: str) -> str:
    """Text of the first selector that matches a non-empty node."""
    for selector in selectors:
        for node in tree.css(selector):
            text = node.text(strip=True)
            if text:
                return text
    return ""


def body_text(node: LexborNode | None) -> str:
    """Article body: one line per paragraph, without leaked ids/URLs or metadata markers."""
    lines = [
        line
        for line in node_text(node).split("\n")
        if "enpproperty" not in line and not line.startswith("<!--")
    ]
    while lines and _LEAKED_ID_URL.match(lines[-1]):
        lines.pop()
    return "\n".join(lines)


def page_file_kind(href: str) -> str:
    """``"pdf"`` or ``"text"`` for a link to the whole page as a file, else ``""``."""
    path = urlsplit(href).path.lower()
    if path.endswith(".pdf"):
        return "pdf"
    if path.endswith(".txt"):
        return "text"
    return ""


def same_page(a: str, b: str) -> bool:
    """Two URLs of one page, ignoring fragment and query."""
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.netloc.lower(), pa.path) == (pb.netloc.lower(), pb.path)


def unique_links(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """First occurrence of each URL; a later non-empty text fills an empty one (map areas)."""
    out: dict[str, str] = {}
    for url, text in pairs:
        if url not in out or (not out[url] and text):
            out[url] = text
    return list(out.items())
