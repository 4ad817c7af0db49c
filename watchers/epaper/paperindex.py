"""The "PaperIndex" family (大众报业): ``content/PaperIndex.htm`` → ``YYYYMMDD/IssueIndex.htm``
→ ``PageNNxx.htm`` → ``ArticelNNNNNxx.htm`` (their spelling). Often GBK.

Article metadata sits in hidden inputs (``#Text_title``, ``#Text_author``, ``#Text_date``).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser

from watchers.dates import SITE_TZ, parse_site_date
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

NAME = "PaperIndex"
PAGE_URL = re.compile(r"/\d{8}/(?:IssueIndex|Page\w+)\.html?$", re.I)
ARTICLE_HREF = re.compile(r"Artic(?:e|le)l?\w+\.html?$", re.I)


def matches(url: str, html: str) -> bool:
    return bool(PAGE_URL.search(url)) or ("banci" in html and "newslist" in html)


def parse_page(html: str, url: str) -> IssuePage:
    tree = parse_html(html)
    page = IssuePage(url=url)
    for item in tree.css("li.banci"):
        for anchor in item.css("a[href]"):
            href = urljoin(url, anchor.attributes.get("href") or "")
            kind = page_file_kind(href)
            if kind:
                if page.pages and same_page(page.pages[-1].url, url):
                    if kind == "pdf":
                        page.pdf_url = href
                    else:
                        page.text_url = href
                continue
            page.pages.append(PageRef(href, anchor.text(strip=True)))
    page.label = next((r.label for r in page.pages if same_page(r.url, url)), "")
    page.number = page_number(page.label)
    match = re.search(r"/(\d{4})(\d{2})(\d{2})/", url)
    if match:
        found = parse_site_date("-".join(match.groups()))
        page.issue_date = found.astimezone(SITE_TZ).date() if found else None
    page.paper = first_text(tree, "title").split("-")[0].strip()
    links = [
        (urljoin(url, node.attributes.get("href") or ""), node.text(strip=True))
        for node in tree.css("ul#newslist a[href], map area[href]")
        if ARTICLE_HREF.search((node.attributes.get("href") or "").strip())
    ]
    page.articles = unique_links(links)
    return page


def _input(tree: LexborHTMLParser, ident: str) -> str:
    node = tree.css_first(f"input#{ident}")
    return (node.attributes.get("value") or "").strip() if node is not None else ""


def parse_article(html: str, url: str) -> ArticleParts:
    tree = parse_html(html)
    found = parse_site_date(_input(tree, "Text_date"))
    return ArticleParts(
        title=_input(tree, "Text_title") or first_text(tree, "h1"),
        kicker=_input(tree, "Text_yinti"),
        subtitle=_input(tree, "Text_futi"),
        author=_input(tree, "Text_author"),
        body=body_text(tree.css_first("#news-con")),
        issue_date=found.astimezone(SITE_TZ).date() if found else None,
    )
