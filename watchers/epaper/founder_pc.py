"""Newer Founder "pc layout": ``layout/index.html`` → ``pc/layout/YYYYMM/DD/node_NN.html``.

Articles live under ``pc/content/YYYYMM/DD/content_N.html`` or, on some sites (Jining
Daily), flat under ``content/content_N.html``: their date comes from the page.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from watchers.dates import SITE_TZ, parse_site_date
from watchers.epaper.common import (
    ArticleParts,
    IssuePage,
    PageRef,
    body_text,
    first_text,
    page_number,
    same_page,
    unique_links,
)
from watchers.htmltext import parse_html

NAME = "Founder pc layout"
PAGE_URL = re.compile(r"/layout/\d{6}/\d{2}/node_\w+\.html?$", re.I)
ARTICLE_HREF = re.compile(r"content_\w+\.html?$", re.I)


def matches(url: str, html: str) -> bool:
    return bool(PAGE_URL.search(url)) or ("swiper-slide" in html and "pageLink" in html)


def parse_page(html: str, url: str) -> IssuePage:
    tree = parse_html(html)
    page = IssuePage(url=url)
    for anchor in tree.css("div.swiper-box a#pageLink, div.swiper-slide a[href*=node_]"):
        ref = PageRef(urljoin(url, anchor.attributes.get("href") or ""), anchor.text(strip=True))
        if all(not same_page(ref.url, seen.url) for seen in page.pages):
            page.pages.append(ref)
    page.label = first_text(tree, "div.paper-bot p.ban", "p.left.ban")
    if not page.label:
        page.label = next((r.label for r in page.pages if same_page(r.url, url)), "")
    page.number = page_number(page.label)
    pdf = tree.css_first("p.right.btn a[href]") or tree.css_first("a[href$='.pdf']")
    page.pdf_url = urljoin(url, pdf.attributes.get("href") or "") if pdf is not None else ""
    text = tree.css_first("a[href$='.txt']")
    page.text_url = urljoin(url, text.attributes.get("href") or "") if text is not None else ""
    newstime = parse_site_date(first_text(tree, "span.newstime", ".newstime"))
    page.issue_date = newstime.astimezone(SITE_TZ).date() if newstime else None
    title = first_text(tree, "title")
    page.paper = re.split(r"[-_|—\s]", title, maxsplit=1)[0] if title else ""
    links = [
        (urljoin(url, node.attributes.get("href") or ""), node.text(strip=True))
        for node in tree.css("div.news ul.news-list li a[href], map area[href], ul.news-list a")
        if ARTICLE_HREF.search((node.attributes.get("href") or "").strip())
    ]
    page.articles = unique_links(links)
    return page


def parse_article(html: str, url: str) -> ArticleParts:
    tree = parse_html(html)
    article = tree.css_first("div.article") or tree.body
    if article is None:
        return ArticleParts()
    # A stray </div> can close div.article before the body: then look page-wide.
    body = (
        article.css_first("#ozoom")
        or article.css_first("founder-content")
        or tree.css_first("#ozoom")
        or tree.css_first("founder-content")
    )
    return ArticleParts(
        title=first_text(tree, "div.article h1", "#Title", "founder-title"),
        kicker=first_text(tree, "div.article h3", "#PreTitle"),
        subtitle=first_text(tree, "div.article h2", "#SubTitle"),
        author=first_text(tree, "div.article p.sec", "founder-author"),
        body=body_text(body),
    )
