"""``tingfeng probe URL``: the family, the entry URL, the pages and the first articles of
each real-structure fixture; on a page that is no source, what was tried."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web

from daemon.commands.probe import report
from tests.cli_runner import run_cli
from tests.conftest import SiteFactory
from tests.real_sites import RealSite
from tests.sites import SITES, page_response
from watchers.dates import SITE_TZ
from watchers.probe import probe_url
from watchers.settings import FetchConfig

FAST = FetchConfig(per_host_delay=0)

FAMILIES = [
    pytest.param(
        RealSite(
            "kjrb",
            shared={"/html/2023-02/10/node_2.htm": "kjrb_node_2_20230210.htm"},
            empty_pages=r"/node_\d+\.htm$",
        ),
        "/paperindex.htm",
        "e-paper, Founder classic",
        "8 page(s): 第01版：今日要闻, 第02版：综 合",
        "新时代十年伟大变革奠定坚实基础",
        "page: 第01版：今日要闻 | date: 2023-02-10",
        id="classic-kjrb",
    ),
    pytest.param(
        RealSite("jxrb", empty_pages=r"/node_\d+\.htm$"),
        "/paperindex.htm",
        "e-paper, Founder classic",
        "江西日报 issue of 2017-10-09: 12 page(s): 第A01版：头版, 第A02版：要闻",
        "站在新的更高起点探索生态文明建设",
        "place: 南昌 | page: 第A01版：头版 | date: 2017-10-09",
        id="classic-jxrb",
    ),
    pytest.param(
        RealSite("rmrb2017", empty_pages=r"/nbs\.D110000renmrb_\d+\.htm$"),
        "/paperindex.htm",
        "e-paper, Founder classic",
        "24 page(s): 第01版：要闻",
        "《习近平关于社会主义文化建设论述摘编》出版发行",
        "page: 第01版：要闻 | date: 2017-10-16",
        id="classic-nbs-rmrb",
    ),
    pytest.param(
        RealSite(
            "rmrb-pc",
            shared={"/rmrb/pc/layout/202412/25/node_01.html": "rmrb_node_01_20241225.html"},
            empty_pages=r"/node_\d+\.html$",
        ),
        "/rmrb/pc/layout/index.html",
        "e-paper, Founder pc layout",
        "人民日报 issue of 2024-12-25: 20 page(s): 01版：要闻",
        "“为老百姓提供用得上、用得起、用得好的信息服务”",
        "page: 第01版：要闻 | date: 2024-12-25",
        id="pc-rmrb",
    ),
    pytest.param(
        RealSite("zqsb"),
        "/paper/zqsb/html/epaper/index/index.htm",
        "e-paper, Founder classic",
        "3 page(s): A001版：封面, A002版：要闻, A003版：机构",
        "资本市场改革持续深化",
        "page: A001版：封面",
        id="webtree-zqsb",
    ),
    pytest.param(
        RealSite("mrdx"),
        "/content/PaperIndex.htm",
        "e-paper, PaperIndex",
        "新华每日电讯 issue of 2024-12-25: 2 page(s): 01版：要闻, 02版：文化",
        "大国正确相处的新路",
        "page: 01版：要闻 | date: 2024-12-25",
        id="listdaohang-mrdx",
    ),
    pytest.param(
        RealSite("dzrb", encoding="gbk", redirects={"/dzrb/": "/dzrb/content/PaperIndex.htm"}),
        "/dzrb/",
        "e-paper, PaperIndex",
        "大众日报 issue of 2024-12-25: 2 page(s): 第01版：头版, 第02版：要闻",
        "全省冬季燃气安全检查全面展开",
        "page: 第01版：头版 | date: 2024-12-25",
        id="paperindex-dzrb",
    ),
]


@pytest.mark.parametrize(("site", "entry", "family", "pages", "title", "line"), FAMILIES)
async def test_probe_names_family_entry_pages_and_first_articles(
    serve_app, capsys: pytest.CaptureFixture[str], site, entry, family, pages, title, line
) -> None:
    app, _ = site.app()
    base = await serve_app(app)

    found = await probe_url(f"{base}{entry}", FAST)
    code = report(found, block=True, tz=SITE_TZ)

    out = capsys.readouterr().out
    assert code == 0, out
    assert f'family: {family} (kind = "epaper")' in out
    assert f"entry URL: {base}{entry}" in out
    assert pages in out
    assert f"  1. {title}" in out
    assert line in out
    assert '[[sources]]\nname = "' in out and f'url = "{base}{entry}"' in out


async def test_probe_hanweb_column(serve_site: SiteFactory, capsys) -> None:
    async def dataproxy(request: web.Request) -> web.StreamResponse:
        xml = (SITES / "hanweb" / "dataproxy.xml").read_bytes()
        return page_response(request, xml, "text/xml")

    base, _ = await serve_site("hanweb", routes={"/module/web/jpage/dataproxy.jsp": dataproxy})

    found = await probe_url(f"{base}/col/col1234/index.html", FAST)
    code = report(found, block=False, tz=SITE_TZ)

    out = capsys.readouterr().out
    assert code == 0, out
    assert 'family: Hanweb JCMS column (county government site) (kind = "hanweb")' in out
    assert "  2. 嘉祥县2024年防汛抗旱应急预案" in out and "[[sources]]" not in out
    assert "skipped: " in out and "no body marker matched" in out


async def test_probe_on_a_page_that_is_no_source_says_what_it_tried(
    serve_site: SiteFactory, capsys
) -> None:
    base, _ = await serve_site("plain", pages={"/about.html": "<html><body>关于我们</body></html>"})

    code = report(await probe_url(f"{base}/about.html", FAST), block=True, tz=SITE_TZ)

    out = capsys.readouterr().out
    assert code == 1
    assert "family: none matched; tried:" in out
    assert "e-paper: expected a Founder classic e-paper" in out
    assert "Hanweb: a /col/colNNNN/ column URL" in out and "feed: an RSS or Atom document" in out
    assert "[[sources]]" not in out and "hint:" not in out


async def test_probe_on_an_article_page_says_to_probe_its_page(serve_app, capsys) -> None:
    app, _ = RealSite("jxrb").app()
    base = await serve_app(app)

    found = await probe_url(f"{base}/html/2017-10/09/content_401862.htm", FAST)
    code = report(found, block=False, tz=SITE_TZ)

    out = capsys.readouterr().out
    assert code == 1 and "family: none matched; tried:" in out
    assert "hint: this looks like one article of a Founder classic e-paper" in out


async def test_probe_command_line_prints_a_ready_sources_block(tmp_path: Path, serve_app) -> None:
    app, _ = RealSite("mrdx").app()
    base = await serve_app(app)
    config = tmp_path / "config.toml"
    config.write_text('[fetch]\nper_host_delay = "0s"\n', "utf-8")

    result = await run_cli("probe", f"{base}/content/PaperIndex.htm", "--config", str(config))
    broken = await run_cli("probe", f"{base}/nothing-here.htm")

    assert result.code == 0, result.err
    block = result.out[result.out.index("[[sources]]") :]
    assert block.splitlines()[:4] == [
        "[[sources]]",
        'name = "新华每日电讯"',
        'kind = "epaper"',
        f'url = "{base}/content/PaperIndex.htm"',
    ]
    assert broken.code == 2 and "Traceback" not in broken.err
    assert broken.err.strip() == f"tingfeng: probe: {base}/nothing-here.htm: HTTP 404 Not Found"


async def test_probe_feed(serve_site: SiteFactory, capsys) -> None:
    rss = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>嘉祥发布</title>'
        "<item><title>嘉祥县召开防汛工作会议</title><link>http://example.invalid/a/1.html</link>"
        "<description>本报嘉祥讯 县里部署今年防汛工作。</description>"
        "<pubDate>Mon, 20 May 2024 08:00:00 +0800</pubDate></item></channel></rss>"
    )
    base, _ = await serve_site("feed", pages={"/rss.xml": rss})

    code = report(await probe_url(f"{base}/rss.xml", FAST), block=True, tz=SITE_TZ)

    out = capsys.readouterr().out
    assert code == 0, out
    assert 'family: RSS/Atom feed (kind = "feed")' in out
    assert "  1. 嘉祥县召开防汛工作会议" in out and "place: 嘉祥 |" in out
    assert f'url = "{base}/rss.xml"' in out
