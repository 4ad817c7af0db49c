"""Newer Founder "pc layout": ``layout/index.html`` → ``pc/layout/YYYYMM/DD/node_NN.html``.

Articles live under ``pc/content/YYYYMM/DD/content_N.html`` or, on some sites (Jining
Daily), flat under ``content/content_N.html``: their date comes from the page.
People's Daily prints the author and a date line in one ``p.sec``
(``本报记者 王浩《 人民日报 》（ 2024年12月25日 第 01 版）``): the date line is not the
author, but its 版 number says which page the article sits on.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urljoin

from watchers.dates import SITE_TZ, parse_site_date
from watchers.epaper.common import (
    ArticleParts,
    IssuePage,
    PageRef,
    body_text,
    collect_links,
    first_text,
    page_number,
    same_page,
    webtree_pages,
)
from watchers.htmltext import parse_html

NAME = "Founder pc layout"
PAGE_URL = re.compile(r"/(?:layout|col)/\d{6}/\d{2}/node_\w+\.html?$", re.I)
ARTICLE_HREF = re.compile(r"content_\w+\.html?$", re.I)
_DATE_LINE = re.compile(r"《[^》]{1,20}》\s*[（(]([^）)]*?第?\s*([A-Z]?\d{1,3})\s*版)\s*[）)]")


def matches(url: str, html: str) -> bool:
    if html:
        return "swiper-slide" in html and "pageLink" in html
    return bool(PAGE_URL.search(url.split("?")[0]))


def _day(text: str) -> date | None:
    found = parse_site_date(text)
    return found.astimezone(SITE_TZ).date() if found else None


def parse_page(html: str, url: str) -> IssuePage:
    tree = parse_html(html)
    page = IssuePage(url=url)
    if tree.css_first("#webtree") is not None:
        page.pages = webtree_pages(tree, url, ARTICLE_HREF)
    for anchor in tree.css("div.swiper-box a#pageLink, div.swiper-slide a[href*=node_]"):
        ref = PageRef(urljoin(url, anchor.attributes.get("href") or ""), anchor.text(strip=True))
        if all(not same_page(ref.url, seen.url) for seen in page.pages):
            page.pages.append(ref)
    page.label = first_text(tree, "div.paper-bot p.ban", "p.left.ban")
    if not page.label:
        page.label = next((r.label for r in page.pages if same_page(r.url, url)), "")
    page.label = " ".join(page.label.split())
    page.number = page_number(page.label)
    pdf = tree.css_first("p.right.btn a[href]") or tree.css_first("a[href$='.pdf']")
    page.pdf_url = urljoin(url, pdf.attributes.get("href") or "") if pdf is not None else ""
    text = tree.css_first("a[href$='.txt']")
    page.text_url = urljoin(url, text.attributes.get("href") or "") if text is not None else ""
    page.issue_date = _day(first_text(tree, "span.newstime", ".newstime"))
    title = first_text(tree, "title")
    page.paper = re.split(r"[-_|—\s]", title, maxsplit=1)[0] if title else ""
    nodes = tree.css("div.news ul.news-list li a[href], map area[href], ul.news-list a[href]")
    collect_links(page, nodes, url, ARTICLE_HREF)
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
    sec = first_text(tree, "div.article p.sec", "p.sec")
    date_line = _DATE_LINE.search(sec)
    author = sec[: date_line.start()] if date_line else sec
    return ArticleParts(
        title=first_text(tree, "div.article h1", "#Title", "founder-title"),
        kicker=first_text(tree, "div.article h3", "#PreTitle"),
        subtitle=first_text(tree, "div.article h2", "#SubTitle"),
        author=" ".join(author.split()) or first_text(tree, "founder-author"),
        body=body_text(body),
        issue_date=_day(date_line.group(1)) if date_line else None,
        page_number=date_line.group(2) if date_line else "",
    )
