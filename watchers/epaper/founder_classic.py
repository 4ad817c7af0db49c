"""Classic Founder e-paper: ``paperindex.htm`` → ``html/YYYY-MM/DD/node_N.htm`` → ``content_N.htm``.

The ``enpproperty`` comment at the end of every page is the most reliable source of
date, page number, paper name and title, so it wins over the visible markup.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urljoin

from watchers.epaper.common import (
    ArticleParts,
    IssuePage,
    PageRef,
    body_text,
    first_text,
    page_file_kind,
    page_number,
    same_page,
    unique_links,
)
from watchers.htmltext import parse_html

NAME = "Founder classic"
PAGE_URL = re.compile(r"/html/\d{4}-\d{2}/\d{2}/node_\w+\.htm$", re.I)
ARTICLE_HREF = re.compile(r"content_\d+\.htm$", re.I)
_ENP = re.compile(r"<!--\s*enpproperty(.*?)/enpproperty\s*-->", re.S | re.I)
_ENP_FIELD = re.compile(r"<founder-([a-z]+)>(.*?)</founder-\1>", re.S | re.I)


def matches(url: str, html: str) -> bool:
    """An issue page of this platform: its URL shape, or its page links and metadata."""
    return bool(PAGE_URL.search(url)) or ("pageLink" in html and "enpproperty" in html)


def enp_fields(html: str) -> dict[str, str]:
    """Fields of the trailing ``enpproperty`` comment (``date``, ``pagenum``, ``papername``…)."""
    match = _ENP.search(html)
    if not match:
        return {}
    return {k.lower(): v.strip() for k, v in _ENP_FIELD.findall(match.group(1))}


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def parse_page(html: str, url: str) -> IssuePage:
    tree = parse_html(html)
    enp = enp_fields(html)
    page = IssuePage(url=url, issue_date=_date(enp.get("date", "")), paper=enp.get("papername", ""))
    # Page links and their files (PDF, page text) come in document order: a file belongs
    # to the page link before it.
    last_ref: PageRef | None = None
    for anchor in tree.css("a[href]"):
        href = (anchor.attributes.get("href") or "").strip()
        absolute = urljoin(url, href)
        if anchor.attributes.get("id") == "pageLink":
            last_ref = PageRef(absolute, anchor.text(strip=True))
            page.pages.append(last_ref)
        elif last_ref is not None and same_page(last_ref.url, url):
            kind = page_file_kind(absolute)
            if kind == "pdf":
                page.pdf_url = page.pdf_url or absolute
            elif kind == "text":
                page.text_url = page.text_url or absolute
    label = next((ref.label for ref in page.pages if same_page(ref.url, url)), "")
    page.label = label
    page.number = enp.get("pagenum", "") or page_number(label)
    links = [
        (urljoin(url, node.attributes.get("href") or ""), node.text(strip=True))
        for node in tree.css("a[href], area[href]")
        if ARTICLE_HREF.search((node.attributes.get("href") or "").strip())
    ]
    page.articles = unique_links(links)
    return page


def parse_article(html: str, url: str) -> ArticleParts:
    tree = parse_html(html)
    enp = enp_fields(html)
    kicker = subtitle = title = ""
    for cell in tree.css("td.font01, td.font02"):
        text = cell.text(strip=True)
        if not text:
            continue
        if "font01" in (cell.attributes.get("class") or ""):
            title = title or text
        elif title:
            subtitle = subtitle or text
        else:
            kicker = kicker or text
    ozoom = tree.css_first("#ozoom") or tree.css_first("founder-content")
    return ArticleParts(
        title=title or first_text(tree, "founder-title") or enp.get("title", ""),
        kicker=kicker or enp.get("introtitle", ""),
        subtitle=subtitle or enp.get("subtitle", ""),
        author=first_text(tree, "founder-author") or enp.get("author", ""),
        body=body_text(ozoom),
        issue_date=_date(enp.get("date", "")),
        page_number=enp.get("pagenum", ""),
        paper=enp.get("papername", ""),
    )
