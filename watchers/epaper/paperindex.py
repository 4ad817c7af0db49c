"""The "PaperIndex" family (大众报业): ``content/PaperIndex.htm`` → ``YYYYMMDD/IssueIndex.htm``
→ ``PageNNxx.htm`` → ``ArticelNNNNNxx.htm`` (their spelling). Often GBK.

Page navigation is ``LI.banci``, where one page is often linked twice (``[01]:头版``: the
number and the name) next to 下一版 links that are not pages. 新华每日电讯 lists the whole
issue on its first page in ``div.listdaohang``: ``h4`` per page (PDF and label), then a
``ul`` whose links carry the article URL in a ``daoxiang`` attribute, not ``href``.
Article metadata sits in hidden inputs (``#Text_title``, ``#Text_author``, ``#Text_date``).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from watchers.dates import SITE_TZ, parse_site_date
from watchers.epaper.common import (
    NAV_WORDS,
    ArticleParts,
    IssuePage,
    PageRef,
    body_text,
    collect_links,
    first_text,
    page_file_kind,
    page_number,
    same_page,
)
from watchers.htmltext import parse_html

NAME = "PaperIndex"
PAGE_URL = re.compile(r"/\d{8}/(?:IssueIndex|Page\w+)\.html?$", re.I)
ARTICLE_HREF = re.compile(r"Artic(?:e|le)l?\w+\.html?$", re.I)
_PAGE_HREF = re.compile(r"Page\w+\.html?$", re.I)
_BARE_NUMBER = re.compile(r"^[A-Z]{0,2}\d{1,3}$")
# "Articel01002MT.htm": page 01, article 002. The page number travels with the article.
_ARTICLE_PAGE = re.compile(r"Artic(?:e|le)l?(\d{2})\d{3}\w*\.html?$", re.I)


def matches(url: str, html: str) -> bool:
    if html:
        return ("banci" in html and "newslist" in html) or "listdaohang" in html
    return bool(PAGE_URL.search(url.split("?")[0]))


def _label(texts: list[str]) -> str:
    """One page's link texts → its label: ["01", "头版"] → "第01版：头版"."""
    words = [t for t in texts if t and t not in NAV_WORDS]
    number = next((t for t in words if _BARE_NUMBER.match(t)), "")
    name = next((t for t in words if not _BARE_NUMBER.match(t)), "")
    if number and name and not page_number(name):
        return f"第{number}版：{name}"
    return name or (f"第{number}版" if number else "")


def _banci_pages(tree: LexborHTMLParser, url: str, page: IssuePage) -> None:
    texts: dict[str, list[str]] = {}
    pdfs: dict[str, str] = {}
    last = ""
    for anchor in tree.css("li.banci a[href]"):
        href = urljoin(url, anchor.attributes.get("href") or "")
        kind = page_file_kind(href)
        if kind and last:
            if kind == "pdf":
                pdfs.setdefault(last, href)
            elif same_page(last, url):
                page.text_url = page.text_url or href
            continue
        text = " ".join(anchor.text(strip=True).split())
        if not _PAGE_HREF.search(href) or text in NAV_WORDS:
            continue
        key = href.split("?")[0]
        texts.setdefault(key, []).append(text)
        last = key
    page.pages = [PageRef(u, _label(t), pdfs.get(u, "")) for u, t in texts.items()]


def _listdaohang_pages(listing: LexborNode, url: str) -> list[PageRef]:
    refs: list[PageRef] = []
    for block in listing.iter():
        if block.tag == "h4":
            anchors = block.css("a[href]")
            page_anchor = next(
                (a for a in anchors if _PAGE_HREF.search(a.attributes.get("href") or "")), None
            )
            pdf = next(
                (
                    urljoin(url, a.attributes.get("href") or "")
                    for a in anchors
                    if page_file_kind(a.attributes.get("href") or "") == "pdf"
                ),
                "",
            )
            label = " ".join(page_anchor.text(strip=True).split()) if page_anchor else ""
            target = urljoin(url, page_anchor.attributes.get("href") or "") if page_anchor else ""
            refs.append(PageRef(target, label, pdf, []))
        elif block.tag == "ul" and refs:
            section = IssuePage(url=url)
            collect_links(section, block.css("a"), url, ARTICLE_HREF)
            assert refs[-1].articles is not None
            refs[-1].articles.extend(section.articles)
    return refs


def parse_page(html: str, url: str) -> IssuePage:
    tree = parse_html(html)
    page = IssuePage(url=url)
    listing = tree.css_first("div.listdaohang")
    if listing is not None:
        page.pages = _listdaohang_pages(listing, url)
    else:
        _banci_pages(tree, url, page)
    mine = next((r for r in page.pages if same_page(r.url, url)), None)
    page.label = mine.label if mine else ""
    page.pdf_url = mine.pdf_url if mine else ""
    page.number = page_number(page.label)
    match = re.search(r"/(\d{4})(\d{2})(\d{2})/", url)
    if match:
        found = parse_site_date("-".join(match.groups()))
        page.issue_date = found.astimezone(SITE_TZ).date() if found else None
    page.paper = first_text(tree, "title").split("-")[0].strip()
    collect_links(page, tree.css("ul#newslist a[href], map area[href]"), url, ARTICLE_HREF)
    return page


def _input(tree: LexborHTMLParser, ident: str) -> str:
    node = tree.css_first(f"input#{ident}")
    return (node.attributes.get("value") or "").strip() if node is not None else ""


def parse_article(html: str, url: str) -> ArticleParts:
    tree = parse_html(html)
    found = parse_site_date(_input(tree, "Text_date"))
    own_page = _ARTICLE_PAGE.search(url)
    return ArticleParts(
        title=_input(tree, "Text_title") or first_text(tree, "h1"),
        kicker=_input(tree, "Text_yinti"),
        subtitle=_input(tree, "Text_futi"),
        author=_input(tree, "Text_author"),
        body=body_text(tree.css_first("#news-con")),
        issue_date=found.astimezone(SITE_TZ).date() if found else None,
        page_number=own_page.group(1) if own_page else "",
    )
