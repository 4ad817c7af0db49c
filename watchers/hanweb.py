"""``kind = "hanweb"``: county government sites on Hanweb JCMS (大汉 JCMS).

A column page (``/col/colNNNN/index.html``) embeds its first records in a
``<datastore>`` XML island; the ids needed to page further sit in a
``var param_NNNN = {…}`` script, in the ``<nextgroup>`` link of the datastore, or
both. Sites with ``var param_…`` are paged as their jpage script does, by POSTing the
ids to ``dataproxy.jsp?startrecord=…&endrecord=…``; sites whose ids appear only in
the ``<nextgroup>`` URL are paged by GETting that URL with ``page=N``. Records are
read newest first and paging stops at the first page that holds an article already
stored, so a steady-state run costs one (conditional) request, plus one
dataproxy.jsp request for a column whose page embeds no records. Article pages are
read by ``watchers.hanweb_article``.
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from watchers.article import ArticleDraft
from watchers.base import NoArticlesError, WatchContext, skip_or_stop, skipped
from watchers.dates import parse_site_date
from watchers.fetch import FetchError
from watchers.hanweb_article import NO_BODY, parse_article
from watchers.hanweb_settings import HanwebSource
from watchers.htmltext import parse_html
from watchers.place import place_of_article

if TYPE_CHECKING:
    from datetime import datetime

PROXY_PATH = "/module/web/jpage/dataproxy.jsp"
RECORDS_PER_REQUEST = 45
# A column is paged at most this far per run (a catch-up continues next run).
MAX_PROXY_PAGES = 20
# Source state key: the paging of a column whose page embeds no records.
PROXY_STATE = "dataproxy"
_PARAM = re.compile(r"var\s+param_\d+\s*=\s*\{(.*?)\}", re.S)
_KEY_VALUE = re.compile(r"""(\w+)\s*:\s*(?:"([^"]*)"|'([^']*)'|([\w.\-]+))""")
_NEXTGROUP = re.compile(
    r"<nextgroup>\s*<!\[CDATA\[.*?href\s*=\s*[\"']([^\"']+)[\"'].*?\]\]>\s*</nextgroup>",
    re.S | re.I,
)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
# The ids dataproxy.jsp needs; anything else in a nextgroup URL is paging, not identity.
_ID_KEYS = frozenset(
    [
        "col",
        "appid",
        "webid",
        "path",
        "columnid",
        "sourceContentType",
        "unitid",
        "webname",
        "permissiontype",
    ]
)


@dataclass(slots=True)
class Record:
    """One line of a column list."""

    url: str
    title: str
    published: datetime | None


@dataclass(slots=True)
class Paging:
    """How a column pages beyond its embedded records, as the site's own script does.

    ``post``: the ids of ``var param_…`` POSTed to ``dataproxy.jsp?startrecord=…``;
    ``get``: the ``<nextgroup>`` URL fetched with ``page=N`` (ids only in that URL).
    """

    mode: str
    params: dict[str, str] = field(default_factory=dict)
    next_url: str = ""

    def to_state(self) -> dict[str, Any]:
        return {"mode": self.mode, "params": self.params, "next_url": self.next_url}

    @classmethod
    def from_state(cls, saved: dict[str, Any]) -> Paging:
        if "mode" not in saved:  # saved before paging modes: the POST ids themselves
            return cls("post", dict(saved))
        return cls(saved["mode"], dict(saved.get("params") or {}), saved.get("next_url", ""))


def column_params(html: str) -> dict[str, str]:
    """The paging ids from ``var param_NNNN = {col:1,webid:…,columnid:…,unitid:…}``."""
    match = _PARAM.search(html)
    if not match:
        return {}
    return {k: a or b or c for k, a, b, c in _KEY_VALUE.findall(match.group(1))}


def column_paging(html: str, base_url: str) -> Paging | None:
    """How to page this column: ``var param_…`` (POST) first, else ``<nextgroup>`` (GET)."""
    params = column_params(html)
    found = _NEXTGROUP.search(html)
    next_url = urljoin(base_url, htmllib.unescape(found.group(1).strip())) if found else ""
    ids = {k: v for k, v in parse_qsl(urlsplit(next_url).query) if k in _ID_KEYS}
    if params:
        return Paging("post", ids | params, next_url)
    if next_url:
        return Paging("get", ids, next_url)
    return None


def parse_records(xml: str, base_url: str) -> tuple[list[Record], int | None]:
    """Records of a ``<datastore>`` (embedded in a column page or from dataproxy.jsp).

    A record listed twice (PC and mobile lists) is kept once, in first position.
    """
    records: list[Record] = []
    seen: set[str] = set()
    for fragment in _RECORD.findall(xml):
        tree = parse_html(fragment)
        anchor = tree.css_first("a[href]")
        if anchor is None:
            continue
        url = urljoin(base_url, (anchor.attributes.get("href") or "").strip())
        if url in seen or urlsplit(url).scheme not in ("http", "https"):
            continue
        seen.add(url)
        title = (anchor.attributes.get("title") or "").strip() or anchor.text(strip=True)
        published = parse_site_date(tree.text())
        records.append(Record(url, title, published))
    total = _TOTAL.search(xml)
    return records, int(total.group(1)) if total else None


def proxy_form(params: dict[str, str]) -> dict[str, str]:
    """The POST form dataproxy.jsp expects, from a column page's ``param_`` ids."""
    form = {
        "col": params.get("col", "1"),
        "webid": params.get("webid", ""),
        "path": params.get("path", "/"),
        "columnid": params.get("columnid", ""),
        "sourceContentType": params.get("sourceContentType", "1"),
        "unitid": params.get("unitid", ""),
        "webname": params.get("webname", ""),
        "permissiontype": params.get("permissiontype", "0"),
    }
    if params.get("appid"):
        form["appid"] = params["appid"]
    return form


def proxy_url(column_url: str, start: int, next_url: str = "") -> str:
    """``dataproxy.jsp?startrecord=…`` on the column's host (at the nextgroup's path)."""
    parts = urlsplit(column_url)
    path = urlsplit(next_url).path if next_url else PROXY_PATH
    end = start + RECORDS_PER_REQUEST - 1
    return f"{parts.scheme}://{parts.netloc}{path}?startrecord={start}&endrecord={end}&perpage=15"


def group_url(next_url: str, page: int) -> str:
    """The ``<nextgroup>`` URL asking for group ``page``."""
    parts = urlsplit(next_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
    return urlunsplit(parts._replace(query=urlencode([("page", str(page)), *query])))


def first_group(next_url: str) -> int:
    page = dict(parse_qsl(urlsplit(next_url).query)).get("page", "1")
    return int(page) if page.isdigit() else 1


class HanwebWatcher:
    async def poll(self, source: HanwebSource, ctx: WatchContext) -> list[ArticleDraft]:
        page = await ctx.fetcher.get(source.url, conditional=True)
        records: list[Record] = []
        total: int | None = None
        paging: Paging | None = None
        if page.not_modified:
            # A column page without embedded records is a static shell: it answers 304
            # while new records keep arriving through dataproxy.jsp, so ask that instead.
            saved = ctx.state.get(PROXY_STATE)
            paging = Paging.from_state(saved) if saved else None
        else:
            html = page.text(source.encoding)
            records, total = await ctx.run_cpu(parse_records, html, page.url)
            paging = column_paging(html, page.url)
            if records or paging is None:
                ctx.state.pop(PROXY_STATE, None)
            else:
                ctx.state[PROXY_STATE] = paging.to_state()
        new = await self._new_records(ctx, records)
        if paging is not None:
            more = await self._page(ctx, source, page.url, paging, records, total, new)
            records += more[0]
            new += more[1]
        if not page.not_modified and not records:
            raise NoArticlesError(
                f"{source.url}: no column records (expected a Hanweb JCMS column page with a "
                "<datastore> of <record>s, a 'var param_NNNN = {…}' or a <nextgroup> link "
                "for dataproxy.jsp)"
            )
        todo = new[: source.max_articles]
        if todo:
            ctx.saw(len(todo), "article links")
        listed = {r.url for r in todo}
        # Articles that failed on an earlier run are tried again, even behind a 304.
        again = [u for u in ctx.retry_urls if u not in listed]
        known = await ctx.known_urls(again)
        todo += [Record(u, "", None) for u in again if u not in known]
        return [await self._article(ctx, source, record) for record in todo]

    async def _page(
        self,
        ctx: WatchContext,
        source: HanwebSource,
        column_url: str,
        paging: Paging,
        records: list[Record],
        total: int | None,
        new: list[Record],
    ) -> tuple[list[Record], list[Record]]:
        """Further records from dataproxy.jsp while every record so far is new."""
        seen = {r.url for r in records}
        more: list[Record] = []
        fresh: list[Record] = []
        group = first_group(paging.next_url)
        for asked in range(MAX_PROXY_PAGES):
            count = len(records) + len(more)
            if len(new) + len(fresh) < count or count >= source.max_articles:
                break
            if total is not None and count >= total:
                break
            if paging.mode == "post":
                url = proxy_url(column_url, count + 1, paging.next_url)
                result = await ctx.fetcher.post(url, proxy_form(paging.params))
            else:
                result = await ctx.fetcher.get(group_url(paging.next_url, group + asked))
            got, got_total = await ctx.run_cpu(
                parse_records, result.text(source.encoding), column_url
            )
            total = got_total if got_total is not None else total
            unseen = [r for r in got if r.url not in seen]
            # A first group that repeats the embedded records is skipped, not an end.
            if not unseen and (not got or paging.mode == "post" or asked > 0):
                break
            seen.update(r.url for r in unseen)
            more += unseen
            fresh += await self._new_records(ctx, unseen)
        return more, fresh

    async def _article(
        self, ctx: WatchContext, source: HanwebSource, record: Record
    ) -> ArticleDraft:
        try:
            result = await ctx.fetcher.get(record.url)
        except FetchError as exc:
            return skip_or_stop(record.url, exc)
        article = await ctx.run_cpu(parse_article, result.text(source.encoding), record.url)
        if not article.text:
            return skipped(record.url, NO_BODY)
        draft = ArticleDraft(
            url=record.url,
            title=article.title or record.title,
            text=article.text,
            published=article.published or record.published,
            attachments=article.attachments,
        )
        draft.place = place_of_article(draft, source.region)
        return draft

    async def _new_records(self, ctx: WatchContext, records: list[Record]) -> list[Record]:
        known = await ctx.known_urls(r.url for r in records)
        return [r for r in records if r.url not in known]
