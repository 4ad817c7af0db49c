"""``kind = "epaper"``: every page (版面) and article of each issue not yet stored.

Flow: open the entry page and follow its refresh to the latest issue's first page
(stepping back a day at a time if that issue is not out yet), recognise the
platform, then walk the issue days planned by ``days_to_fetch``. Each page lists its
articles; only those not already stored are fetched. A page that lists no articles
but links its page text or PDF is cut into articles by the segmenter.

The last issue day walked completely is kept in ``ctx.state["last_issue"]`` (saved
with the run's articles), which is what makes catch-up after downtime possible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import structlog

from watchers.article import ArticleDraft
from watchers.base import NoArticlesError, WatchContext, WatchError, skip_or_stop, skipped
from watchers.dates import SITE_TZ
from watchers.epaper.common import (
    IssuePage,
    PageRef,
    article_url,
    better_label,
    page_number,
    redirect_target,
    same_number,
    same_page,
)
from watchers.epaper.detect import EXPECTED, Platform, detect
from watchers.epaper.entry import newest_issue_url
from watchers.epaper.issues import IssueUrl, days_to_fetch, issue_url
from watchers.epaper.settings import EpaperSource
from watchers.fetch import FetchError
from watchers.pagetext import to_draft
from watchers.place import place_in_text, place_of_article
from watchers.segment import SegmentError, segment_bytes

log = structlog.get_logger("tingfeng.epaper")
MAX_REFRESH_HOPS = 4
# How far back "today's issue is not out yet" may step when catchup_days is smaller.
MIN_LOOKBACK_DAYS = 7


class _Missing(Exception):
    """A dated issue URL answered 404: that day has no issue (yet)."""


@dataclass
class _Run:
    """One poll: the source, its context and what it has produced so far."""

    source: EpaperSource
    ctx: WatchContext
    drafts: list[ArticleDraft] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    # The latest issue's page list: where a retried article's own page number points.
    refs: list[PageRef] = field(default_factory=list)

    @property
    def budget_left(self) -> bool:
        return sum(not d.skip_reason for d in self.drafts) < self.source.max_articles

    def skip(self, url: str, reason: str) -> None:
        self.drafts.append(skipped(url, reason))

    async def open(self, url: str, *, dated: bool = False) -> tuple[str, str]:
        """(final URL, HTML) of ``url`` after HTTP, meta-refresh and location redirects.

        ``dated``: ``url`` names one issue day, so a 404 means that day has no issue.
        """
        chain = [url]
        for _ in range(MAX_REFRESH_HOPS):
            try:
                result = await self.ctx.fetcher.get(url)
            except FetchError as exc:
                if exc.status == 404 and issue_url(url) and (dated or url != self.source.url):
                    raise _Missing(url) from None
                raise
            html = result.text(self.source.encoding)
            target = redirect_target(html, result.url)
            if target is None or same_page(target, result.url):
                return result.url, html
            if target in chain:
                loop = " → ".join([*chain, target])
                raise WatchError(f"{self.source.url}: refresh loop: {loop}")
            chain.append(target)
            url = target
        raise WatchError(f"{url}: more than {MAX_REFRESH_HOPS} refresh redirects")


class EpaperWatcher:
    async def poll(self, source: EpaperSource, ctx: WatchContext) -> list[ArticleDraft]:
        run = _Run(source, ctx)
        platform, dated, first_url, first_html = await self._latest(run)
        last = ctx.state.get("last_issue")
        last_day = date.fromisoformat(last) if isinstance(last, str) else None
        complete_through = last_day
        all_complete = True
        for day in days_to_fetch(dated.day, last_day, source.catchup_days):
            if day == dated.day:
                url, html = first_url, first_html
            else:
                try:
                    url, html = await run.open(dated.for_date(day), dated=True)
                except _Missing:
                    continue  # no paper that day (Sundays, holidays)
                except FetchError as exc:
                    run.drafts.append(skip_or_stop(exc.url, exc))
                    all_complete = False
                    continue
            complete = await self._walk_issue(run, platform, url, html, day, day == dated.day)
            all_complete = all_complete and complete
            if all_complete:
                complete_through = day
        await self._retry(run, platform)
        if complete_through is not None:
            ctx.state["last_issue"] = complete_through.isoformat()
        return run.drafts

    async def _latest(self, run: _Run) -> tuple[Platform, IssueUrl, str, str]:
        """The platform and the first page of the latest issue that is out."""
        source = run.source
        start = newest_issue_url(source.url)
        try:
            url, html = await run.open(start, dated=start != source.url)
        except _Missing as missing:
            url, html = await self._step_back(run, str(missing))
        platform = detect(url, html)
        if platform is None:
            raise WatchError(f"{source.url}: not a recognised e-paper: {EXPECTED}")
        dated = issue_url(url)
        if dated is None:
            raise WatchError(
                f"{url}: {platform.NAME} page without an issue date in its URL; {EXPECTED}"
            )
        return platform, dated, url, html

    async def _step_back(self, run: _Run, missing_url: str) -> tuple[str, str]:
        """Today's issue is not out yet: the newest earlier day that has one."""
        dated = issue_url(missing_url)
        assert dated is not None
        for back in range(1, max(run.source.catchup_days, MIN_LOOKBACK_DAYS) + 1):
            try:
                return await run.open(dated.for_date(dated.day - timedelta(days=back)), dated=True)
            except _Missing:
                continue
        raise WatchError(f"{missing_url}: no issue found in the last {back} days")

    async def _pages(
        self, run: _Run, platform: Platform, first: IssuePage
    ) -> tuple[list[IssuePage], list[PageRef], bool, bool]:
        """Every page of the issue not walked before, each fetched once.

        Returns the pages, the issue's page list, whether any page showed content
        (or was walked completely before: 304) and whether all pages could be fetched.
        """
        refs = first.pages or [PageRef(first.url, first.label)]
        listed_whole = any(ref.articles is not None for ref in refs)
        pages: list[IssuePage] = []
        fetched: set[str] = set()
        content_seen, complete = False, True
        for ref in refs:
            if ref.articles is not None:
                # The issue's navigation lists this page's articles: no need to fetch it.
                page = IssuePage(
                    url=ref.url or first.url,
                    label=ref.label,
                    number=page_number(ref.label),
                    pdf_url=ref.pdf_url,
                    articles=ref.articles,
                    mapped={url for url, _ in ref.articles},
                )
            elif same_page(ref.url, first.url):
                page = first
            elif listed_whole or article_url(ref.url) in fetched:
                continue
            else:
                fetched.add(article_url(ref.url))
                try:
                    result = await run.ctx.fetcher.get(ref.url, conditional=True)
                except FetchError as exc:
                    run.drafts.append(skip_or_stop(ref.url, exc))
                    complete = False
                    continue
                if result.not_modified:
                    content_seen = True  # walked completely in an earlier run
                    continue
                page = await run.ctx.run_cpu(
                    platform.parse_page, result.text(run.source.encoding), result.url
                )
            page.label = better_label(page.label, ref.label)
            page.pdf_url = page.pdf_url or ref.pdf_url
            page.number = page.number or page_number(page.label)
            page.issue_date = page.issue_date or first.issue_date
            page.paper = page.paper or first.paper
            pages.append(page)
        return pages, refs, content_seen, complete

    async def _walk_issue(
        self,
        run: _Run,
        platform: Platform,
        first_url: str,
        first_html: str,
        day: date,
        latest: bool,
    ) -> bool:
        """Every page of one issue; True when nothing was missed (all pages and articles)."""
        first = await run.ctx.run_cpu(platform.parse_page, first_html, first_url)
        first.issue_date = first.issue_date or day
        pages, refs, content_seen, complete = await self._pages(run, platform, first)
        owners = _owners(pages)
        if latest:
            run.refs = refs
        links = {url for page in pages for url, _ in page.articles}
        if links:
            run.ctx.saw(len(links), "article links")
        files = sum(1 for page in pages if not page.articles and (page.text_url or page.pdf_url))
        if files:
            run.ctx.saw(files, "page files")
        refused: set[str] = set()
        for page in pages:
            for url, reason in page.refused:
                if url not in refused:
                    # Not an entry of this issue: logged, never retried as an article.
                    refused.add(url)
                    log.info("link not followed", source=run.source.name, url=url, reason=reason)
            if page.articles:
                content_seen = True
                page_complete = await self._articles(run, platform, page, owners, refs)
            elif page.text_url or page.pdf_url:
                content_seen = True
                page_complete = await self._page_file(run, platform, page)
            else:
                continue
            if not page_complete:
                complete = False
                await run.ctx.fetcher.forget(page.url)
        if not content_seen:
            reason = (
                f"issue of {day} lists no articles on its {len(refs)} page(s) "
                f"(expected {platform.NAME} article links; site redesigned?)"
            )
            if latest:
                raise NoArticlesError(f"{first_url}: {reason}")
            run.skip(first_url, reason)
        return complete

    async def _articles(
        self,
        run: _Run,
        platform: Platform,
        page: IssuePage,
        owners: dict[str, IssuePage],
        refs: list[PageRef],
    ) -> bool:
        """New articles listed on one page, in its order, each placed on the page that
        owns it; False when one could not be fetched (its pages are walked again)."""
        known = await run.ctx.known_urls(url for url, _ in page.articles)
        complete = True
        for url, link_text in page.articles:
            if url in known or url in run.seen:
                continue
            if not run.budget_left:
                return False
            run.seen.add(url)
            owner = owners.get(url, page)
            if not await self._article(run, platform, owner, url, link_text, refs):
                complete = False
                if owner is not page:
                    await run.ctx.fetcher.forget(owner.url)
        return complete

    async def _retry(self, run: _Run, platform: Platform) -> None:
        """Articles that failed on earlier runs, fetched again even if their page is a 304.

        Only article pages are retried here: pages and page files are walked again
        anyway, because their validators are dropped while anything on them failed.
        """
        due = [
            url
            for url in run.ctx.retry_urls
            if url not in run.seen and platform.ARTICLE_HREF.search(url.split("?")[0])
        ]
        known = await run.ctx.known_urls(due)
        for url in due:
            if url in known or not run.budget_left:
                continue
            run.seen.add(url)
            dated = issue_url(url)
            page = IssuePage(url=url, issue_date=dated.day if dated else None)
            await self._article(run, platform, page, url, "", run.refs)

    async def _article(
        self,
        run: _Run,
        platform: Platform,
        page: IssuePage,
        url: str,
        link_text: str,
        refs: list[PageRef],
    ) -> bool:
        """One article page into a draft (or a skipped entry); False when it could not be
        fetched, so its page is walked again next run."""
        try:
            result = await run.ctx.fetcher.get(url)
        except FetchError as exc:
            run.drafts.append(skip_or_stop(url, exc))
            return False
        parts = await run.ctx.run_cpu(
            platform.parse_article, result.text(run.source.encoding), result.url
        )
        if not parts.body:
            run.skip(url, f"no article body found ({platform.NAME} article markup)")
            return True
        day = parts.issue_date or page.issue_date
        label, number, pdf = _placement(page, parts.page_number, refs)
        run.drafts.append(
            ArticleDraft(
                url=url,
                title=parts.title or link_text,
                text=parts.body,
                kicker=parts.kicker,
                subtitle=parts.subtitle,
                author=parts.author,
                place=place_in_text(parts.body, parts.kicker) or run.source.region,
                published=_midnight(day),
                page=label,
                paper=parts.paper or page.paper,
                page_number=number,
                pdf=pdf,
                issue_date=day.isoformat() if day else "",
                platform=platform.NAME,
            )
        )
        return True

    async def _page_file(self, run: _Run, platform: Platform, page: IssuePage) -> bool:
        """A page that exists only as PDF or page text: its articles, cut by the segmenter.

        Page text is preferred (no PDF extraction to go wrong). Items are addressed
        ``<file URL>#item-<id>`` exactly like ``kind = "text"``/``"pdf"`` sources, so a
        second poll yields the same URLs; the file itself is fetched conditionally, so an
        unchanged page costs a 304 and no segmenting. False when the file could not be
        fetched (the page is retried next run).
        """
        file_url = page.text_url or page.pdf_url
        if not run.budget_left:
            return False
        try:
            result = await run.ctx.fetcher.get(file_url, conditional=True)
        except FetchError as exc:
            run.drafts.append(skip_or_stop(file_url, exc))
            return False
        if result.not_modified:
            return True
        try:
            items = await run.ctx.run_cpu(
                segment_bytes,
                result.body,
                name=file_url,
                encoding=run.source.encoding,
                content_type=result.headers.get("Content-Type"),
            )
        except SegmentError as exc:
            # Re-reading the same file would fail the same way; a changed file has a new ETag.
            run.drafts.append(skipped(file_url, f"page file not segmented: {exc}"))
            return True
        if not items:
            run.drafts.append(skipped(file_url, "page file holds no articles"))
            return True
        drafts = [to_draft(item, file_url) for item in items]
        known = await run.ctx.known_urls(d.url for d in drafts)
        for draft in drafts:
            if draft.url in known or draft.url in run.seen:
                continue
            run.seen.add(draft.url)
            draft.place = place_of_article(draft, run.source.region)
            draft.published = _midnight(page.issue_date)
            draft.page = page.label or (f"第{page.number}版" if page.number else "")
            draft.paper, draft.page_number, draft.pdf = page.paper, page.number, page.pdf_url
            draft.segmented_from, draft.platform = file_url, platform.NAME
            draft.issue_date = page.issue_date.isoformat() if page.issue_date else ""
            run.drafts.append(draft)
        return True


def _owners(pages: list[IssuePage]) -> dict[str, IssuePage]:
    """Which page each article sits on.

    A page's picture map (or the issue navigation's list for that page) places an
    article; failing that, the page listing it, but not the first page when another
    lists it too: front-page sidebars (今日关注) point at stories on inner pages.
    """
    owners: dict[str, IssuePage] = {}
    for page in pages:
        for url in page.mapped:
            owners.setdefault(url, page)
    listings: dict[str, list[IssuePage]] = {}
    for page in pages:
        for url, _ in page.articles:
            listings.setdefault(url, []).append(page)
    for url, where in listings.items():
        if url not in owners:
            owners[url] = where[1] if len(where) > 1 and where[0] is pages[0] else where[0]
    return owners


def _placement(page: IssuePage, own_number: str, refs: list[PageRef]) -> tuple[str, str, str]:
    """(label, number, PDF) of the page an article sits on: its own metadata
    (``founder-pagenum``, the 第 N 版 of its date line) wins over the page it was found on."""
    if own_number and not same_number(own_number, page.number):
        ref = next((r for r in refs if same_number(own_number, page_number(r.label))), None)
        if ref is not None:
            return ref.label, own_number, ref.pdf_url
        return f"第{own_number}版", own_number, ""
    number = page.number or own_number
    return page.label or (f"第{number}版" if number else ""), number, page.pdf_url


def _midnight(day: date | None) -> datetime | None:
    """An issue day as a timestamp: China midnight, stored in UTC."""
    if day is None:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=SITE_TZ).astimezone(UTC)
