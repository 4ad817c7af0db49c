"""No silent zero: entries found but none stored fail the run; failed entries are retried;
a source that had articles most days and has gone quiet is unhealthy and alerted."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta

from aiohttp import web

from daemon.silence import MAX_TRIES, empty_run_reason, silence, update_retries
from tests.cli_runner import run_cli
from tests.sites import make_config, page_response, run_sources, source_row, stored
from watchers.article import ArticleDraft
from watchers.base import skipped

LIST = "<html><body><ul>{items}</ul></body></html>"
ARTICLE = "<html><body><h1>{t}</h1><div id='zoom'><p>{t}的正文。</p></div></body></html>"
NO_BODY = "<html><body><h1>只有标题</h1></body></html>"


def listing(*paths: str) -> str:
    return LIST.format(items="".join(f"<li><a href='{p}'>{p}</a></li>" for p in paths))


def html_source(name: str, url: str, extra: str = "") -> str:
    return f"""
[[sources]]
name = "{name}"
kind = "html"
url = "{url}"
selectors = {{ item = "ul li a" }}
{extra}
"""


async def alert_receiver(serve_app) -> tuple[str, list[dict]]:
    posts: list[dict] = []

    async def receive(request: web.Request) -> web.Response:
        posts.append(await request.json())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/alert", receive)
    base = await serve_app(app)
    return base.replace("http://", "json://") + "/alert", posts


def ops(alert_url: str) -> str:
    return f'[daemon]\nadmin_channel = "ops"\n\n[[channels]]\nname = "ops"\nurl = "{alert_url}"\n'


def test_empty_run_reason_names_what_was_found_and_why():
    drafts = [skipped(f"http://x/{i}", "no article body found") for i in range(12)]
    reason = empty_run_reason([(12, "article links")], drafts, [])
    assert reason == "12 article links, 0 bodies: no article body found (12)"
    mixed = [*drafts[:2], skipped("http://x/404", "HTTP 404 Not Found")]
    assert empty_run_reason([], mixed, []) == (
        "3 entries, 0 bodies: no article body found (2); 1 more for 1 other reason(s)"
    )
    # One good article, or nothing new at all, is not an empty run.
    good = ArticleDraft(url="http://x/ok", title="t", text="正文")
    assert empty_run_reason([(12, "article links")], [*drafts, good], []) is None
    assert empty_run_reason([(12, "article links")], [], []) is None
    # Only retries of earlier failures failing again: the source itself is fine.
    assert empty_run_reason([], drafts[:1], ["http://x/0"]) is None


def test_retry_list_is_bounded_and_gives_up():
    state: dict = {}
    update_retries(state, [skipped("http://x/a", "HTTP 404")], [])
    assert state["retry"] == {"http://x/a": {"reason": "HTTP 404", "tries": 1}}
    for _ in range(MAX_TRIES - 2):
        assert update_retries(state, [skipped("http://x/a", "HTTP 404")], ["http://x/a"]) == []
    given_up = update_retries(state, [skipped("http://x/a", "HTTP 404")], ["http://x/a"])
    assert given_up == [("http://x/a", "HTTP 404")] and "retry" not in state
    update_retries(state, [skipped(f"http://x/{i}", "r") for i in range(150)], [])
    assert len(state["retry"]) == 100 and "http://x/149" in state["retry"]
    ok = ArticleDraft(url="http://x/149", title="t", text="正文")
    update_retries(state, [ok], ["http://x/149"])
    assert "http://x/149" not in state["retry"]


def test_silence_needs_articles_on_most_days():
    now = datetime(2026, 12, 10, 12, tzinfo=UTC)
    last = now - timedelta(days=4)
    daily = [date(2026, 12, d) for d in range(1, 7)]
    quiet = silence(daily, last, now, 3 * 86400)
    assert quiet is not None and quiet.active_days == 6
    assert "no new articles for 4d 0h" in quiet.reason()
    assert silence(daily, now - timedelta(days=2), now, 3 * 86400) is None  # not yet
    assert silence(daily, last, now, 0) is None  # turned off
    weekly = [date(2026, 11, 15), date(2026, 11, 22), date(2026, 11, 29), date(2026, 12, 6)]
    assert silence(weekly, last, now, 3 * 86400) is None


async def test_links_without_bodies_fail_the_run_with_the_reason(tmp_path, serve_site):
    paths = [f"/a/{i}" for i in range(3)]
    base, _ = await serve_site(
        "nobody", pages={"/list": listing(*paths), **{p: NO_BODY for p in paths}}
    )
    config = make_config(tmp_path, html_source("nobody", f"{base}/list"))
    report = (await run_sources(config))["nobody"]
    assert report.new == 0 and report.skipped == 3
    assert report.error == f"{base}/list: 3 article links, 0 bodies: no article body found (3)"
    row = await source_row(config, "nobody")
    assert row.failures_in_row == 1 and "0 bodies" in (row.last_error or "")
    assert await stored(config) == {}


async def test_failed_articles_are_retried_behind_a_304(tmp_path, serve_site):
    broken = {"on": True}

    async def flaky(request: web.Request) -> web.StreamResponse:
        if broken["on"]:
            raise web.HTTPNotFound()
        return page_response(request, ARTICLE.format(t="迟到的文章").encode(), "text/html")

    base, hits = await serve_site(
        "flaky",
        pages={"/list": listing("/a/1", "/a/2"), "/a/1": ARTICLE.format(t="准时的文章")},
        routes={"/a/2": flaky},
    )
    config = make_config(tmp_path, html_source("flaky", f"{base}/list"))
    report = (await run_sources(config))["flaky"]
    assert (report.error, report.new, report.skipped) == (None, 1, 1)
    # The list is unchanged (304), the failed article is fetched again: still broken.
    report = (await run_sources(config))["flaky"]
    assert (report.error, report.new, report.skipped) == (None, 0, 1)
    assert hits.paths()[-2:] == ["/list", "/a/2"]
    broken["on"] = False
    report = (await run_sources(config))["flaky"]
    assert (report.error, report.new) == (None, 1)
    assert (await stored(config))[f"{base}/a/2"].title == "迟到的文章"
    before = len(hits.log)
    await run_sources(config)
    assert hits.paths()[before:] == ["/list"]  # nothing left to retry
    assert "retry" not in (await source_row(config, "flaky")).state


async def test_a_daily_source_gone_quiet_is_unhealthy_and_alerted(tmp_path, serve_site, serve_app):
    paths = [f"/a/{i}" for i in range(5)]
    base, _ = await serve_site(
        "daily",
        pages={"/list": listing(*paths), **{p: ARTICLE.format(t=f"第{p[-1]}篇") for p in paths}},
    )
    alert_url, alerts = await alert_receiver(serve_app)
    config = make_config(tmp_path, html_source("daily", f"{base}/list"), extra=ops(alert_url))
    assert (await run_sources(config))["daily"].new == 5
    # Pretend those five came on five days in a row, the last four days ago.
    now = datetime.now(UTC)
    with sqlite3.connect(tmp_path / "t.db") as db:
        for i, path in enumerate(paths):
            fetched = (now - timedelta(days=4 + i)).replace(tzinfo=None)
            db.execute("update articles set fetched_at = ? where url = ?", (fetched, base + path))
    report = (await run_sources(config))["daily"]
    assert report.error is not None and "no new articles for 4d" in report.error
    assert "5 of the 5 days" in report.error
    assert [a["title"] for a in alerts] == ["[听风·运维] 源 daily 已多日没有新文章"]
    row = await source_row(config, "daily")
    assert row.alerted_at is not None and row.failures_in_row == 1
    # Still quiet: no second alert; `sources` says unhealthy, never ok.
    await run_sources(config)
    assert len(alerts) == 1
    (tmp_path / "config.toml").write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path / "t.db"}"\n'
        + ops(alert_url)
        + html_source("daily", f"{base}/list"),
        "utf-8",
    )
    shown = await run_cli("sources", "--config", str(tmp_path / "config.toml"))
    line = next(x for x in shown.out.splitlines() if x.startswith("daily"))
    assert " unhealthy " in line and "no new articles" in line
    # The span is a per-source key; 0 turns the check off.
    (tmp_path / "off").mkdir()
    off = make_config(tmp_path / "off", html_source("daily", f"{base}/list", "silent_after = 0"))
    assert off.sources[0].silent_after == 0
    assert config.sources[0].silent_after == 3 * 86400
