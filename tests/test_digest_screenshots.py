"""The digest as a phone and a desktop show it: headless Chromium at 400 px and 1000 px.

Staff read digests on phones; a long URL or a wide table that forces sideways
scrolling makes the mail unreadable there. Debian's chromium is driven by Playwright
(no browser download). Set ``TINGFENG_SCREENSHOTS=docs`` to refresh the pictures in
docs/ (``docs/digest-1000.png``, ``docs/digest-400.png``).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from daemon.notify.render import Alert, Renderer
from tests.test_quotes import ARTICLE_TEXT, ARTICLE_TITLE, matched_alert

CHROMIUM = Path("/usr/bin/chromium")
playwright = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")

LONG_URL = (
    "http://www.yutai.gov.cn/art/2026/12/2/art_12345_2789456.html"
    "?from=timeline&isappinstalled=0&utm_source=wechat_session_very_long_tracking_parameter"
)


def sample_alerts() -> list[Alert]:
    """A morning's digest: two topics, e-paper stories with 版面 and PDF, a long URL."""
    gas = [
        matched_alert(
            ARTICLE_TITLE,
            ARTICLE_TEXT,
            "液化石油气 OR app",
            page="第02版：县域",
            pdf="http://paper.example/20261202/page02.pdf",
            also=["济宁日报", "大众日报"],
        ),
        matched_alert(
            "鱼台县开展瓶装液化气安全专项整治行动",
            "为切实加强燃气安全管理，鱼台县应急管理局联合市场监管局，对全县液化气充装站、"
            "供应站开展专项检查，共检查企业12家，发现隐患23处，已全部督促整改到位。",
            "液化气",
            source="鱼台县人民政府",
            place="鱼台",
            url=LONG_URL,
            published=datetime(2026, 12, 2, 1, 30, tzinfo=UTC),
        ),
    ]
    flood = [
        matched_alert(
            "暴雨预警 全县防汛值守",
            "气象台发布暴雨黄色预警，县防汛指挥部要求各镇街24小时值守，提前转移危险区域群众。",
            "防汛 OR 暴雨",
            topic="防汛",
            source="济宁日报",
            place="济宁",
            page="第01版：要闻",
            pdf="http://paper.example/20261202/page01.pdf",
        ),
    ]
    return [flood[0], *gas]  # owed out of config order on purpose


@pytest.mark.parametrize("width", [1000, 400])
async def test_digest_reads_at_desktop_and_phone_width(width: int, tmp_path: Path) -> None:
    alerts = sample_alerts()
    renderer = Renderer(ZoneInfo("Asia/Shanghai"), None, ["燃气安全", "防汛"])
    subject, body = renderer.digest(alerts, date(2026, 12, 2), "html")
    page_file = tmp_path / "digest.html"
    page_file.write_text(body, encoding="utf-8")
    shots = Path(os.environ.get("TINGFENG_SCREENSHOTS") or tmp_path)

    async with playwright.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = await browser.new_page(viewport={"width": width, "height": 800})
            await page.goto(page_file.as_uri())
            toc = await page.locator("li.toc").all_inner_texts()
            topics = await page.locator("h2").all_inner_texts()
            scroll_width = await page.evaluate("document.documentElement.scrollWidth")
            quotes = await page.locator("p.quote").all_inner_texts()
            marks = await page.locator("p.quote mark").count()
            await page.screenshot(path=str(shots / f"digest-{width}.png"), full_page=True)
        finally:
            await browser.close()

    assert subject == "[听风] 12月2日 2个主题 3条"
    assert len(toc) == len(alerts)
    for alert in alerts:  # every story once in the contents
        assert sum(line.startswith(alert.title) for line in toc) == 1
    assert [t.split("（")[0] for t in topics] == ["燃气安全", "防汛"]  # config order
    assert scroll_width <= width
    # Hits are marked once on screen (the 【】 for the plain-text part stay hidden).
    assert quotes and marks and not any("【" in q or "http" in q for q in quotes)
