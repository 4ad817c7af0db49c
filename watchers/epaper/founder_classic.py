"""Classic Founder e-paper: ``paperindex.htm`` → ``html/YYYY-MM/DD/node_N.htm`` → ``content_N.htm``.

Variants seen in the wild, all parsed here: article links with a query
(``content_548646.htm?div=-1``, one article whatever the query), ``content_N_M.htm``,
pages as ``.html`` under ``html/YYYYMM/DD/`` (南方日报 ``node_A01.html``), People's Daily's
naming until 2024 (``nbs.D110000renmrb_01.htm`` pages, ``nw.D110000renmrb_20171016_1-01.htm``
articles, titles written by ``document.write(view("…"))``), page lists printed twice
(a hidden 版面导航 and the visible 版面目录), and 证券时报's ``#webtree`` that lists the
whole issue on its first page.

The ``enpproperty`` comment at the end of every page is the most reliable source of
date, page number, paper name and title, so it wins over the visible markup.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser

from watchers.epaper.common import (
    ArticleParts,
    IssuePage,
    PageRef,
    better_label,
    body_text,
    collect_links,
    first_text,
    page_file_kind,
    page_number,
    same_page,
    webtree_pages,
)
from watchers.htmltext import parse_html

NAME = "Founder classic"
PAGE_URL = re.compile(r"/html/\d{4}-?\d{2}/\d{2}/(?:node_\w+|nbs\.\w+)\.html?$", re.I)
ARTICLE_HREF = re.compile(r"(?:content_\d+(?:_\d+)?|nw\.\w+?_\d{8}_\d+-\w+)\.html?$", re.I)
# "nw.D110000renmrb_20171016_2-01.htm": article 2 of page 01.
_NW_PAGE = re.compile(r"nw\.\w+?_\d{8}_\d+-(\w+)\.html?$", re.I)
_ENP = re.compile(r"<!--\s*enpproperty(.*?)/enpproperty\s*-->", re.S | re.I)
_ENP_FIELD = re.compile(r"<founder-([a-z]+)>(.*?)</founder-\1>", re.S | re.I)


def matches(url: str, html: str) -> bool:
    """An issue page of this platform: its URL shape, or its page links and metadata."""
    if html:
        if "swiper-slide" in html:
            return False  # the pc layout also names its page links pageLink
        listed = "pageLink" in html and ("enpproperty" in html or "content_" in html)
        return listed or 'id="webtree"' in html or "id=webtree" in html
    return bool(PAGE_URL.search(url.split("?")[0]))


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


def page_list(tree: LexborHTMLParser, url: str) -> tuple[list[PageRef], str]:
    """The issue's pages, each once, with their PDFs; and this page's own PDF.

    A PDF link right after a page link (nothing but other PDFs between them) is that
    page's; one anywhere else (``div.pdf`` by the page scan) is the current page's.
    Many papers print the list twice (a hidden 版面导航 and the 版面目录): one entry per
    page, keeping the label that says 版.
    """
    refs: dict[str, PageRef] = {}
    own_pdf = ""
    last: PageRef | None = None
    for anchor in tree.css("a[href], area[href]"):
        href = (anchor.attributes.get("href") or "").strip()
        absolute = urljoin(url, href)
        if anchor.attributes.get("id") == "pageLink":
            label = " ".join(anchor.text(strip=True).split())
            key = absolute.split("?")[0].split("#")[0]
            ref = refs.get(key)
            if ref is None:
                ref = refs[key] = PageRef(key, label)
            ref.label = better_label(ref.label, label)
            last = ref
            continue
        if page_file_kind(absolute) == "pdf":
            if last is not None:
                last.pdf_url = last.pdf_url or absolute
            elif not own_pdf:
                own_pdf = absolute
            continue
        last = None  # anything else between a page link and a PDF separates them
    mine = next((r for r in refs.values() if same_page(r.url, url)), None)
    return list(refs.values()), (mine.pdf_url if mine and mine.pdf_url else own_pdf)


def parse_page(html: str, url: str) -> IssuePage:
    tree = parse_html(html)
    enp = enp_fields(html)
    page = IssuePage(url=url, issue_date=_date(enp.get("date", "")), paper=enp.get("papername", ""))
    if tree.css_first("#webtree") is not None:
        page.pages = webtree_pages(tree, url, ARTICLE_HREF)
    else:
        page.pages, page.pdf_url = page_list(tree, url)
    for anchor in tree.css("a[href]"):
        if page_file_kind(anchor.attributes.get("href") or "") == "text":
            page.text_url = urljoin(url, anchor.attributes.get("href") or "")
            break
    page.label = next((ref.label for ref in page.pages if same_page(ref.url, url)), "")
    page.label = better_label(
        page.label, " ".join(first_text(tree, "div.banci", "td.px12").split())
    )
    page.number = enp.get("pagenum", "") or page_number(page.label)
    collect_links(page, tree.css("a[href], area[href]"), url, ARTICLE_HREF)
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
    # People's Daily (nw.… pages) and others: div.text_c with h3 kicker, h1, h2, h4 author.
    ozoom = tree.css_first("#ozoom") or tree.css_first("founder-content")
    own_page = _NW_PAGE.search(url)
    return ArticleParts(
        title=title or first_text(tree, "founder-title", "div.text_c h1") or enp.get("title", ""),
        kicker=kicker or enp.get("introtitle", "") or first_text(tree, "div.text_c h3"),
        subtitle=subtitle or enp.get("subtitle", "") or first_text(tree, "div.text_c h2"),
        author=first_text(tree, "founder-author", "div.text_c h4") or enp.get("author", ""),
        body=body_text(ozoom),
        issue_date=_date(enp.get("date", "")),
        page_number=enp.get("pagenum", "") or (own_page.group(1) if own_page else ""),
        paper=enp.get("papername", ""),
    )
