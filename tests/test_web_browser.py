"""The console in a real browser, the way a staff member uses it, end to end.

Headless Debian chromium (driven by Playwright, never a downloaded browser) against
``tingfeng web`` in its own process; a local news site and ``tingfeng once`` on the same
config and database bring new articles; a local server catches the json:// alerts.
The flow: log in; create a topic in the workbench (live query check, 试匹配, 回测);
subscribe to it with a json:// chat channel and an email digest; a new matching article
appears in 今日动态 and at the catcher; a delivery that went dead is retried from 投递;
log out. Every page is photographed at 1280 px and 400 px, and at 400 px no page
scrolls sideways. ``TINGFENG_SCREENSHOTS=docs`` writes the pictures to docs/
(``docs/console-<page>-1280.png``, ``-400.png``); otherwise they go to the test's
temporary folder.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.cli_runner import run_cli
from tests.conftest import ROOT, Catcher, Site

CHROMIUM = Path("/usr/bin/chromium")
playwright = pytest.importorskip("playwright.async_api")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
    pytest.mark.slow,
]

WIDTHS = (1280, 400)
CONFIG = """
[daemon]
# fixture articles may be days old: alert them on the first run too
first_run_window = "0s"
# a failed send goes dead at once, so the flow can retry it from 投递
max_attempts = 1

[storage]
url = "sqlite:///{db}"

[fetch]
per_host_delay = "0s"

[[sources]]
name = "鱼台融媒"
kind = "feed"
url = "{base}/feed.xml"
region = "鱼台"

[[topics]]
name = "燃气安全"
query = "液化石油气 OR 燃气"

[web]
email_url = "mailto://bot:SMTPsecret1@127.0.0.1:2525?from=tingfeng@example.cn"
"""

ITEM = """<item><title>{title}</title><link>{{BASE}}/news/{n}.html</link>
<pubDate>{date}</pubDate><description>{text}</description></item>"""

# (number in its URL, title, text, days old)
Article = tuple[int, str, str, int]
ARTICLES: list[Article] = [
    (1, "鱼台县开展瓶装液化石油气安全检查", "县应急管理局对全县液化石油气经营网点开展检查。", 3),
    (2, "县气象台：本周末有暴雨", "县气象台预计周末有暴雨，请做好防范。", 2),
    (3, "县医院开展义诊活动", "专家深入乡镇开展义诊，提供健康咨询服务。", 1),
    (6, "县市场监管局检查液化气充装站", "检查组对辖区6家液化气充装站逐一检查。", 2),
    (7, "老旧小区燃气管道改造工程开工", "今年计划改造燃气管道12公里，惠及居民3000余户。", 1),
    (8, "燃气安全知识进校园", "县消防救援大队走进中小学，讲解燃气安全常识。", 1),
]
NEW_STORY: Article = (4, "暴雨预警 全县防汛值守", "县防汛指挥部要求各镇街24小时值守。", 0)
LATE_STORY: Article = (5, "防汛物资储备到位", "全县防汛物资已储备到位，可随时调用。", 0)


def feed(articles: list[Article]) -> str:
    now = datetime.now(UTC)
    items = "\n".join(
        ITEM.format(title=title, text=text, n=n, date=format_datetime(now - timedelta(days=days)))
        for n, title, text, days in articles
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>鱼台融媒</title><link>{{BASE}}/</link>{items}</channel></rss>"
    )


@asynccontextmanager
async def console_process(config: Path) -> AsyncIterator[str]:
    """``tingfeng web`` in its own process on a free port; yields the console's URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "daemon", "web", "--config", str(config), "--listen", "127.0.0.1:0"),
        "--json-logs",
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    try:
        url = ""
        while not url and (line := await asyncio.wait_for(proc.stderr.readline(), 60)):
            event = json.loads(line).get("event", "") if line.startswith(b"{") else ""
            url = event.removeprefix("console at ") if event.startswith("console at ") else ""
        assert url, "tingfeng web never said where the console is"
        drain = asyncio.create_task(proc.stderr.read())
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
    assert proc.returncode == 0
    assert "Traceback" not in (await drain).decode()


class Shots:
    """Photographs each page at every width and checks none scrolls sideways at 400 px."""

    def __init__(self, page: object, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.taken: list[str] = []

    async def take(self, name: str) -> None:
        page = self.page
        for width in WIDTHS:
            await page.set_viewport_size({"width": width, "height": 900})  # type: ignore[attr-defined]
            path = self.folder / f"console-{name}-{width}.png"
            await page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
            self.taken.append(path.name)
            if width == 400:
                wide = await page.evaluate(  # type: ignore[attr-defined]
                    "document.documentElement.scrollWidth - window.innerWidth"
                )
                assert wide <= 0, f"{name} scrolls sideways by {wide}px at 400 px"
        await page.set_viewport_size({"width": WIDTHS[0], "height": 900})  # type: ignore[attr-defined]


async def once(config: Path) -> str:
    result = await run_cli("once", "--config", str(config))
    assert result.code == 0, result.err
    return result.out


@pytest.mark.timeout(600)
async def test_staff_flow_in_a_real_browser(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    site.add("/feed.xml", feed(ARTICLES), "application/rss+xml")
    config = write_config(CONFIG.format(db=tmp_path / "t.db", base=site.base))
    await once(config)  # stored articles for the backtest
    made = await run_cli("users", "add", "李明", "--admin", "--config", str(config), stdin="pw\n")
    assert made.code == 0, made.err
    shots_dir = Path("docs") if os.environ.get("TINGFENG_SCREENSHOTS") == "docs" else tmp_path
    shots_dir = ROOT / shots_dir if not shots_dir.is_absolute() else shots_dir

    async with console_process(config) as url, playwright.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=["--lang=zh-CN"])
        context = await browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        page = await context.new_page()
        shots = Shots(page, shots_dir)
        expect = playwright.expect

        # Log in (the console sends an anonymous visitor to the login page).
        await page.goto(url)
        await expect(page).to_have_url(f"{url}login?next=/")
        await shots.take("login")
        await page.fill("input[name=name]", "李明")
        await page.fill("input[name=password]", "pw")
        await page.click("button[type=submit]")
        await expect(page.locator("header .who")).to_have_text("李明")

        # A topic made in the workbench: the query is checked as it is typed, a pasted
        # text shows its hits, the backtest counts stored articles per day.
        await page.goto(url + "topics/new")
        await page.fill("input[name=name]", "防汛")
        await page.locator("#query").press_sequentially("防汛 OR")
        await expect(page.locator("#query-status")).to_have_class("query-status error")
        await page.locator("#query").fill("")
        await page.locator("#query").press_sequentially("防汛 OR 暴雨")
        await expect(page.locator("#query-status")).to_have_text("查询可以解析 ✓")
        await page.fill("input[name=title]", "防汛演练")
        await page.fill("textarea[name=text]", "今年汛期，全县开展防汛应急演练，应对暴雨天气。")
        await page.click("button[value=try]")
        await expect(page.locator(".workbench-result mark").first).to_have_text("防汛")
        await page.click("button[value=backtest]")
        await expect(page.locator(".backtest")).to_contain_text("命中 1 篇")
        await expect(page.locator(".backtest .examples")).to_contain_text("县气象台：本周末有暴雨")
        await shots.take("topic")
        await page.click("button[value=save]")
        await expect(page.locator("form.backfill")).to_be_visible()
        await page.goto(url + "topics")
        await expect(page.locator(".topic-list")).to_contain_text("防汛")
        await shots.take("topics")

        # Subscribe: a json:// chat channel (the catcher) and an email digest.
        await page.goto(url + "subscriptions")
        await page.locator("details.add-channel summary").click()
        chat = page.locator("form", has=page.locator("input[name=kind][value=chat]"))
        await chat.locator("input[name=label]").fill("我的机器人")
        await chat.locator("input[name=url]").fill(catcher.url)
        await chat.locator("button[type=submit]").click()
        await expect(page.locator("table.channels")).to_contain_text("我的机器人")
        await page.locator("details.add-channel summary").click()
        mail = page.locator("form", has=page.locator("input[name=kind][value=email]"))
        await mail.locator("input[name=address]").fill("liming@example.cn")
        await mail.locator("input[name=at]").fill("07:30")
        await mail.locator("button[type=submit]").click()
        await expect(page.locator("table.channels")).to_contain_text("liming@example.cn")
        # The chat URL is never shown back in full.
        assert "/alerts" not in await page.locator("table.channels").inner_text()
        row = page.locator("table.subs tr", has_text="防汛")
        boxes = row.locator("input[type=checkbox]:not([value$=':console'])")
        assert await boxes.count() == 2
        for i in range(2):
            await boxes.nth(i).check()
        await page.click("text=保存订阅")
        await expect(
            page.locator("table.subs tr", has_text="防汛").locator("input[type=checkbox]:checked")
        ).to_have_count(2)
        await shots.take("subscriptions")

        # A new matching article arrives: once on the same config and database.
        site.add("/feed.xml", feed([NEW_STORY, *ARTICLES]), "application/rss+xml")
        cycle = await once(config)
        assert [m["title"] for m in catcher.received] == ["[听风] 防汛"], cycle
        assert NEW_STORY[1] in catcher.received[0]["message"]
        await page.goto(url)
        story = page.locator("li.story", has_text=NEW_STORY[1])
        await expect(story).to_be_visible()
        await expect(story.locator("mark", has_text="暴雨").first).to_be_visible()
        await shots.take("today")
        await story.get_by_role("link", name="详情").click()
        await expect(page.locator("main")).to_contain_text(NEW_STORY[2][:10])
        await shots.take("story")

        # The next one cannot be sent (the catcher fails once): dead; retried from 投递.
        catcher.fail_next = 1
        site.add("/feed.xml", feed([LATE_STORY, NEW_STORY, *ARTICLES]), "application/rss+xml")
        await once(config)
        assert len(catcher.received) == 1
        await page.goto(url + "outbox?status=dead")
        dead = page.locator("table.outbox tr", has_text=LATE_STORY[1])
        await expect(dead).to_contain_text("已放弃")
        await shots.take("outbox")
        await dead.locator("button", has_text="重试").click()
        await expect(page.locator("table.outbox tr", has_text=LATE_STORY[1])).to_have_count(0)
        await once(config)
        assert [m["message"].split("\n")[0] for m in catcher.received][-1] == LATE_STORY[1]

        await page.goto(url + "sources")
        await expect(page.locator("main")).to_contain_text("鱼台融媒")
        await shots.take("sources")

        # Log out: the session is over, pages lead to the login form again.
        await page.click("header button:has-text('退出')")
        await expect(page).to_have_url(f"{url}login")
        await page.goto(url + "subscriptions")
        await expect(page).to_have_url(f"{url}login?next=/subscriptions")
        await browser.close()

    pages = ("login", "topic", "topics", "subscriptions", "today", "story", "outbox", "sources")
    assert shots.taken == [f"console-{p}-{w}.png" for p in pages for w in WIDTHS]
