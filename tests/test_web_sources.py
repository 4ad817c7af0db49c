"""来源 (admin): health of every source, pause/resume that the daemon and ``once``
honour, and probing a URL from the console."""

from __future__ import annotations

from pathlib import Path

from daemon.config import load_config
from daemon.runtime import open_pipeline
from tests.cli_runner import run_cli
from tests.conftest import Site
from tests.web_support import add_user, console_server, log_in

RSS = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>嘉祥发布</title>
<item><title>嘉祥县召开防汛工作会议</title><link>{BASE}/a/1.html</link>
<description>本报嘉祥讯 县里部署今年防汛工作。</description>
<pubDate>Mon, 20 May 2024 08:00:00 +0800</pubDate></item></channel></rss>"""


def sources_config(site: Site) -> str:
    return (
        '[fetch]\nper_host_delay = "0s"\n\n'
        f'[[sources]]\nname = "嘉祥发布"\nkind = "feed"\nurl = "{site.base}/rss.xml"\n\n'
        f'[[sources]]\nname = "旧站"\nkind = "feed"\nurl = "{site.base}/old.xml"\n'
        "enabled = false\n"
    )


def cli_config(tmp_path: Path, config_text: str) -> str:
    """The console's database and sources as a config file the CLI can read."""
    path = tmp_path / "cli.toml"
    path.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path}/console.db"\n' + config_text, encoding="utf-8"
    )
    return str(path)


async def test_admin_sees_health_and_staff_is_refused(tmp_path: Path, site: Site) -> None:
    site.add("/rss.xml", RSS, "application/rss+xml")
    text = sources_config(site)
    async with console_server(tmp_path, text) as client:
        config = cli_config(tmp_path, text)
        assert (await run_cli("once", "--config", config)).code == 0
        site.pages.pop("/rss.xml")
        failed = await run_cli("once", "--config", config)
        assert "嘉祥发布: FAILED" in failed.out
        await add_user(client, "admin", "pw-admin", admin=True)
        await add_user(client, "staff", "pw-staff")

        staff_csrf = await log_in(client, "staff", "pw-staff")
        assert (await client.get("/sources")).status == 403
        refused = await client.post("/sources/pause", data={"csrf": staff_csrf, "name": "嘉祥发布"})
        assert refused.status == 403
        assert "来源" not in (await (await client.get("/")).text()).split("<main>")[0]

        client.session.cookie_jar.clear()
        await log_in(client, "admin", "pw-admin")
        page = await (await client.get("/sources")).text()
        assert "嘉祥发布" in page and "出错" in page  # failing once, after a success
        assert "HTTP 404" in page  # the last error, one line
        assert "旧站" in page and "已停用" in page
        assert '<td data-label="连续失败">1</td>' in page


async def test_pause_makes_once_skip_and_sources_say_paused(tmp_path: Path, site: Site) -> None:
    site.add("/rss.xml", RSS, "application/rss+xml")
    text = sources_config(site)
    async with console_server(tmp_path, text) as client:
        config = cli_config(tmp_path, text)
        assert (await run_cli("once", "--config", config)).code == 0
        await add_user(client, "admin", "pw-admin", admin=True)
        csrf = await log_in(client, "admin", "pw-admin")

        paused = await client.post("/sources/pause", data={"csrf": csrf, "name": "嘉祥发布"})
        page = await paused.text()
        assert paused.status == 200 and "已暂停来源“嘉祥发布”" in page and "恢复" in page

        hits = len(site.hits)
        once = await run_cli("once", "--config", config)
        assert once.code == 0
        assert "嘉祥发布: paused, skipped" in once.out
        assert len(site.hits) == hits  # nothing was fetched
        listing = await run_cli("sources", "--config", config)
        line = next(x for x in listing.out.splitlines() if x.startswith("嘉祥发布"))
        assert " paused " in line
        # the daemon's scheduled run of it is skipped too
        daemon_config = load_config(config)
        async with open_pipeline(daemon_config) as pipeline:
            report = await pipeline.run_claimed(daemon_config.sources[0], None)
        assert report.paused and len(site.hits) == hits

        resumed = await client.post("/sources/resume", data={"csrf": csrf, "name": "嘉祥发布"})
        assert "已恢复来源“嘉祥发布”" in await resumed.text()
        once = await run_cli("once", "--config", config)
        assert "嘉祥发布: 0 new" in once.out and len(site.hits) > hits

        unknown = await client.post("/sources/pause", data={"csrf": csrf, "name": "nope"})
        assert unknown.status == 404 and "没有名为“nope”的来源" in await unknown.text()
        no_csrf = await client.post("/sources/pause", data={"name": "嘉祥发布"})
        assert no_csrf.status == 403


async def test_probe_shows_family_entry_and_first_articles(tmp_path: Path, site: Site) -> None:
    site.add("/rss.xml", RSS, "application/rss+xml")
    async with console_server(tmp_path, '[fetch]\nper_host_delay = "0s"\n') as client:
        await add_user(client, "admin", "pw-admin", admin=True)
        csrf = await log_in(client, "admin", "pw-admin")

        found = await client.post(
            "/sources/probe", data={"csrf": csrf, "url": f"{site.base}/rss.xml"}
        )
        page = await found.text()
        assert found.status == 200
        assert "RSS/Atom feed" in page and "kind = &#34;feed&#34;" in page
        assert f"{site.base}/rss.xml" in page
        assert "嘉祥县召开防汛工作会议" in page and "地点：嘉祥" in page

        bad = await client.post("/sources/probe", data={"csrf": csrf, "url": "ftp://x"})
        assert bad.status == 400 and "http:// 或 https://" in await bad.text()

        down = await client.post(
            "/sources/probe", data={"csrf": csrf, "url": f"{site.base}/missing.xml"}
        )
        text = await down.text()
        assert "探测失败：" in text and "404" in text and "Traceback" not in text
