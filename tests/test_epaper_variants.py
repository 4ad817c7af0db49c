"""Classic Founder link and page shapes that the real-site fixtures do not all carry."""

from __future__ import annotations

from watchers.epaper import founder_classic
from watchers.epaper.detect import detect

PAGE = "http://epaper.example.cn/nfdaily/html/202511/22/node_A01.html"


def test_continued_articles_queries_and_html_pages_under_yyyymm_dd() -> None:
    html = (
        "<a id=pageLink href=node_A01.html>A01版：要闻</a>"
        "<a id=pageLink href=node_A02.html>A02版：广东</a>"
        "<a href=content_10154249.html?div=-1>头条</a>"
        "<a href=content_10154249.html?div=0>头条</a>"
        "<a href=content_10154249_2.html>头条（续）</a>"
        "<a href=http://epaper.nfnews.com/nfdaily/html/202511/22/content_10154250.html>另一台主机</a>"
        "<a href=http://epaper.nfnews.com/nfdaily/html/202510/01/content_1.html>上月的文章</a>"
    )

    assert detect(PAGE, "") is founder_classic
    page = founder_classic.parse_page(html, PAGE)

    base = "http://epaper.example.cn/nfdaily/html/202511/22"
    assert page.articles == [
        (f"{base}/content_10154249.html", "头条"),
        (f"{base}/content_10154249_2.html", "头条（续）"),
        ("http://epaper.nfnews.com/nfdaily/html/202511/22/content_10154250.html", "另一台主机"),
    ]
    assert [(ref.label, ref.url.rsplit("/", 1)[1]) for ref in page.pages] == [
        ("A01版：要闻", "node_A01.html"),
        ("A02版：广东", "node_A02.html"),
    ]
    assert (page.label, page.number) == ("A01版：要闻", "A01")
