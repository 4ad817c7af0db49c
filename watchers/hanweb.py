"""``kind = "hanweb"``: county government sites on Hanweb JCMS (大汉 JCMS).

A column page (``/col/colNNNN/index.html``) embeds its first records in a
``<datastore>`` XML island and the ids needed to page further in a
``var param_NNNN = {…}`` script; later records come from ``dataproxy.jsp`` as XML.
Records are read newest first and paging stops at the first page that contains an
article already stored, so a steady-state run costs one (conditional) request, plus
one dataproxy.jsp request for a column whose page embeds no records.
Article bodies sit between ``<!--ContentStart-->`` and ``<!--ContentEnd-->``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urljoin, urlsplit

from watchers.base import ArticleDraft, NoArticlesError, WatchContext
from watchers.dates import parse_site_date
from watchers.fetch import FetchError
from watchers.htmltext import node_text, parse_html
from watchers.settings import SourceConfig

if TYPE_CHECKING:
    from datetime import datetime

PROXY_PATH = "/module/web/jpage/dataproxy.jsp"
RECORDS_PER_REQUEST = 45
# Source state key: the paging ids of a column whose page embeds no records.
PROXY_STATE = "dataproxy"
_PARAM = re.compile(r"var\s+param_\d+\s*=\s*\{(.*?)\}", re.S)
_KEY_VALUE = re.compile(r"""(\w+)\s*:\s*(?:"([^"]*)"|'([^']*)'|([\w.\-]+))""")
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
_CONTENT = re.compile(r"<!--\s*ContentStart\s*-->(.*?)<!--\s*ContentEnd\s*-->", re.S | re.I)
_PUBLISHED = re.compile(r"发布(?:日期|时间)\s*[:：]\s*([^<]{6,30})")
_ATTACHMENT = re.compile(r"\.(pdf|docx?|xlsx?|wps|et|zip|rar|7z|ofd|txt)$", re.I)
_DOWNLOAD = re.compile(r"/(?:module/download|attach)/", re.I)


class HanwebSource(SourceConfig):
    kind: Literal["hanweb"]


@dataclass(slots=True)
class Record:
    """One line of a column list."""

    url: str
    title: str
    published: datetime | None


def column_params(html: str) -> dict[str, str]:
    """The paging ids from ``var param_NNNN = {col:1,webid:…,columnid:…,unitid:…}``."""
    match = _PARAM.search(html)
    if not match:
        return {}
    return {k: a or b or c for k, a, b, c in _KEY_VALUE.findall(match.group(1))}


def parse_records(xml: str, base_url: str) -> tuple[list[Record], int | None]:
    """Records of a ``<datastore>`` (embedded in a column page or from dataproxy.jsp)."""
    records: list[Record] = []
    for fragment in _RECORD.findall(xml):
        tree = parse_html(fragment)
        anchor = tree.css_first("a[href]")
        if anchor is None:
            continue
        url = urljoin(base_url, (anchor.attributes.get("href") or "").strip())
        title = (anchor.attributes.get("title") or "").strip() or anchor.text(strip=True)
        published = parse_site_date(tree.text())
        records.append(Record(url, title, published))
    total = _TOTAL.search(xml)
    return records, int(total.group(1)) if total else None


def proxy_form(params: dict[str, str]) -> dict[str, str]:
    """The POST form dataproxy.jsp expects, from a column page's ``param_`` ids."""
    return {
        "col": params.get("col", "1"),
        "webid": params.get("webid", ""),
        "path": params.get("path", "/"),
        "columnid": params.get("columnid", ""),
        "sourceContentType": params.get("sourceContentType", "1"),
        "unitid": params.get("unitid", ""),
        "webname": params.get("webname", ""),
        "permissiontype": params.get("permissiontype", "0"),
    }


def proxy_url(column_url: str, start: int) -> str:
    parts = urlsplit(column_url)
    end = start + RECORDS_PER_REQUEST - 1
    return (
        f"{parts.scheme}://{parts.netloc}{PROXY_PATH}"
        f"?startrecord={start}&endrecord={end}&perpage=15"
    )


def parse_article(html: str, url: str, record: Record) -> ArticleDraft:
    """Title, date, body and attachments of one article page (body empty if none found)."""
    tree = parse_html(html)
    meta = tree.css_first('meta[name="ArticleTitle"]')
    title = (meta.attributes.get("content") or "").strip() if meta is not None else ""
    marked = _CONTENT.search(html)
    body_tree = parse_html(marked.group(1)) if marked else None
    body_node = (body_tree.body if body_tree is not None else None) or tree.css_first("#zoom")
    attachments = []
    if body_node is not None:
        for anchor in body_node.css("a[href]"):
            href = urljoin(url, (anchor.attributes.get("href") or "").strip())
            name = anchor.text(strip=True)
            # Files are linked directly or through a download script (downfile.jsp?filename=…).
            if any(_ATTACHMENT.search(x) for x in (urlsplit(href).path, name)) or _DOWNLOAD.search(
                href
            ):
                attachments.append({"name": name, "url": href})
    found = _PUBLISHED.search(html)
    published = parse_site_date(found.group(1)) if found else None
    extra: dict[str, object] = {"attachments": attachments} if attachments else {}
    return ArticleDraft(
        url=url,
        title=title or record.title,
        text=node_text(body_node),
        published=published or record.published,
        extra=extra,
    )


class HanwebWatcher:
    async def poll(self, source: HanwebSource, ctx: WatchContext) -> list[ArticleDraft]:
        page = await ctx.fetcher.get(source.url, conditional=True)
        records: list[Record] = []
        total: int | None = None
        if page.not_modified:
            # A column page without embedded records is a static shell: it answers 304
            # while new records keep arriving through dataproxy.jsp, so ask that instead.
            params = ctx.state.get(PROXY_STATE)
            if not params:
                return []
        else:
            html = page.text(source.encoding)
            records, total = await ctx.run_cpu(parse_records, html, page.url)
            params = column_params(html)
            if records or not params:
                ctx.state.pop(PROXY_STATE, None)
            else:
                ctx.state[PROXY_STATE] = params
        new = await self._new_records(ctx, records)
        # Page further only while everything seen so far is new (a catch-up, or a first run).
        while (
            params
            and len(new) == len(records)
            and len(records) < source.max_articles
            and (total is None or len(records) < total)
        ):
            more, more_total = await self._proxy_page(ctx, source, page.url, params, len(records))
            if not more:
                break
            total = more_total if more_total is not None else total
            records += more
            new += await self._new_records(ctx, more)
        if not records:
            raise NoArticlesError(
                f"{source.url}: no column records (expected a Hanweb JCMS column page with a "
                "<datastore> of <record>s or a 'var param_NNNN = {…}' for dataproxy.jsp)"
            )
        drafts = []
        for record in new[: source.max_articles]:
            try:
                result = await ctx.fetcher.get(record.url)
            except FetchError as exc:
                if exc.retry_after is not None:
                    raise
                drafts.append(_skipped(record.url, exc.reason))
                continue
            draft = await ctx.run_cpu(
                parse_article, result.text(source.encoding), record.url, record
            )
            if not draft.text:
                drafts.append(_skipped(record.url, "no body between ContentStart/ContentEnd"))
                continue
            draft.place = source.region
            drafts.append(draft)
        return drafts

    async def _new_records(self, ctx: WatchContext, records: list[Record]) -> list[Record]:
        known = await ctx.known_urls(r.url for r in records)
        return [r for r in records if r.url not in known]

    async def _proxy_page(
        self,
        ctx: WatchContext,
        source: HanwebSource,
        column_url: str,
        params: dict[str, str],
        have: int,
    ) -> tuple[list[Record], int | None]:
        result = await ctx.fetcher.post(proxy_url(column_url, have + 1), proxy_form(params))
        return await ctx.run_cpu(parse_records, result.text(source.encoding), column_url)


def _skipped(url: str, reason: str) -> ArticleDraft:
    return ArticleDraft(url=url, title="", text="", extra={"error": f"{url}: {reason}"})
