"""E-paper families on local copies of real sites (fixtures/real, see each PROVENANCE.md).

Each test serves one family over real HTTP and runs it through the pipeline (watcher,
storage) as ``tingfeng once`` does: pages, articles, titles, page labels, page PDFs and
bodies, each article stored once, and a recorded reason for every item not stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.cli_runner import run_cli
from tests.real_sites import RealSite
from tests.sites import make_config, run_sources, stored
from watchers.article import ArticleDraft
from watchers.base import WatchContext
from watchers.epaper.watcher import EpaperWatcher


def epaper(url: str, name: str = "paper") -> str:
    return f'\n[[sources]]\nname = "{name}"\nkind = "epaper"\nurl = "{url}"\nregion = "济宁"\n'


async def serve(serve_app, site: RealSite) -> tuple[str, object]:
    app, hits = site.app()
    base = await serve_app(app)
    return base, hits


async def skipped_reasons(config) -> dict[str, str]:
    """The watcher's skipped items (URL → reason), polled directly with the real fetcher."""
    from daemon.pipeline import run_cpu
    from daemon.runtime import open_pipeline

    async def nothing_known(urls: object) -> set[str]:
        return set()

    async with open_pipeline(config) as pipeline:
        spec = config.sources[0]
        ctx = WatchContext(pipeline.fetcher.for_run(None), run_cpu, nothing_known, {})
        drafts: list[ArticleDraft] = await EpaperWatcher().poll(spec, ctx)
    return {d.url: f"{d.url}: {d.skip_reason}" for d in drafts if d.skip_reason}


async def test_classic_founder_with_query_links_stores_each_article_once(tmp_path, serve_app):
    """科技日报: ``content_548646.htm?div=0`` and ``?div=-1`` are one article; the PDF sits in
    ``div.pdf`` before the page list; the footer links articles of 2009 (not this issue)."""
    site = RealSite(
        "kjrb",
        shared={"/html/2023-02/10/node_2.htm": "kjrb_node_2_20230210.htm"},
        empty_pages=r"/node_\d+\.htm$",
    )
    base, hits = await serve(serve_app, site)
    config = make_config(tmp_path, epaper(f"{base}/paperindex.htm"))

    report = (await run_sources(config))["paper"]

    day = f"{base}/html/2023-02/10"
    assert report.error is None and (report.new, report.skipped) == (4, 1)
    articles = await stored(config)
    assert sorted(articles) == [f"{day}/content_{n}.htm" for n in (548643, 548646, 548655, 548659)]
    first = articles[f"{day}/content_548646.htm"]
    assert first.title == "开放共享 让大型科研仪器“忙”起来"
    assert first.page == "第01版：今日要闻"
    assert first.extra["pdf"] == f"{base}/images/2023-02/10/01/KJRB2023021001.pdf"
    assert first.author == "本报记者 操秀英"
    assert first.text.splitlines()[1].startswith("截至去年底")
    assert first.published_at == datetime(2023, 2, 9, 16, tzinfo=UTC)
    # One request per article whatever its query; the 2009 footer links never.
    assert hits.count("content_548646") == 1
    assert hits.count("content_64683") == 0
    reasons = await skipped_reasons(config)
    assert reasons == {f"{day}/content_548662.htm": f"{day}/content_548662.htm: HTTP 404 Not Found"}


async def test_classic_page_list_printed_twice_and_front_page_sidebar(
    tmp_path, serve_app, capsys: pytest.CaptureFixture[str]
):
    """江西日报: the page list is printed twice (hidden 版面导航 + 版面目录); the front page's
    今日关注 links stories of pages A02, A03 and B01, which keep their own page and PDF."""
    site = RealSite("jxrb", empty_pages=r"/node_\d+\.htm$")
    base, hits = await serve(serve_app, site)
    config = make_config(tmp_path, epaper(f"{base}/paperindex.htm"))

    report = (await run_sources(config))["paper"]

    day = f"{base}/html/2017-10/09"
    pdf = f"{base}/page/186/2017-10-09"
    assert report.error is None and report.new == 9
    # Each page once; each page PDF at most once (only pages without article links are
    # cut from their PDF, and this copy keeps none of those PDFs: 404, skipped).
    for node in range(187, 199):
        assert hits.count(f"node_{node}.htm") == 1, node
    pdfs = [path for path in hits.paths() if path.endswith(".pdf")]
    assert len(pdfs) == len(set(pdfs)) == 9
    assert not any("/A01/" in p or "/A02/" in p or "/A03/" in p for p in pdfs)
    articles = await stored(config)
    front = articles[f"{day}/content_401862.htm"]
    assert (front.page, front.extra["pdf"]) == (
        "第A01版：头版",
        f"{pdf}/A01/51281507497937890.pdf",
    )
    assert front.extra["paper"] == "江西日报"
    expected = {
        401870: ("第A02版：要闻", f"{pdf}/A02/54571507497938890.pdf"),
        401880: ("第A03版：天下", f"{pdf}/A03/46961507497912968.pdf"),
        401890: ("第B01版：专刊", f"{pdf}/B01/5051507497914812.pdf"),
    }
    for number, (label, page_pdf) in expected.items():
        article = articles[f"{day}/content_{number}.htm"]
        assert (article.page, article.extra["pdf"]) == (label, page_pdf), number
    broken = articles[f"{day}/content_401864.htm"]  # unclosed <P>, stray </div></td>
    assert broken.kicker == "吉安"
    assert broken.text.splitlines() == [
        "本报吉安讯（记者 刘启红）吉安市把脱贫攻坚作为头号民生工程。",
        "全省贫困发生率降至2%以下。".replace("全省", "全市"),
    ]
    # The off-site picture-map area is logged with its reason, not fetched, not retried.
    logged = capsys.readouterr().out
    assert "link not followed" in logged and "leaves the paper's site (ad.jxnews.com.cn)" in logged
    assert "gg1009" not in " ".join(hits.paths())
    # A second run fetches no article again and stores nothing twice.
    fetched = hits.count("content_")
    report = (await run_sources(config))["paper"]
    assert report.error is None and report.new == 0
    assert hits.count("content_") == fetched and len(await stored(config)) == 9


async def test_peoples_daily_nbs_pages_and_script_written_titles(tmp_path, serve_app):
    """人民日报 until 2024: ``nbs.D110000renmrb_01.htm`` pages, ``nw.…_1-01.htm`` articles,
    link titles written by ``document.write(view("…"))``."""
    site = RealSite("rmrb2017", empty_pages=r"/nbs\.D110000renmrb_\d+\.htm$")
    base, _ = await serve(serve_app, site)
    config = make_config(tmp_path, epaper(f"{base}/paperindex.htm"))

    report = (await run_sources(config))["paper"]

    # Pages 02-24 are not kept (empty here): each is cut from its listed PDF instead,
    # which this copy does not keep either — one skipped item per page, with its reason.
    assert report.error is None and (report.new, report.skipped) == (5, 23)
    articles = await stored(config)
    day = f"{base}/html/2017-10/16"
    second = articles[f"{day}/nw.D110000renmrb_20171016_2-01.htm"]
    assert (second.title, second.subtitle) == (
        "中共中央召开党外人士座谈会",
        "征求对中共十九大报告的意见",
    )
    assert second.page == "第01版：要闻"
    assert second.extra["pdf"] == f"{base}/page/2017-10/16/01/rmrb2017101601.pdf"
    assert second.published_at == datetime(2017, 10, 15, 16, tzinfo=UTC)
    fourth = articles[f"{day}/nw.D110000renmrb_20171016_4-01.htm"]
    assert (fourth.kicker, fourth.author) == (
        "——以习近平同志为核心的党中央引领中国发展纪实",
        "本报记者 刘维涛",
    )
    # No <h1> on the article page: the title the list wrote by script.
    assert articles[f"{day}/nw.D110000renmrb_20171016_5-01.htm"].title == "党的十八大以来大事记"
    for article in articles.values():
        assert "view(" not in article.title and "人民日报 》" not in article.text


async def test_peoples_daily_pc_author_without_its_date_line(tmp_path, serve_app):
    """人民日报 pc layout (2024–), the real node_01 page: ``p.sec`` holds the author and the
    《人民日报》（…第 01 版）date line; the author is stored without it."""
    site = RealSite(
        "rmrb-pc",
        shared={"/rmrb/pc/layout/202412/25/node_01.html": "rmrb_node_01_20241225.html"},
        empty_pages=r"/node_\d+\.html$",
    )
    base, _ = await serve(serve_app, site)
    config = make_config(tmp_path, epaper(f"{base}/rmrb/pc/layout/index.html"))

    report = (await run_sources(config))["paper"]

    assert report.error is None and (report.new, report.skipped) == (7, 0)
    articles = await stored(config)
    content = f"{base}/rmrb/pc/content/202412/25"
    first = articles[f"{content}/content_30048054.html"]
    assert first.author == "本报记者 王浩"
    assert first.page == "第01版：要闻"
    assert first.extra["pdf"] == (
        f"{base}/rmrb/pc/attachement/202412/25/58d97d37-6229-4f3b-872d-3911f85cb11b.pdf"
    )
    assert articles[f"{content}/content_30048056.html"].author == ""
    assert articles[f"{content}/content_30048060.html"].author == "本报记者 申智林 孙超 王云娜"


async def test_webtree_lists_the_whole_issue_on_one_page(tmp_path, serve_app):
    """证券时报 ``#webtree``: the first page lists every page's articles and PDF, so no other
    page is fetched; an article listed under two pages is stored once, on the first."""
    site = RealSite("zqsb")
    base, hits = await serve(serve_app, site)
    config = make_config(tmp_path, epaper(f"{base}/paper/zqsb/html/epaper/index/index.htm"))

    report = (await run_sources(config))["paper"]

    assert report.error is None and (report.new, report.skipped) == (4, 0)
    assert hits.count("node_3.htm") == 0 and hits.count("node_4.htm") == 0
    articles = await stored(config)
    day = f"{base}/paper/zqsb/html/2024-12/25"
    images = f"{base}/paper/zqsb/images/2024-12/25"
    assert articles[f"{day}/content_1001.htm"].page == "A001版：封面"
    third = articles[f"{day}/content_1003.htm"]
    assert (third.page, third.extra["pdf"]) == (
        "A002版：要闻",
        f"{images}/A002/ZQSB20241225A002.pdf",
    )
    assert articles[f"{day}/content_1004.htm"].page == "A003版：机构"


async def test_listdaohang_issue_with_daoxiang_links(tmp_path, serve_app):
    """新华每日电讯: PaperIndex → IssueIndex → Page01BC (two refreshes); ``div.listdaohang``
    lists the whole issue and its links carry the URL in ``daoxiang``, not ``href``."""
    site = RealSite("mrdx")
    base, hits = await serve(serve_app, site)
    config = make_config(tmp_path, epaper(f"{base}/content/PaperIndex.htm"))

    report = (await run_sources(config))["paper"]

    assert report.error is None and (report.new, report.skipped) == (3, 0)
    assert hits.count("Page02BC") == 0
    articles = await stored(config)
    day = f"{base}/content/20241225"
    assert articles[f"{day}/Articel01002NR.htm"].page == "01版：要闻"
    culture = articles[f"{day}/Articel02002NR.htm"]
    assert (culture.title, culture.page, culture.extra["pdf"]) == (
        "中美关系新定位",
        "02版：文化",
        f"{base}/PDF/20241225/02.pdf",
    )


async def test_paperindex_302_entry_gbk_without_charset_and_repeated_page_links(
    tmp_path, serve_app
):
    """大众日报: the entry answers 302, then two meta refreshes; GBK with no charset anywhere;
    each page linked twice (number and name) beside a 下一版 link that is not a page; page 2
    lists a page-1 story again."""
    site = RealSite("dzrb", encoding="gbk", redirects={"/dzrb/": "/dzrb/content/PaperIndex.htm"})
    base, hits = await serve(serve_app, site)
    config = make_config(tmp_path, epaper(f"{base}/dzrb/"))

    report = (await run_sources(config))["paper"]

    assert report.error is None and (report.new, report.skipped) == (3, 0)
    assert hits.count("Page02NU") == 1 and hits.count("Page03NU") == 0
    articles = await stored(config)
    day = f"{base}/dzrb/content/20241225"
    first = articles[f"{day}/Articel01002MT.htm"]
    assert (first.title, first.page, first.author) == (
        "全省冬季燃气安全检查全面展开",
        "第01版：头版",
        "记者 李振",
    )
    assert first.extra["pdf"] == f"{base}/dzrb/PDF/20241225/01.pdf"
    assert articles[f"{day}/Articel01003MT.htm"].title == "镕铸匠心 济宁打造先进制造业强市"
    county = articles[f"{day}/Articel02002MT.htm"]
    assert (county.page, county.extra["pdf"]) == (
        "第02版：要闻",
        f"{base}/dzrb/PDF/20241225/02.pdf",
    )
    for article in articles.values():
        assert "\ufffd" not in article.text + article.title


@pytest.mark.parametrize("family", ["kjrb", "jxrb"])
async def test_articles_without_bodies_fail_the_run_with_a_reason(tmp_path, serve_app, family):
    """A site whose article pages changed their markup: links found, no body anywhere.
    That is a failing source with the reason, never "0 new" and ok."""
    site = RealSite(family, empty_pages=r"/node_\d+\.htm$")
    site.fill = {"ozoom": "zoomed", "founder-content": "content-of"}
    if family == "kjrb":
        site.shared = {"/html/2023-02/10/node_2.htm": "kjrb_node_2_20230210.htm"}
    base, _ = await serve(serve_app, site)
    config = make_config(tmp_path, epaper(f"{base}/paperindex.htm"))

    report = (await run_sources(config))["paper"]

    assert report.error is not None
    assert "article links" in report.error
    assert "0 bodies: no article body found (Founder classic article markup)" in report.error
    assert await stored(config) == {}


async def test_once_reports_each_real_paper_and_never_ok_for_nothing(
    tmp_path: Path, serve_app
) -> None:
    """``tingfeng once`` over two copies: 科技日报 stores its four articles and counts the
    404; a 江西日报 whose article markup changed fails with the reason instead of "0 new"."""
    working = RealSite(
        "kjrb",
        shared={"/html/2023-02/10/node_2.htm": "kjrb_node_2_20230210.htm"},
        empty_pages=r"/node_\d+\.htm$",
    )
    redesigned = RealSite("jxrb", empty_pages=r"/node_\d+\.htm$")
    redesigned.fill = {"ozoom": "zoomed", "founder-content": "content-of"}
    kjrb, _ = await serve(serve_app, working)
    jxrb, _ = await serve(serve_app, redesigned)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path / "t.db"}"\n[fetch]\nper_host_delay = "0s"\n'
        + epaper(f"{kjrb}/paperindex.htm", "kjrb")
        + epaper(f"{jxrb}/paperindex.htm", "jxrb"),
        "utf-8",
    )

    result = await run_cli("once", "--config", str(config))

    assert result.code == 0, result.err
    assert "kjrb: 4 new, 0 matched, 0 alerts owed, 1 article page failed" in result.out
    (jxrb_line,) = [line for line in result.out.splitlines() if line.startswith("jxrb:")]
    assert jxrb_line.startswith(f"jxrb: FAILED: {jxrb}/paperindex.htm: ")
    assert "0 bodies: no article body found (Founder classic article markup)" in jxrb_line
