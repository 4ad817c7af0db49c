"""Hanweb JCMS as deployed: real column and article structures (tests/fixtures/real/hanweb),
served locally and read through the real watcher, `tingfeng once`, `sources` and `export`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from tests.cli_runner import run_cli
from tests.sites import make_config, page_response, run_sources, source_row, stored
from watchers.hanweb import PROXY_PATH, column_paging
from watchers.hanweb_article import parse_article

REAL = Path(__file__).parent / "fixtures" / "real" / "hanweb"
PROXY_GET = "/module/web/jpage/dataproxy.jsp"


class RealSite:
    """One fixture site: its files, HTML in ``encoding`` without a charset, dataproxy.jsp."""

    def __init__(self, name: str, encoding: str = "utf-8") -> None:
        self.root = REAL / name
        self.encoding = encoding
        self.paths: list[str] = []
        self.proxy: list[dict[str, str]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.serve)
        return app

    async def serve(self, request: web.Request) -> web.StreamResponse:
        self.paths.append(request.path)
        if request.path == PROXY_PATH:
            self.proxy.append(dict(request.query) | dict(await request.post()))
            if request.method == "POST":
                return self.file(request, "dataproxy.xml")
            page = min(int(request.query.get("page", "1")), 3)
            return self.file(request, f"dataproxy_page{page}.xml")
        return self.file(request, request.path.lstrip("/"))

    def file(self, request: web.Request, relative: str) -> web.StreamResponse:
        path = self.root / relative
        if not path.is_file():
            raise web.HTTPNotFound()
        text = path.read_text("utf-8")
        if path.suffix == ".xml":
            return page_response(request, text.encode(), "text/xml")
        return page_response(request, text.encode(self.encoding), "text/html")


def hanweb(name: str, url: str, region: str) -> str:
    return f'\n[[sources]]\nname = "{name}"\nkind = "hanweb"\nurl = "{url}"\nregion = "{region}"\n'


def local(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    """China wall-clock time as stored (UTC)."""
    return datetime(year, month, day, hour - 8, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("html", "body"),
    [
        ('<meta name="ContentStart"><p>甲</p><meta name="ContentEnd">', "甲"),
        ("<META NAME=contentstart /><p>乙</p><META NAME=contentend />", "乙"),
        ("<meta content='' name='ContentStart'/><p>丙</p><meta name='ContentEnd'/>", "丙"),
        ("<!-- ContentStart --><p>丁</p><!--ContentEnd-->", "丁"),
        ("<!--ZJEG_RSS.content.begin--><p>戊</p><!--ZJEG_RSS.content.end-->", "戊"),
        ("<!--<$[信息内容]>begin--><p>己</p><!--<$[信息内容]>end-->", "己"),
        ("<div id='zoom'><p>庚</p></div>", "庚"),
        ("<div class='art zoom'><p>辛</p></div>", "辛"),
        ("<div class='bt-content'><p>壬</p></div>", "壬"),
        ("<div class='wip_art_con'><p>癸</p></div>", "癸"),
        ("<table><tr><td class='bt_content'>子</td></tr></table>", "子"),
    ],
)
def test_every_body_marker_and_container(html: str, body: str) -> None:
    page = (
        f"<html><body><div class='nav'>首页 政务公开</div>{html}<div>版权所有</div></body></html>"
    )
    assert parse_article(page, "http://x/art/1.html").text == body


def test_paging_ids_from_param_or_nextgroup() -> None:
    jiangsu = (REAL / "jiangsu/col/col33718/index.html").read_text("utf-8")
    paging = column_paging(jiangsu, "https://www.jiangsu.gov.cn/col/col33718/index.html")
    assert paging is not None and paging.mode == "post"
    # var param_212860 names only columnid and unitid; the rest comes from <nextgroup>.
    assert paging.params["columnid"] == "33718" and paging.params["unitid"] == "212860"
    assert (paging.params["webid"], paging.params["appid"]) == ("1", "1")
    county = (REAL / "county/col/col12377/index.html").read_text("utf-8")
    paging = column_paging(county, "http://www.jinxiang.gov.cn/col/col12377/index.html")
    assert paging is not None and paging.mode == "get"
    assert paging.next_url.startswith("http://www.jinxiang.gov.cn/module/web/jpage/dataproxy.jsp")


async def test_county_site_in_gbk_paged_by_nextgroup(tmp_path, serve_app) -> None:
    site = RealSite("county", encoding="gbk")
    base = await serve_app(site.app())
    config = make_config(tmp_path, hanweb("金乡政府网", f"{base}/col/col12377/index.html", "济宁"))

    report = (await run_sources(config))["金乡政府网"]

    # Nine records (five embedded, four more from group 2); three have no usable body.
    assert report.error is None and (report.new, report.skipped) == (6, 3)
    assert [q["page"] for q in site.proxy] == ["1", "2", "3"]
    assert all(q["appid"] == "1" and q["columnid"] == "12377" for q in site.proxy)
    assert all(q["webid"] == "110" and q["unitid"] == "38486" for q in site.proxy)
    articles = await stored(config)
    art = {url.rsplit("_", 1)[-1].removesuffix(".html"): a for url, a in articles.items()}
    police = art["1486901"]  # 2010 wenzhou.gov.cn body: <META name=ContentStart>, GBK, no charset
    assert police.title == "我市359名新民警陆续上岗"
    assert police.text.startswith("我市359名新民警日前已陆续到各县（市、区）公安基层岗位上岗")
    assert police.text.endswith("（林舒菡 摄）") and "政务公开" not in police.text
    assert police.published_at == local(2010, 12, 15, 17, 38)
    assert police.place == "济宁"  # no dateline: the source's region
    notice = art["1486900"]  # shandong.gov.cn div.wip_art_con, <meta name="ContentStart"/>
    assert notice.text.splitlines() == [
        "现对拟聘用人员进行公示。公示期为5个工作日，自2026年8月14日至2026年8月20日，"
        "期间如有异议请向办公厅实名反映。",
        "监督电话：0531-51786568",
        "山东省人民政府办公厅",
    ]
    assert notice.published_at == local(2024, 12, 24, 16, 5)
    check = art["1486899"]  # <!--ContentStart--> comments, 发布日期 line, 本报金乡讯
    assert (check.place, check.published_at) == ("金乡", local(2024, 12, 24, 9, 30))
    court = art["1486898"]  # td.bt_content, no markers; county in the dateline's credit
    assert court.text.startswith("本报讯（记者 张敏 通讯员 金乡县人民法院 刘洋）")
    assert court.place == "金乡"
    business = art["1486897"]  # .bt-content; ■本报通讯员 byline, then 本报讯（…嘉祥县委宣传部…）
    assert business.place == "嘉祥" and business.title == "嘉祥县优化营商环境"
    gas = art["1486890"]  # only <!--<$[信息内容]>begin/end-->
    assert gas.text == "县市场监管局对全县液化气充装站开展专项检查，检查充装站6家。"
    assert gas.published_at == local(2024, 12, 20, 15, 45)
    row = await source_row(config, "金乡政府网")
    assert set(row.state["retry"]) == {
        f"{base}/art/2024/12/20/art_12377_1486889.html",  # broken markup, no body
        f"{base}/art/2024/12/19/art_12377_1486888.html",  # 404
        f"{base}/art/2024/12/19/art_12377_1486887.html",  # video only: empty markers
    }
    assert (
        "HTTP 404" in row.state["retry"][f"{base}/art/2024/12/19/art_12377_1486888.html"]["reason"]
    )

    # Unchanged column (304): only the three failed articles are tried again; nothing
    # is stored twice and the run is not a failure (they are retries, not new finds).
    site.paths.clear()
    report = (await run_sources(config))["金乡政府网"]
    assert report.error is None and (report.new, report.skipped) == (0, 3)
    assert site.paths[0] == "/col/col12377/index.html" and len(site.paths) == 4
    assert len(await stored(config)) == 6


async def test_jiangsu_column_posts_param_ids_through_tingfeng_once(tmp_path, serve_app) -> None:
    site = RealSite("jiangsu")
    base = await serve_app(site.app())
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path / "t.db"}"\n[fetch]\nper_host_delay = "0s"\n'
        + hanweb("江苏省政府", f"{base}/col/col33718/index.html", "江苏"),
        "utf-8",
    )
    once = await run_cli("once", "--config", str(config))
    assert once.code == 0, once.err
    assert "江苏省政府: 3 new" in once.out
    (form,) = site.proxy
    assert (form["startrecord"], form["endrecord"]) == ("3", "47")
    assert (form["columnid"], form["unitid"], form["webid"], form["appid"]) == (
        "33718",
        "212860",
        "1",
        "1",
    )
    export = await run_cli("export", "--config", str(config))
    rows = {r["url"].rsplit("_", 1)[-1]: r for r in map(json.loads, export.out.splitlines())}
    rail = rows["11828204.html"]  # <!--ZJEG_RSS.content.begin--><meta name="ContentStart">
    assert rail["title"] == "连云港跨里海班列运输提质提速"
    assert rail["text"].startswith("本报讯（通讯员 连云港市商务局 张颖）9月10日")
    assert "打印" not in rail["text"] and "大汉" not in rail["text"]
    assert rail["published"].startswith("2026-09-11T10:26")  # PubDate, time of day kept
    assert rail["place"] == "连云港"
    assert rows["11693001.html"]["place"] == "连云港"  # 本报连云港讯
    assert rows["11693001.html"]["published"].startswith("2025-12-14T08:05:09")
    sme = rows["11693505.html"]  # <META NAME="articletitle">, class="zoom"
    assert sme["title"] == "徐州以产业集群培育赋能中小企业高质量发展"
    assert sme["place"] == "江苏" and sme["text"].startswith("针对企业发展需求")
    assert (sme["page"], sme["pdf"]) == ("", "")
    sources = await run_cli("sources", "--config", str(config))
    assert " ok " in next(x for x in sources.out.splitlines() if x.startswith("江苏省政府"))


async def test_empty_column_and_bodiless_articles_fail_loudly(tmp_path, serve_site) -> None:
    empty_column = (
        "<html><body><div id='1'><script type='text/xml'><datastore><recordset>"
        "</recordset></datastore></script></div></body></html>"
    )
    markerless = "<html><head><meta name='ArticleTitle' content='标题'></head><body>正文</body>"
    column = (REAL / "county/col/col12377/index.html").read_text("utf-8")
    column = "\n".join(x for x in column.splitlines() if "<nextgroup>" not in x)
    pages = {"/col/col1/index.html": empty_column, "/col/col12377/index.html": column}
    for piece in column.split('href="')[1:]:
        pages[piece.split('"')[0]] = markerless
    base, _ = await serve_site("broken", pages=pages)
    config = make_config(
        tmp_path,
        hanweb("空栏目", f"{base}/col/col1/index.html", "")
        + hanweb("改版", f"{base}/col/col12377/index.html", ""),
    )
    reports = await run_sources(config)
    assert "no column records" in (reports["空栏目"].error or "")
    assert (reports["改版"].error or "").endswith(
        "5 article links, 0 bodies: no body marker matched (ContentStart/ContentEnd, "
        "ZJEG_RSS.content, <$[信息内容]>) and no body container "
        "(#zoom, .zoom, .bt-content, .wip_art_con, td.bt_content) (5)"
    )
    assert await stored(config) == {}
    for name in ("空栏目", "改版"):
        row = await source_row(config, name)
        assert row.failures_in_row == 1 and row.last_success_at is None


async def test_shell_column_with_ids_only_in_nextgroup(tmp_path, serve_app) -> None:
    """An empty embedded recordset and no ``var param_``: records come from group GETs,
    and on later runs (column 304) the remembered nextgroup URL is asked again."""
    site = RealSite("county", encoding="gbk")
    column = (REAL / "county/col/col12377/index.html").read_text("utf-8")
    shell = "\n".join(x for x in column.splitlines() if "<record>" not in x and "</li>" not in x)
    assert "art_12377" not in shell
    paging = column_paging(shell, "http://www.jinxiang.gov.cn/col/col12377/index.html")
    assert paging is not None and paging.mode == "get"

    async def serve(request: web.Request) -> web.StreamResponse:
        if request.path == "/col/col12377/index.html":
            return page_response(request, shell.encode("gbk"), "text/html")
        return await site.serve(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", serve)
    base = await serve_app(app)
    config = make_config(tmp_path, hanweb("金乡政府网", f"{base}/col/col12377/index.html", "济宁"))

    report = (await run_sources(config))["金乡政府网"]

    assert report.error is None and (report.new, report.skipped) == (6, 3)
    assert [q["page"] for q in site.proxy] == ["1", "2", "3"]
    site.proxy.clear()
    report = (await run_sources(config))["金乡政府网"]
    assert report.error is None and report.new == 0
    assert [q["page"] for q in site.proxy] == ["1"]  # group 1 holds only known records
