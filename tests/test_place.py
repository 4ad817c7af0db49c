"""Place from the article's own words (dateline, credit, kicker) for every kind; region last."""

from __future__ import annotations

import pytest

from tests.sites import make_config, run_sources, stored
from watchers.place import place_in_text


@pytest.mark.parametrize(
    ("text", "kicker", "place"),
    [
        # Real datelines from tests/fixtures/pages and ../shared/pages.
        ("本报嘉祥讯（通讯员 潘笛欢 李超）为", "", "嘉祥"),
        ("本报嘉祥讯(通讯员 王理想 李超)今年以来", "", "嘉祥"),
        ("　　本报金乡讯（通讯员 王晓明）6月以来", "", "金乡"),
        ("新华社北京12月24日电 记者", "", "北京"),
        # 本报讯 names no place: the credit may (a county unit), a reporter's name never does.
        ("本报讯（通讯员 金乡县委宣传部 李四）近日", "", "金乡"),
        ("本报讯（记者 张三 通讯员 济宁市任城区委宣传部 李四）", "", "任城"),
        ("本报讯（通讯员 吴川宁 记者 王茸）5日下午，南京交警", "", ""),
        ("本报讯(通讯员 嘉祥经开区 李四)", "", ""),
        # ■本报通讯员 stories carry no dateline: a county opening the kicker names the place.
        ("■本报通讯员 孙丽\n“以前看个专家门诊", "泗水县人民医院", "泗水"),
        ("■本报通讯员 狄文平\n6月7日", "梁宝寺镇", ""),
        # A dateline wins over the kicker; plain text names nothing.
        ("本报嘉祥讯（通讯员 顾雪）", "金乡县", "嘉祥"),
        ("县市场监管局对全县液化气充装站开展专项检查。", "", ""),
    ],
)
def test_place_in_text(text: str, kicker: str, place: str) -> None:
    assert place_in_text(text, kicker) == place


FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>济宁新闻</title>
<item><title>大蒜冷链物流园投入运营</title><link>http://news.example.cn/a/1.html</link>
<description>本报金乡讯（通讯员 王晓明）6月以来，金乡县大蒜冷链物流园投入运营。</description></item>
<item><title>全市防汛工作会议召开</title><link>http://news.example.cn/a/2.html</link>
<description>全市防汛工作会议昨日召开。</description></item>
</channel></rss>"""
LIST = "<ul><li><a href='/h/1.html'>文章</a></li></ul>"
ARTICLE = (
    "<html><body><h1>嘉祥县优化营商环境</h1><div id='zoom'><p>■本报通讯员 付哲</p>"
    "<p>本报讯（通讯员 嘉祥县委宣传部 李超）嘉祥县推行企业开办“一窗通办”。</p></div></body></html>"
)


async def test_feed_and_html_articles_take_the_place_their_text_names(tmp_path, serve_site) -> None:
    pages = {"/list.html": LIST, "/h/1.html": ARTICLE, "/feed.xml": FEED}
    base, _ = await serve_site("places", pages=pages)
    sources = f"""
[[sources]]
name = "feed"
kind = "feed"
url = "{base}/feed.xml"
region = "济宁"

[[sources]]
name = "html"
kind = "html"
url = "{base}/list.html"
region = "济宁"
selectors = {{ item = "ul li a" }}
"""
    config = make_config(tmp_path, sources)
    reports = await run_sources(config)
    assert all(r.error is None for r in reports.values())
    places = {a.title: a.place for a in (await stored(config)).values()}
    assert places == {
        "大蒜冷链物流园投入运营": "金乡",  # its dateline, not the source's region
        "全市防汛工作会议召开": "济宁",  # names no place: the region
        "嘉祥县优化营商环境": "嘉祥",  # the county in the credit of 本报讯（…）
    }
