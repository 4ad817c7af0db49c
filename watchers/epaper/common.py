"""What every e-paper platform parser produces, and helpers they share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from watchers.epaper.issues import issue_url
from watchers.htmltext import node_text

_REFRESH = re.compile(
    r"""<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]*content\s*=\s*["']?\s*\d*\s*;?\s*url\s*=\s*([^"'>\s]+)""",
    re.I,
)
_JS_LOCATION = re.compile(
    r"""(?:window\.|document\.)?location(?:\.href)?\s*=\s*["']([^"']+)["']""", re.I
)
_PAGE_NUMBER = re.compile(r"(?:第\s*)?([A-Z]?\d{1,3})\s*版")
# "A01： 头版" (a page list without 版): the number opens the label.
_LEADING_NUMBER = re.compile(r"^\s*([A-Z]{0,2}\d{1,3})\s*[：:]")
_LEAKED_ID_URL = re.compile(r"^\s*\d*\s*https?://\S+\s*$")
# People's Daily titles are written by script: <script>document.write(view("…"))</script>.
_VIEW_TITLE = re.compile(r"""view\(\s*["'](.*?)["']\s*\)""", re.S)
_BR = re.compile(r"<br\s*/?>", re.I)
_TAGS = re.compile(r"<[^>]+>")
# Navigation links that sit among page links but are not pages of their own.
NAV_WORDS = ("上一版", "下一版", "上一期", "下一期", "版面导航", "返回目录")


@dataclass(slots=True)
class PageRef:
    """One page (版面) of an issue as the page navigation lists it.

    ``articles`` is None when the page must be fetched to learn its articles, and a
    list when the issue's navigation already lists them (``#webtree``, ``listdaohang``).
    """

    url: str
    label: str
    pdf_url: str = ""
    articles: list[tuple[str, str]] | None = None


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
    # Articles the page's picture map (版面图热区) places on this page: they are its own,
    # whereas a list link may be a sidebar (今日关注) pointing at another page.
    mapped: set[str] = field(default_factory=set)
    # Links that looked like articles but were not followed, with the reason.
    refused: list[tuple[str, str]] = field(default_factory=list)


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
    """ "第01版：要闻" → "01"; "A01版" → "A01"; "A01： 头版" → "A01"; "" when there is none."""
    match = _PAGE_NUMBER.search(label) or _LEADING_NUMBER.search(label)
    return match.group(1) if match else ""


def same_number(a: str, b: str) -> bool:
    """Page numbers "1", "01" and "001" name one page; "A01" and "B01" do not."""
    if not a or not b:
        return False
    split_a, split_b = re.match(r"([A-Z]*)0*(\d+)", a), re.match(r"([A-Z]*)0*(\d+)", b)
    if not split_a or not split_b:
        return a == b
    return split_a.groups() == split_b.groups()


def better_label(old: str, new: str) -> str:
    """Of two labels for one page, the one a reader knows: "第A01版：头版" over "A01： 头版"."""
    if not old:
        return new
    if new and _PAGE_NUMBER.search(new) and not _PAGE_NUMBER.search(old):
        return new
    return old


def text_of(node: LexborNode | None) -> str:
    return node.text(strip=True) if node is not None else ""


def link_text(node: LexborNode) -> str:
    """A link's words, including a title the page writes by ``document.write(view("…"))``."""
    match = _VIEW_TITLE.search(node.html or "")
    if match:
        return " ".join(_TAGS.sub("", _BR.sub(" ", match.group(1))).split())
    return " ".join(node.text(strip=True).split())


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


def article_url(url: str) -> str:
    """An article's one address: ``content_1.htm?div=-1`` and ``?div=0`` are one article."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def unique_links(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """First occurrence of each URL; a later non-empty text fills an empty one (map areas)."""
    out: dict[str, str] = {}
    for url, text in pairs:
        if url not in out or (not out[url] and text):
            out[url] = text
    return list(out.items())


def foreign_reason(link: str, page_url: str) -> str:
    """Why an article link found on ``page_url`` is not one of this issue's, or "".

    Footers link old articles (``…/2009-05/31/content_64683.htm``) and picture maps
    sometimes point at other sites; an article of this issue lives on the same host
    or, when elsewhere, under the same issue date.
    """
    link_day, page_day = issue_url(link), issue_url(page_url)
    if link_day and page_day and link_day.day != page_day.day:
        return f"links the issue of {link_day.day}, not this one ({page_day.day})"
    same_host = urlsplit(link).netloc.lower() == urlsplit(page_url).netloc.lower()
    if not same_host and not (link_day and page_day):
        return f"leaves the paper's site ({urlsplit(link).netloc})"
    return ""


def collect_links(
    page: IssuePage, nodes: list[LexborNode], base: str, pattern: re.Pattern[str]
) -> None:
    """Fill ``page.articles``/``mapped``/``refused`` from the link/area ``nodes`` matching
    ``pattern``. Off-issue links in a picture map are refused with a reason (the map is
    the page's own table of contents); elsewhere they are navigation and pass silently."""
    links: list[tuple[str, str]] = []
    for node in nodes:
        href = (node.attributes.get("href") or node.attributes.get("daoxiang") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        absolute = urljoin(base, href)
        is_area = node.tag == "area"
        if not pattern.search(urlsplit(absolute).path):
            web = urlsplit(absolute).scheme in ("http", "https")
            if is_area and web and (reason := foreign_reason(absolute, base)):
                page.refused.append((absolute, f"picture-map link {reason}"))
            continue
        url = article_url(absolute)
        if reason := foreign_reason(url, base):
            if is_area:
                page.refused.append((url, f"picture-map link {reason}"))
            continue
        if is_area:
            page.mapped.add(url)
        links.append((url, "" if is_area else link_text(node)))
    page.articles = unique_links(links)


def webtree_pages(tree: LexborHTMLParser, base: str, pattern: re.Pattern[str]) -> list[PageRef]:
    """证券时报-style ``#webtree``: one page lists the whole issue, ``dl`` per page with the
    label in ``dt``, the PDF in a ``div`` and the articles in ``dd``."""
    refs: list[PageRef] = []
    for block in tree.css("#webtree dl"):
        label_node = block.css_first("dt")
        anchor = block.css_first("dt a[href]")
        label = " ".join(text_of(label_node).split())
        url = urljoin(base, anchor.attributes.get("href") or "") if anchor is not None else ""
        pdf = next(
            (
                urljoin(base, a.attributes.get("href") or "")
                for a in block.css("a[href]")
                if page_file_kind(a.attributes.get("href") or "") == "pdf"
            ),
            "",
        )
        section = IssuePage(url=base)
        collect_links(section, block.css("dd a[href]"), base, pattern)
        refs.append(PageRef(url or f"{base}#page-{len(refs) + 1}", label, pdf, section.articles))
    return refs
