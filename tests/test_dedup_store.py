"""Clustering through store_articles/store_matches on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from storage.articles import join_parts, store_articles, store_matches
from storage.catalog import sync_catalog
from storage.db import Database
from storage.dedup.clusters import cluster_sources
from storage.dedup.models import DedupBand
from storage.models import Article, Delivery, Match, Source
from tests.dedup_corpus import FOOTER, Corpus
from tests.notify_support import LPG_TEXT, make_config, seed
from tests.notify_support import open_db as open_db_for
from watchers.article import ArticleDraft

TOPICS = {"燃气安全": ["chat"], "防汛": ["chat"]}


async def open_db(url: str) -> Database:
    db = Database(url)
    await db.migrate()
    return db


async def prepare(db: Database) -> dict[str, Source]:
    async with db.writing() as session:
        sources = await sync_catalog(
            session,
            [(n, "feed", f"http://{n}.example/") for n in ("county", "daily", "portal")],
            [(name, name) for name in TOPICS],
            [("chat", "instant", [])],
        )
        await session.commit()
    return sources


async def store(db: Database, source: Source, *drafts: ArticleDraft) -> list[Article | None]:
    """One run's store step: join continued parts (the pipeline's way), then store."""
    async with db.writing() as session:
        merged = await session.merge(source)
        into_stored = await join_parts(session, merged, list(drafts))
        stored = await store_articles(session, merged, list(drafts), joined_to_stored=into_stored)
        await session.commit()
    return stored


def draft(url: str, title: str, text: str, **kw: str) -> ArticleDraft:
    return ArticleDraft(url=url, title=title, text=text, **kw)  # type: ignore[arg-type]


async def test_copies_join_the_earliest_cluster_and_survive_a_restart(storage_url: str) -> None:
    corpus = Corpus(21)
    story = corpus.story()
    db = await open_db(storage_url)
    sources = await prepare(db)
    [first] = await store(
        db, sources["county"], draft("http://county.example/1", *corpus.exact(story))
    )
    await db.close()

    db = await open_db(storage_url)  # a new process: nothing in memory
    edited, trimmed, other = await store(
        db,
        sources["daily"],
        draft("http://daily.example/1", *corpus.edited(story)),
        draft("http://daily.example/2", *corpus.trimmed(story)),
        draft("http://daily.example/3", *corpus.exact(corpus.story(story.topic, story.county))),
    )
    [again] = await store(
        db, sources["portal"], draft("http://portal.example/9", *corpus.retitled(story))
    )
    assert first is not None and edited is not None and trimmed is not None
    assert other is not None and again is not None
    assert edited.cluster_id == trimmed.cluster_id == again.cluster_id == first.id
    assert other.cluster_id == other.id
    async with db.session() as session:
        assert await cluster_sources(session, first.id or 0) == ["county", "daily", "portal"]
        # The exact copy is found by hash and adds no band keys of its own.
        keys = list(await session.exec(select(DedupBand).where(DedupBand.article_id == again.id)))
        assert keys == []
    await db.close()


async def test_same_url_twice_is_stored_once(storage_url: str) -> None:
    db = await open_db(storage_url)
    sources = await prepare(db)
    story = Corpus(2).story()
    await store(
        db, sources["county"], draft("http://county.example/a?id=1", story.title, story.text)
    )
    again = await store(
        db, sources["county"], draft("HTTP://County.example/a?utm_source=x&id=1#top", "x", "y")
    )
    assert again == [None]
    await db.close()


async def test_short_items_and_shared_footers_do_not_cluster(storage_url: str) -> None:
    db = await open_db(storage_url)
    sources = await prepare(db)
    footer = FOOTER.format(county="嘉祥县")
    items = [
        draft("http://county.example/n1", "停水通知", "因管网维修，纸坊镇12日将停水，请相互转告。"),
        draft("http://county.example/n2", "停电通知", "因线路检修，纸坊镇12日将停电，请相互转告。"),
        draft("http://county.example/p1", "纸坊镇夏收忙", "图为农民收割小麦。■通讯员 王伟 摄"),
        draft("http://county.example/p2", "纸坊镇夏收忙", "图为农民播种玉米。■通讯员 李强 摄"),
        draft("http://county.example/f1", "县领导调研", "县领导到纸坊镇调研秋种工作。\n" + footer),
        draft("http://county.example/f2", "县里召开会议", "县里召开会议部署防汛。\n" + footer),
        draft("http://county.example/e1", "", ""),
        draft("http://county.example/e2", "", ""),
    ]
    stored = await store(db, sources["county"], *items)
    assert all(a is not None and a.cluster_id == a.id for a in stored)
    # The same notice on another site is still an exact duplicate.
    [copy] = await store(
        db, sources["portal"], draft("http://portal.example/n1", items[0].title, items[0].text)
    )
    assert copy is not None and stored[0] is not None and copy.cluster_id == stored[0].id
    await db.close()


async def test_alerts_once_per_cluster_and_topic_and_once_for_a_new_topic(storage_url: str) -> None:
    corpus = Corpus(4)
    story = corpus.story("燃气安全")
    db = await open_db(storage_url)
    sources = await prepare(db)
    [first] = await store(
        db, sources["county"], draft("http://county.example/1", *corpus.exact(story))
    )
    title, text = corpus.edited(story)
    [edit] = await store(
        db, sources["daily"], draft("http://daily.example/1", title, text + "暴雨")
    )
    [copy] = await store(
        db, sources["portal"], draft("http://portal.example/1", title, text + "暴雨")
    )
    assert first and edit and copy
    async with db.writing() as session:
        owed = [await store_matches(session, [(first, "燃气安全", [])], TOPICS)]
        # The edited copy also matches 防汛 now: that topic is new for the cluster.
        owed.append(
            await store_matches(session, [(edit, "燃气安全", []), (edit, "防汛", [])], TOPICS)
        )
        owed.append(
            await store_matches(session, [(copy, "燃气安全", []), (copy, "防汛", [])], TOPICS)
        )
        await session.commit()
        keys = sorted(d.key for d in await session.exec(select(Delivery)))
    assert owed == [1, 1, 0]
    assert [k.split(":")[0] for k in keys] == [str(first.id)] * 2
    await db.close()


async def test_a_part_arriving_later_joins_its_stored_head(storage_url: str) -> None:
    db = await open_db(storage_url)
    sources = await prepare(db)
    corpus = Corpus(8)
    story = corpus.story()
    [head] = await store(
        db,
        sources["daily"],
        draft(
            "http://daily.example/p1/a",
            story.title,
            story.paragraphs[0],
            page="第01版",
            continued_to="第2版",
        ),
    )
    [part] = await store(
        db,
        sources["daily"],
        draft(
            "http://daily.example/p2/a",
            story.title,
            story.paragraphs[1],
            page="第02版",
            continued_from="第1版",
        ),
    )
    assert head is not None and part is not None
    assert part.cluster_id == head.id and part.extra["continuation_of"] == head.url
    async with db.session() as session:
        joined = await session.get(Article, head.id)
    assert joined is not None
    assert joined.text == story.paragraphs[0] + "\n" + story.paragraphs[1]
    assert joined.extra["parts"] == [part.url]
    await db.close()


async def test_parts_of_a_later_run_extend_the_stored_head_once_in_page_order(
    storage_url: str,
) -> None:
    db = await open_db(storage_url)
    sources = await prepare(db)
    title = "县统计局改革统计体制"
    [head] = await store(
        db,
        sources["daily"],
        draft(
            "http://daily.example/p1/a", title, "第一部分。", page="第01版", continued_to="第2版"
        ),
    )
    third = draft("http://daily.example/p3/a", title, "第三部分。", page="第03版")
    third.continued_from = "第2版"
    second = draft("http://daily.example/p2/a", title, "第二部分。", page="第02版")
    second.continued_from, second.continued_to = "第1版", "第3版"
    stored = await store(db, sources["daily"], third, second)
    assert head is not None and all(a is not None for a in stored)
    async with db.session() as session:
        joined = await session.get(Article, head.id)
        rows = list(await session.exec(select(Article).order_by(Article.id)))
    assert joined is not None
    assert joined.text == "第一部分。\n第二部分。\n第三部分。"
    assert joined.extra["parts"] == [second.url, third.url]
    assert {r.extra.get("continuation_of") for r in rows[1:]} == {head.url}
    assert {r.cluster_id for r in rows} == {head.id}
    late = draft("http://daily.example/p2/b", title, "又一个第二部分。", page="第02版")
    late.continued_from = "第1版"
    [again] = await store(db, sources["daily"], late)
    assert again is not None and not again.extra.get("continuation_of")
    await db.close()


async def test_the_run_matches_a_joined_head_once_and_a_late_part_on_its_own(
    tmp_path: Path,
) -> None:
    """Through the pipeline's store step: a part joined in its batch is matched only
    inside its head's text; a part whose head an earlier run stored is matched itself."""
    config = make_config(tmp_path, '[[channels]]\nname = "hook"\nurl = "json://127.0.0.1:9/h"\n')
    db = await open_db_for(config)

    def part(n: int, text: str, page: str, **kw: str) -> tuple[str, ArticleDraft]:
        item = draft(f"http://daily.example/{n}", "安全检查", text, page=page, **kw)
        return ("daily", item)

    batch = [part(1, "县应急管理局开展检查。", "第01版", continued_to="第2版")]
    batch.append(part(2, LPG_TEXT, "第02版", continued_from="第1版"))
    assert await seed(db, config, batch) == 1
    later = [part(3, "县里部署防汛工作。", "第01版", continued_to="第4版")]
    assert await seed(db, config, later) == 0
    assert await seed(db, config, [part(4, LPG_TEXT, "第04版", continued_from="第1版")]) == 1
    async with db.session() as session:
        articles = {a.url[-1]: a for a in await session.exec(select(Article))}
        matched = {articles_id for articles_id in await session.exec(select(Match.article_id))}
    assert {a.extra.get("continuation_of", "") for a in articles.values()} == {
        "",
        "http://daily.example/1",
        "http://daily.example/3",
    }
    assert matched == {articles["1"].id, articles["4"].id}
    assert articles["3"].text.endswith(LPG_TEXT) and articles["3"].extra["parts"] == [
        "http://daily.example/4"
    ]
    await db.close()
