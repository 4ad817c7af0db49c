"""Hanweb columns whose page embeds no records: everything comes from dataproxy.jsp.

The local site answers dataproxy.jsp like JCMS does (``startrecord``/``endrecord`` in
the query, XML ``<datastore>`` with ``<totalrecord>``), over a column the test grows.
"""

from __future__ import annotations

from datetime import date, timedelta

from aiohttp import web

from tests.sites import make_config, page_response, run_sources, stored
from watchers.hanweb import PROXY_PATH

COLUMN = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>政策文件 金乡县人民政府</title>
</head><body><div id="4321"></div><script language="javascript">
var param_4321 = {col:1,appid:1,webid:33,path:'/',columnid:4321,sourceContentType:1,
unitid:8765,webname:'金乡县人民政府',permissiontype:0};
</script></body></html>"""


class Column:
    """A column of ``count`` articles, newest first, paged only through dataproxy.jsp."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.proxy_queries: list[dict[str, str]] = []

    def record_id(self, position: int) -> int:
        """Article id of the record at 1-based ``position`` (newest has the highest id)."""
        return 1000 + self.count - position

    def path(self, ident: int) -> str:
        day = date(2024, 1, 1) + timedelta(days=ident - 1000)
        return f"/art/{day.year}/{day.month}/{day.day}/art_4321_{ident}.html"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/col/col4321/index.html", self.column)
        app.router.add_post(PROXY_PATH, self.proxy)
        app.router.add_get("/art/{y}/{m}/{d}/{name}", self.article)
        return app

    async def column(self, request: web.Request) -> web.StreamResponse:
        return page_response(request, COLUMN.encode(), "text/html")

    async def proxy(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        assert (form["columnid"], form["webid"], form["unitid"]) == ("4321", "33", "8765")
        self.proxy_queries.append(dict(request.query))
        start, end = int(request.query["startrecord"]), int(request.query["endrecord"])
        records = "".join(
            f'<record><![CDATA[<li><a href="{self.path(self.record_id(n))}" '
            f'title="金乡县政策文件{self.record_id(n)}号">金乡县政策文件…</a></li>]]></record>'
            for n in range(start, min(end, self.count) + 1)
        )
        xml = (
            f'<?xml version="1.0" encoding="UTF-8"?><datastore>'
            f"<totalrecord>{self.count}</totalrecord><recordset>{records}</recordset></datastore>"
        )
        return web.Response(body=xml.encode(), content_type="text/xml")

    async def article(self, request: web.Request) -> web.StreamResponse:
        ident = request.match_info["name"].removesuffix(".html").split("_")[-1]
        html = (
            f'<html><head><meta name="ArticleTitle" content="金乡县政策文件{ident}号"></head>'
            f"<body><div>发布日期：{request.match_info['y']}-{request.match_info['m']}-"
            f"{request.match_info['d']}</div><!--ContentStart--><div id=zoom>"
            f"<p>第{ident}号文件正文。</p></div><!--ContentEnd--></body></html>"
        )
        return web.Response(text=html, content_type="text/html")


def hanweb_source(base: str) -> str:
    return f"""
[[sources]]
name = "金乡政府网"
kind = "hanweb"
url = "{base}/col/col4321/index.html"
region = "金乡"
"""


async def test_column_without_embedded_records_pages_through_dataproxy(tmp_path, serve_app) -> None:
    column = Column(50)  # more than one dataproxy answer (45 records each)
    base = await serve_app(column.app())
    config = make_config(tmp_path, hanweb_source(base))

    report = (await run_sources(config))["金乡政府网"]

    assert report.error is None and (report.new, report.skipped) == (50, 0)
    assert [(q["startrecord"], q["endrecord"]) for q in column.proxy_queries] == [
        ("1", "45"),
        ("46", "90"),
    ]
    articles = await stored(config)
    assert {a.title for a in articles.values()} == {
        f"金乡县政策文件{n}号" for n in range(1000, 1050)
    }
    oldest = articles[f"{base}{column.path(1000)}"]
    assert oldest.text == "第1000号文件正文。" and oldest.place == "金乡"

    # The column page is unchanged (304), but a new record arrived through dataproxy.jsp.
    column.count = 51
    column.proxy_queries.clear()
    report = (await run_sources(config))["金乡政府网"]

    assert report.error is None and report.new == 1
    assert [q["startrecord"] for q in column.proxy_queries] == ["1"]  # stops at known records
    assert f"{base}{column.path(1050)}" in await stored(config)


async def test_page_that_is_not_a_hanweb_column_is_a_source_error(tmp_path, serve_site) -> None:
    base, _ = await serve_site(
        "not-hanweb",
        pages={"/col/col1/index.html": "<html><body><h1>网站维护中</h1></body></html>"},
    )
    config = make_config(tmp_path, hanweb_source(base).replace("col4321", "col1"))

    report = (await run_sources(config))["金乡政府网"]

    assert report.error is not None
    assert "expected a Hanweb JCMS column page" in report.error
    assert "<datastore>" in report.error and "param_" in report.error
