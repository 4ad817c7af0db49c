"""E-paper watcher against local fixture sites in each platform's structure."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.sites import make_config, run_sources, source_row, stored

PUBLISHED = datetime(2024, 12, 24, 16, 0, tzinfo=UTC)  # 2024-12-25 00:00 China time


def refresh(target: str) -> str:
    """An entry page that meta-refreshes to ``target``."""
    return f'<meta http-equiv="refresh" content="0; URL={target}">'


def epaper(name: str, url: str, region: str = "济宁") -> str:
    return f"""
[[sources]]
name = "{name}"
kind = "epaper"
url = "{url}"
region = "{region}"
"""


async def test_classic_founder_in_gbk_without_http_charset(tmp_path, serve_site):
    base, hits = await serve_site("classic", encoding="gbk")
    config = make_config(tmp_path, epaper("jnrb", f"{base}/paperindex.htm"))
    report = (await run_sources(config))["jnrb"]
    assert report.error is None and report.new == 3 and report.skipped == 0
    articles = await stored(config)
    url = f"{base}/html/2024-12/25/content_52014.htm"
    first = articles[url]
    assert first.title == "王喆获评全省优秀乡村医生"
    assert first.kicker == "嘉祥县"
    assert first.subtitle == "扎根基层二十年 守护村民健康"
    assert first.author == "本报记者 李超"
    assert first.page == "第01版：要闻"
    assert first.published_at == PUBLISHED
    assert first.place == "嘉祥"  # the dateline 本报嘉祥讯, not the region
    assert first.text == (
        "本报嘉祥讯（记者 李超）近日，嘉祥县卧龙山街道乡村医生王喆获评全省优秀乡村医生。\n"
        "二十年来，王喆坚持每周入户随访，建立慢病档案三千余份。"
    )
    assert first.extra["paper"] == "济宁日报"
    assert first.extra["page_number"] == "1"
    assert first.extra["pdf"] == f"{base}/page/2024-12/25/01/2024122501_pdf.pdf"
    # Broken nesting (unclosed <P>, <div>) and founder-title tags instead of the table.
    second = articles[f"{base}/html/2024-12/25/content_52015.htm"]
    assert second.title == "嘉祥县液化石油气安全专项整治启动"
    assert second.kicker == ""
    assert second.text.splitlines() == [
        "本报讯 为切实加强燃气安全管理，嘉祥县于12月起开展瓶装液化石油气安全专项整治。",
        "整治重点为餐饮场所用气安全，持续至明年3月。",
    ]
    third = articles[f"{base}/html/2024-12/25/content_52020.htm"]
    assert third.title == "朱镕基题写校名的学校迎来百年校庆"
    assert third.kicker == "金乡县"
    assert third.page == "第02版：县域观察"
    assert third.extra["page_number"] == "2"
    assert "朱镕基同志" in third.text and "王喆" in third.text
    for article in articles.values():
        assert "enpproperty" not in article.text and "\ufffd" not in article.text
    assert (await source_row(config, "jnrb")).state == {"last_issue": "2024-12-25"}
    # Second run: nothing new, and no article page is fetched again.
    fetched = hits.count("content_")
    report = (await run_sources(config))["jnrb"]
    assert report.error is None and report.new == 0
    assert hits.count("content_") == fetched


async def test_founder_pc_layout_with_flat_content_urls(tmp_path, serve_site):
    base, _ = await serve_site("pc")
    config = make_config(tmp_path, epaper("jnrb-pc", f"{base}/paperpc/layout/index.html"))
    report = (await run_sources(config))["jnrb-pc"]
    assert report.error is None and report.new == 3
    articles = await stored(config)
    flat = articles[f"{base}/paperpc/content/content_166730.html"]
    assert flat.kicker == "打通“最后一公里”"
    assert flat.title == "济宁港航内河集装箱航线开通"
    assert flat.subtitle == "年运力可达10万标箱"
    assert flat.author == "本报记者 周宁 通讯员 付哲"
    assert flat.page == "第01版：要闻"
    assert flat.published_at == PUBLISHED  # from the page's span.newstime, not the URL
    assert flat.text == (
        "本报济宁讯 12月24日，济宁港航内河集装箱航线正式开通。\n"
        "航线连接梁山港与太仓港，全程约七百公里。"
    )  # the leaked "id + URL" paragraph is gone
    assert flat.extra["pdf"] == (
        f"{base}/paperpc/attachement/202412/25/8f0c2a1e-1b2c-4d5e-9f00-aa11bb22cc33.pdf"
    )
    variant = articles[f"{base}/paperpc/content/202412/25/content_166731.html"]
    assert (variant.kicker, variant.title) == ("部署冬春水利建设", "全市防汛工作会议召开")
    assert variant.text.startswith("本报讯 12月24日，全市防汛工作会议召开")
    second = articles[f"{base}/paperpc/content/content_166740.html"]
    assert (second.title, second.kicker, second.page) == (
        "鱼台县稻改油项目通过验收",
        "",
        "第02版：综合新闻",
    )
    assert second.published_at == PUBLISHED


async def test_paperindex_family_in_gbk(tmp_path, serve_site):
    base, _ = await serve_site("paperindex", encoding="gbk")
    config = make_config(tmp_path, epaper("dzrb", f"{base}/content/PaperIndex.htm", "山东"))
    report = (await run_sources(config))["dzrb"]
    assert report.error is None and report.new == 2
    articles = await stored(config)
    first = articles[f"{base}/content/20241225/Articel01001MT.htm"]
    assert (first.kicker, first.title, first.author) == (
        "守牢安全底线",
        "全省冬季燃气安全检查全面展开",
        "记者 张喆",
    )
    assert first.page == "第01版：要闻"
    assert first.published_at == PUBLISHED
    assert (
        first.text
        == "本报济南12月24日讯 全省冬季燃气安全检查日前全面展开。\n检查覆盖全部液化气充装站。"
    )
    assert first.extra["pdf"] == f"{base}/content/20241225/Page01.pdf"
    second = articles[f"{base}/content/20241225/Articel02001MT.htm"]
    assert (second.title, second.page) == ("济宁港吞吐量创新高", "第02版：经济")


async def test_unknown_platform_is_a_source_error_naming_what_was_expected(tmp_path, serve_site):
    pages = {"/index.html": "<html><body><h1>某某公司官网</h1><a href='/a.html'>关于我们</a>"}
    base, _ = await serve_site("none", pages=pages)
    config = make_config(tmp_path, epaper("notpaper", f"{base}/index.html"))
    report = (await run_sources(config))["notpaper"]
    assert report.error is not None
    assert "not a recognised e-paper" in report.error and "paperindex.htm" in report.error
    row = await source_row(config, "notpaper")
    assert row.failures_in_row == 1 and row.last_error == report.error


async def test_today_not_out_yet_falls_back_to_latest_issue(tmp_path, serve_site):
    # The entry already points at 2024-12-26, which is not published (404).
    app_pages = {"/paperindex.htm": refresh("html/2024-12/26/node_2.htm")}
    from tests.sites import SITES

    root = SITES / "classic"
    for file in (root / "html").rglob("*.htm"):
        app_pages["/" + file.relative_to(root).as_posix()] = file.read_text("utf-8")
    base, _ = await serve_site("classic-today", pages=app_pages, encoding="gbk")
    config = make_config(tmp_path, epaper("jnrb", f"{base}/paperindex.htm"))
    report = (await run_sources(config))["jnrb"]
    assert report.error is None and report.new == 3
    assert (await source_row(config, "jnrb")).state == {"last_issue": "2024-12-25"}


async def test_empty_issue_and_bodiless_article(tmp_path, serve_site):
    empty_page = (
        "<a id=pageLink href=node_1.htm>第01版：要闻</a>"
        "<p>本版暂无内容</p>"
        "<!--enpproperty <founder-date>2024-12-25</founder-date> /enpproperty-->"
    )
    pages = {
        "/e/paperindex.htm": refresh("html/2024-12/25/node_1.htm"),
        "/e/html/2024-12/25/node_1.htm": empty_page,
        "/b/paperindex.htm": refresh("html/2024-12/25/node_1.htm"),
        "/b/html/2024-12/25/node_1.htm": (
            "<a id=pageLink href=node_1.htm>第01版：要闻</a>"
            "<a href=content_1.htm>有正文</a><a href=content_2.htm>无正文</a>"
        ),
        "/b/html/2024-12/25/content_1.htm": (
            "<table><tr><td class=font01>有正文</td></tr></table>"
            "<div id=ozoom><p>正文一段。</p></div>"
        ),
        "/b/html/2024-12/25/content_2.htm": (
            "<table><tr><td class=font01>无正文</td></tr></table><div id=ozoom></div>"
        ),
    }
    base, _ = await serve_site("edge", pages=pages)
    config = make_config(
        tmp_path,
        epaper("empty", f"{base}/e/paperindex.htm")
        + epaper("bodiless", f"{base}/b/paperindex.htm"),
    )
    reports = await run_sources(config)
    assert "lists no articles" in (reports["empty"].error or "")
    assert reports["bodiless"].error is None
    assert (reports["bodiless"].new, reports["bodiless"].skipped) == (1, 1)
    assert [a.title for a in (await stored(config)).values()] == ["有正文"]
