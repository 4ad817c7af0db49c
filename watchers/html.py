"""Generic HTML list sources: a list page of links, then each new article page.

Only links not already stored are fetched, so a steady-state cycle costs one
(conditional) request per source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from watchers.article import ArticleDraft
from watchers.base import NoArticlesError, WatchContext, skip_or_stop, skipped
from watchers.dates import parse_site_date
from watchers.fetch import FetchError
from watchers.html_settings import HtmlSource, Selectors
from watchers.htmltext import node_text, parse_html
from watchers.place import place_of_article

if TYPE_CHECKING:
    from selectolax.lexbor import LexborHTMLParser


_TEXT_FALLBACKS = ("#zoom", "#ozoom", "article", ".article", ".content", "#content")
# trafilatura output made mostly of link texts is a sidebar or menu, not the article
# (it does that on short Chinese notices); below this share of non-link text it is refused.
_MIN_OWN_TEXT = 0.5
_DATE_FALLBACKS = (".date", ".time", "time", ".pubtime", "span.date")


def list_links(html: str, base_url: str, item_selector: str) -> list[tuple[str, str]]:
    """(absolute URL, link text) for each article link on a list page, in page order."""
    tree = parse_html(html)
    seen: set[str] = set()
    links = []
    for node in tree.css(item_selector):
        anchor = node if node.tag == "a" else node.css_first("a")
        href = anchor.attributes.get("href") if anchor is not None else None
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        url = urljoin(base_url, href.strip())
        if urlsplit(url).scheme not in ("http", "https") or url in seen:
            continue
        seen.add(url)
        links.append((url, (anchor.text(strip=True) if anchor is not None else "")))
    return links


def extract_article(html: str, url: str, selectors: Selectors, link_text: str) -> ArticleDraft:
    tree = parse_html(html)
    title_node = tree.css_first(selectors.title) if selectors.title else tree.css_first("h1")
    title = title_node.text(strip=True) if title_node is not None else ""
    if not title:
        meta = tree.css_first('meta[name="ArticleTitle"]')
        title = (meta.attributes.get("content") or "") if meta is not None else ""
    title = title or link_text
    text = ""
    for selector in (selectors.text,) if selectors.text else _TEXT_FALLBACKS:
        text = node_text(tree.css_first(selector))
        if text:
            break
    if not text:
        text = _fallback_text(html, tree)
    if text.startswith(title):
        text = text[len(title) :].lstrip()
    date_text = ""
    for selector in (selectors.date,) if selectors.date else _DATE_FALLBACKS:
        node = tree.css_first(selector)
        if node is not None:
            date_text = node.text()
            break
    published = parse_site_date(date_text) or parse_site_date(text[:200])
    return ArticleDraft(url=url, title=title, text=text, published=published)


def _fallback_text(html: str, tree: LexborHTMLParser) -> str:
    """trafilatura's main text when no selector matched, unless it is mostly link text."""
    import trafilatura

    extracted = trafilatura.extract(html, include_comments=False, include_tables=False) or ""
    lines = [line.strip() for line in extracted.split("\n") if line.strip()]
    if not lines:
        return ""
    link_texts = {a.text(strip=True) for a in tree.css("a") if a.text(strip=True)}
    own = sum(len(line) for line in lines if line not in link_texts)
    return "\n".join(lines) if own >= _MIN_OWN_TEXT * sum(map(len, lines)) else ""


class HtmlWatcher:
    async def poll(self, source: HtmlSource, ctx: WatchContext) -> list[ArticleDraft]:
        page = await ctx.fetcher.get(source.url, conditional=True)
        links: list[tuple[str, str]] = []
        if not page.not_modified:
            html = page.text(source.encoding)
            links = await ctx.run_cpu(list_links, html, page.url, source.selectors.item)
            if not links:
                raise NoArticlesError(
                    f"{source.url}: no article links match selector {source.selectors.item!r}"
                )
            ctx.saw(len(links), "article links")
        listed = {url for url, _ in links}
        # Articles that failed on an earlier run are tried again, even behind a 304.
        links += [(url, "") for url in ctx.retry_urls if url not in listed]
        known = await ctx.known_urls(url for url, _ in links)
        drafts = []
        for url, link_text in [link for link in links if link[0] not in known][
            : source.max_articles
        ]:
            try:
                result = await ctx.fetcher.get(url)
            except FetchError as exc:
                drafts.append(skip_or_stop(url, exc))
                continue
            draft = await ctx.run_cpu(
                extract_article,
                result.text(source.encoding),
                result.url,
                source.selectors,
                link_text,
            )
            if not draft.text:
                drafts.append(skipped(url, "no article body found"))
                continue
            draft.place = place_of_article(draft, source.region)
            drafts.append(draft)
        return drafts
