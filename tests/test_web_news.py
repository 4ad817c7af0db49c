"""今日动态, Story and the feeds, against a real console with articles stored through the
pipeline's own store step (matching, deduplication, owed alerts)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

from aiohttp.test_utils import TestClient
from sqlmodel import select

from daemon.config import parse_config
from storage import accounts, news
from storage.console_models import Subscription, User
from storage.models import Source, Topic
from storage.news import NewsFilter
from tests.notify_support import make_config, open_db, seed, story_text
from tests.web_support import add_user, console_server, database_of, log_in
from watchers.article import ArticleDraft

CONFIG = """[daemon]
first_run_window = "0s"

[[topics]]
name = "燃气安全"
query = "液化石油气 OR lpg"
channels = ["值班群"]

[[topics]]
name = "防汛"
query = "防汛"

[[channels]]
name = "值班群"
url = "json://127.0.0.1:9/hook?token=SECRET-TOKEN-42"
"""
EVIL_TITLE = "<script>alert(1)</script>液化气检查"
GAS_TEXT = (
    "本报讯　瓶装液化\n石油气（ＬＰＧ）安全是重中之重，全县开展专项检查。"
    + "检查组走访餐饮商户。" * 5
)
ATOM = "{http://www.w3.org/2005/Atom}"


def _draft(n: int, title: str, text: str, place: str = "鱼台", day: int = 8) -> ArticleDraft:
    return ArticleDraft(
        url=f"http://news.example/{n}.html",
        title=title,
        text=text,
        place=place,
        published=datetime(2024, 6, day, 1, 30, tzinfo=UTC),
    )


async def _seed(client: TestClient, tmp_path: Path) -> None:
    config = parse_config(
        (tmp_path / "config.toml").read_text(encoding="utf-8"), tmp_path / "config.toml"
    )
    await seed(
        database_of(client),
        config,
        [
            ("鱼台融媒", _draft(1, EVIL_TITLE, GAS_TEXT)),
            ("济宁日报", _draft(2, EVIL_TITLE, GAS_TEXT)),  # the same story: one cluster
            (
                "金乡融媒",
                _draft(
                    3, "金乡检查液化气站", "金乡县检查液化石油气充装站三家，责令整改一家。", "金乡"
                ),
            ),
            ("金乡融媒", _draft(4, "县医院义诊", "专家深入乡镇开展义诊。", "金乡")),
            ("鱼台融媒", _draft(5, "防汛演练", "全县防汛应急演练在南阳湖举行。", day=10)),
        ],
    )


async def _ids(client: TestClient) -> tuple[dict[str, int], dict[str, int]]:
    async with database_of(client).session() as session:
        topics = {n: i for i, n in await session.exec(select(Topic.id, Topic.name))}
        sources = {n: i for i, n in await session.exec(select(Source.id, Source.name))}
    return topics, sources  # type: ignore[return-value]


def _titles(html: str) -> list[str]:
    return re.findall(r'<li class="story">\s*<h2><a href="/story/\d+">(.*?)</a></h2>', html, re.S)


async def _page(client: TestClient, url: str) -> str:
    answer = await client.get(url)
    assert answer.status == 200, await answer.text()
    return await answer.text()


async def test_one_row_per_story_hits_marked_in_the_printed_words(tmp_path: Path) -> None:
    async with console_server(tmp_path, CONFIG) as client:
        await _seed(client, tmp_path)
        await add_user(client, "admin", "pw", admin=True)
        await log_in(client, "admin", "pw")
        html = await _page(client, "/")
        titles = _titles(html)
        # three stories matched (义诊 did not); the two copies of one story are one row
        assert len(titles) == 3
        assert "共 3 条动态" in html
        assert "另见：济宁日报（共 2 篇）" in html or "另见：鱼台融媒（共 2 篇）" in html
        # the title is text, never markup
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert(1)" not in html
        # hits are quoted from the original (full-width letters and brackets kept), the
        # paper's line wrap taken out of the snippet as in alerts
        assert "<mark>液化石油气</mark>（<mark>ＬＰＧ</mark>）" in html
        assert "<mark>液化气</mark>" not in html  # 液化气 is not a term of the topic
        assert "<mark>防汛</mark>演练" in html  # a title hit is marked too
        assert "2024-06-08 09:30" in html  # [daemon] timezone, not UTC


async def test_filters_narrow_the_list(tmp_path: Path) -> None:
    async with console_server(tmp_path, CONFIG) as client:
        await _seed(client, tmp_path)
        await add_user(client, "admin", "pw", admin=True)
        await log_in(client, "admin", "pw")
        topics, sources = await _ids(client)
        flood = _titles(await _page(client, f"/?topic={topics['防汛']}"))
        assert flood == ["<mark>防汛</mark>演练"]
        jinxiang = _titles(await _page(client, f"/?source={sources['金乡融媒']}"))
        assert len(jinxiang) == 1 and "金乡检查" in jinxiang[0]
        assert len(_titles(await _page(client, "/?place=金乡"))) == 1
        assert len(_titles(await _page(client, "/?q=充装站"))) == 1
        assert len(_titles(await _page(client, "/?q=SCRIPT"))) == 1  # Latin case ignored
        assert _titles(await _page(client, "/?q=义诊")) == []  # stored, but matched no topic
        assert len(_titles(await _page(client, "/?from=2024-06-08&to=2024-06-08"))) == 2
        assert len(_titles(await _page(client, "/?from=2024-06-10"))) == 1
        # a date that is not one: the page says so and shows the rest unfiltered
        html = await _page(client, "/?from=2024-13-45")
        assert "开始日期应为 YYYY-MM-DD 格式的日期" in html
        assert len(_titles(html)) == 3


async def test_paging_keeps_filters(tmp_path: Path) -> None:
    async with console_server(tmp_path, CONFIG) as client:
        config = parse_config(CONFIG, tmp_path / "config.toml")
        await seed(
            database_of(client),
            config,
            [("鱼台融媒", _draft(n, f"防汛第{n}期", "防汛" + story_text(n))) for n in range(33)],
        )
        await add_user(client, "admin", "pw", admin=True)
        await log_in(client, "admin", "pw")
        first = await _page(client, "/?q=防汛")
        assert len(_titles(first)) == 30
        assert "第 1/2 页" in first
        assert 'href="/?q=%E9%98%B2%E6%B1%9B&amp;page=2"' in first
        second = await _page(client, "/?q=防汛&page=2")
        assert len(_titles(second)) == 3
        assert not set(_titles(first)) & set(_titles(second))


async def test_staff_see_their_topics_unless_they_ask_for_all(tmp_path: Path) -> None:
    async with console_server(tmp_path, CONFIG) as client:
        await _seed(client, tmp_path)
        await add_user(client, "小王", "pw")
        await log_in(client, "小王", "pw")
        empty = await _page(client, "/")
        assert "你还没有订阅任何主题" in empty and _titles(empty) == []
        topics, _ = await _ids(client)
        db = database_of(client)
        async with db.writing() as session:
            user = (await session.exec(select(User).where(User.name == "小王"))).one()
            session.add(Subscription(user_id=user.id, topic_id=topics["防汛"]))
            await session.commit()
        mine = _titles(await _page(client, "/"))
        assert mine == ["<mark>防汛</mark>演练"]
        assert len(_titles(await _page(client, "/?all=1"))) == 3
        # picking a topic they do not follow, without "all", shows nothing rather than it
        assert _titles(await _page(client, f"/?topic={topics['燃气安全']}")) == []


async def test_story_shows_text_copies_and_alerts_without_secrets(tmp_path: Path) -> None:
    async with console_server(tmp_path, CONFIG) as client:
        await _seed(client, tmp_path)
        await add_user(client, "admin", "pw", admin=True)
        await log_in(client, "admin", "pw")
        home = await _page(client, "/")
        link = re.search(r'<a href="(/story/\d+)">&lt;script&gt;', home)
        assert link
        html = await _page(client, link.group(1))
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
        assert "<mark>液化\n石油气</mark>（<mark>ＬＰＧ</mark>）安全是重中之重" in html
        assert "鱼台融媒" in html and "济宁日报" in html  # both copies
        assert "值班群" in html and "即时提醒" in html and "待发送" in html
        assert "SECRET-TOKEN-42" not in html and "json://" not in html
        missing = await client.get("/story/99999")
        assert missing.status == 404


async def test_feeds_need_a_live_token_and_escape_titles(tmp_path: Path) -> None:
    async with console_server(tmp_path, CONFIG) as client:
        await _seed(client, tmp_path)
        await add_user(client, "小王", "pw")
        db = database_of(client)
        user = await news_user(client, "小王")
        token = await accounts.rotate_feed_token(db, user)
        topics, _ = await _ids(client)
        url = f"/feeds/topic/{topics['燃气安全']}.xml"
        answer = await client.get(url, params={"token": token})
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("application/atom+xml")
        body = await answer.text()
        assert "&lt;script&gt;" in body and "<script>" not in body
        feed = ET.fromstring(body.encode())
        titles = [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
        assert sorted(titles) == sorted([EVIL_TITLE, "金乡检查液化气站"])
        summary = next(feed.iter(f"{ATOM}entry")).findtext(f"{ATOM}summary") or ""
        assert "【" in summary
        for wrong in ("", "nope", token + "x"):
            assert (await client.get(url, params={"token": wrong})).status == 404
        assert (await client.get("/feeds/topic/999.xml", params={"token": token})).status == 404
        # the user's own feed: their subscriptions only
        async with db.writing() as session:
            session.add(Subscription(user_id=user, topic_id=topics["防汛"]))
            await session.commit()
        mine = ET.fromstring(
            await (await client.get("/feeds/user.xml", params={"token": token})).read()
        )
        assert [e.findtext(f"{ATOM}title") for e in mine.iter(f"{ATOM}entry")] == ["防汛演练"]
        # rotating the token revokes every old link
        fresh = await accounts.rotate_feed_token(db, user)
        assert (await client.get(url, params={"token": token})).status == 404
        assert (await client.get("/feeds/user.xml", params={"token": token})).status == 404
        assert (await client.get(url, params={"token": fresh})).status == 200


async def news_user(client: TestClient, name: str) -> int:
    async with database_of(client).session() as session:
        user = (await session.exec(select(User).where(User.name == name))).one()
    assert user.id is not None
    return user.id


async def test_listing_and_story_hold_on_both_databases(storage_url: str, tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        '[[channels]]\nname = "值班群"\nurl = "json://127.0.0.1:9/hook?token=SECRET"\n',
        storage_url=storage_url,
    )
    db = await open_db(config)
    try:
        await seed(
            db,
            config,
            [
                ("鱼台融媒", _draft(1, EVIL_TITLE, GAS_TEXT)),
                ("济宁日报", _draft(2, EVIL_TITLE, GAS_TEXT)),
                ("金乡融媒", _draft(3, "金乡检查液化气站", "金乡检查液化石油气充装站。", "金乡")),
            ],
        )
        page = await news.list_stories(db, NewsFilter(), choices=True)
        assert page.total == 2 and len(page.rows) == 2
        folded = next(r for r in page.rows if r.title == EVIL_TITLE)
        assert folded.copies == 2 and len(folded.also) == 1
        assert [n for _, n in page.sources] == ["济宁日报", "金乡融媒", "鱼台融媒"]
        only = await news.list_stories(db, NewsFilter(place="金乡", text="充装"))
        assert [r.title for r in only.rows] == ["金乡检查液化气站"]
        jining = dict((n, i) for i, n in page.sources)["济宁日报"]
        second = await news.list_stories(db, NewsFilter(source_id=jining))
        # the copy that passes the filter is the row, the other one "also reported by"
        assert [(r.source, r.also) for r in second.rows] == [("济宁日报", ["鱼台融媒"])]
        latin = await news.list_stories(db, NewsFilter(text="Script"))
        assert [r.title for r in latin.rows] == [EVIL_TITLE]
        assert (await news.list_stories(db, NewsFilter(), page=5)).total == 2
        story = await news.story(db, folded.article_id)
        assert story is not None and len(story.copies) == 2
        assert [(d.channel, d.status) for d in story.deliveries] == [("值班群", "pending")]
    finally:
        await db.close()


async def test_a_story_ranks_by_its_first_copy(storage_url: str, tmp_path: Path) -> None:
    """A story carried ten days ago and again today is an old story: it ranks below one
    first seen an hour ago, on every page size."""
    config = make_config(tmp_path, "", storage_url=storage_url)
    db = await open_db(config)
    now = datetime.now(UTC)

    def at(n: int, title: str, text: str, ago: timedelta) -> ArticleDraft:
        return replace(_draft(n, title, text), published=now - ago)

    try:
        await seed(
            db,
            config,
            [
                ("鱼台融媒", at(1, "旧闻", "旧闻" + story_text(1), timedelta(days=10))),
                ("济宁日报", at(2, "旧闻", "旧闻" + story_text(1), timedelta(minutes=30))),
                ("金乡融媒", at(3, "新闻", "新闻" + story_text(3), timedelta(hours=1))),
                ("金乡融媒", at(4, "前几天", "前几天" + story_text(4), timedelta(days=5))),
            ],
        )
        order = ["新闻", "前几天", "旧闻"]
        for size in (1, 2, 3):
            pages = [(await news.list_stories(db, NewsFilter(), p, size)) for p in (1, 2, 3)]
            assert [r.title for p in pages for r in p.rows] == order
            assert {p.total for p in pages} == {3}
        old = (await news.list_stories(db, NewsFilter(), 3, 1)).rows[0]
        assert old.source == "鱼台融媒" and old.also == ["济宁日报"]
    finally:
        await db.close()
