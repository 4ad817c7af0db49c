"""Hanweb JCMS county sites: embedded records, dataproxy.jsp paging, articles, attachments."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from tests.sites import SITES, make_config, page_response, run_sources, stored


async def test_column_records_paging_and_articles(tmp_path, serve_site):
    forms: list[dict[str, str]] = []

    async def dataproxy(request: web.Request) -> web.StreamResponse:
        forms.append(dict(await request.post()) | dict(request.query))
        xml = (SITES / "hanweb" / "dataproxy.xml").read_text("utf-8")
        return page_response(request, xml.encode(), "text/xml")

    base, hits = await serve_site("hanweb", routes={"/module/web/jpage/dataproxy.jsp": dataproxy})
    config = make_config(
        tmp_path,
        f"""
[[sources]]
name = "嘉祥政府网"
kind = "hanweb"
url = "{base}/col/col1234/index.html"
region = "嘉祥"
""",
    )
    report = (await run_sources(config))["嘉祥政府网"]
    assert report.error is None
    # Four records: three embedded, one paged in; one has no body (skipped with a reason).
    assert (report.new, report.skipped) == (3, 1)
    assert forms[0]["columnid"] == "1234" and forms[0]["webid"] == "21"
    assert forms[0]["unitid"] == "5678" and forms[0]["startrecord"] == "4"
    articles = await stored(config)
    notice = articles[f"{base}/art/2024/5/20/art_1234_1003.html"]
    assert notice.title == "关于开展瓶装液化气安全检查的通知"
    assert notice.published_at == datetime(2024, 5, 20, 1, 30, tzinfo=UTC)
    assert notice.text.splitlines()[:2] == [
        "各镇街、各有关单位：",
        "为加强瓶装液化气安全管理，定于5月下旬开展专项检查。",
    ]
    assert "政务公开" not in notice.text  # the sidebar is outside the content markers
    assert notice.place == "嘉祥"
    download = f"{base}/module/download/downfile.jsp?classid=0&filename=jc.pdf"
    assert notice.extra["attachments"] == [
        {"name": "检查表.pdf", "url": download},
        {"name": "报名表.docx", "url": f"{base}/attach/0/a1b2c3.docx"},
    ]
    paged = articles[f"{base}/art/2024/5/18/art_1234_0999.html"]
    assert paged.title == "嘉祥县优化营商环境十条措施"
    assert paged.text == "一、压缩企业开办时间至半个工作日。"
    # Unchanged column page: one conditional request, 304; only the bodiless article is
    # tried again (it is on the retry list), nothing else is fetched.
    before = len(hits.log)  # every request, GET or POST
    report = (await run_sources(config))["嘉祥政府网"]
    assert report.error is None and (report.new, report.skipped) == (0, 1)
    assert [p for _, p, _ in hits.log[before:]] == [
        "/col/col1234/index.html",
        "/art/2024/5/18/art_1234_1001.html",
    ]
