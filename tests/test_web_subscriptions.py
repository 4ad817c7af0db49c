"""我的订阅: staff add their own chat bot or email digest, subscribe, test-send, and the
next ``once`` alerts them; bad input is refused with a message and nothing saved; a
channel URL is never shown back; nobody reaches another user's channels."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp.test_utils import TestClient

from storage import console_defs
from tests.cli_runner import run_cli
from tests.conftest import Catcher, Site
from tests.notify_support import Receiver
from tests.test_pipeline_e2e import build_site
from tests.web_support import add_user, console_server, database_of, log_in

EMAIL_SERVER = (
    '[web]\nemail_url = "mailtos://bot:pw-Mail-77@smtp.example.org?from=tf@example.org"\n'
)


def site_config(site: Site) -> str:
    return (
        '[daemon]\nfirst_run_window = "0s"\n\n[fetch]\nper_host_delay = "0s"\n\n'
        f'[[sources]]\nname = "feed-src"\nkind = "feed"\nurl = "{site.base}/feed.xml"\n\n'
        '[[topics]]\nname = "燃气"\nquery = "液化石油气"\n'
    )


def cli_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "cli.toml"
    path.write_text(f'[storage]\nurl = "sqlite:///{tmp_path}/console.db"\n' + text, "utf-8")
    return str(path)


def checkbox(page: str, label: str) -> str:
    """The ``sub`` value of the first checkbox in the row of topic ``label``."""
    row = page[page.index(f"<strong>{label}</strong>") :]
    found = re.search(r'name="sub" value="(\d+):console"', row)
    assert found
    return found.group(1)


async def add_chat(client: TestClient, csrf: str, url: str, label: str = "我的机器人") -> str:
    answer = await client.post(
        "/subscriptions/channels", data={"csrf": csrf, "kind": "chat", "label": label, "url": url}
    )
    return await answer.text()


async def test_subscriber_gets_once_alerts_on_own_channel_and_a_test_message(
    tmp_path: Path, site: Site, catcher: Catcher
) -> None:
    build_site(site)
    text = site_config(site)
    secret_url = catcher.url + "?token=Hush-Secret-Token-42"
    async with console_server(tmp_path, text) as client:
        await add_user(client, "王芳", "pw-wang")
        csrf = await log_in(client, "王芳", "pw-wang")
        page = await add_chat(client, csrf, secret_url)
        assert "已添加接收方式“我的机器人”" in page
        assert "Hush-Secret" not in page and "json://127.0.0.1…" in page

        channel = (await console_defs.user_channels(database_of(client), 1))[0]
        topic = checkbox(page, "燃气")
        saved = await client.post(
            "/subscriptions", data={"csrf": csrf, "sub": f"{topic}:{channel.id}"}
        )
        assert "订阅已保存" in await saved.text()

        tested = await client.post(
            f"/subscriptions/channels/{channel.id}/test", data={"csrf": csrf}
        )
        assert "测试消息已发送到“我的机器人”" in await tested.text()
        assert [m["title"] for m in catcher.received] == ["[听风] 测试消息"]

        result = await run_cli("once", "--config", cli_config(tmp_path, text))
        assert result.code == 0, result.err
        titles = [m["message"].split("\n")[0] for m in catcher.received[1:]]
        assert titles == ["我县开展燃气安全大检查"]

        edit = await (await client.get(f"/subscriptions/channels/{channel.id}")).text()
        assert "Hush-Secret" not in edit and "json://127.0.0.1…" in edit


async def test_failed_test_send_shows_a_redacted_reason(tmp_path: Path) -> None:
    async def refuse(call: int, body: dict[str, object]) -> object:
        from aiohttp import web

        return web.Response(status=500, text="boom")

    bot = await Receiver(reply=refuse).start()  # type: ignore[arg-type]
    async with console_server(tmp_path) as client:
        await add_user(client, "li", "pw-li")
        csrf = await log_in(client, "li", "pw-li")
        await add_chat(client, csrf, f"json://127.0.0.1:{bot.port}/hook/Hush-Secret-Token-42")
        channel = (await console_defs.user_channels(database_of(client), 1))[0]
        page = await (
            await client.post(f"/subscriptions/channels/{channel.id}/test", data={"csrf": csrf})
        ).text()
    await bot.stop()
    assert "测试消息发送失败" in page and "error=500" in page
    assert "Hush-Secret" not in page


async def test_bad_input_is_refused_with_a_message_and_nothing_saved(tmp_path: Path) -> None:
    async with console_server(tmp_path, EMAIL_SERVER) as client:
        await add_user(client, "li", "pw-li")
        csrf = await log_in(client, "li", "pw-li")

        bad_url = await add_chat(client, csrf, "wecombot:/nokey")
        assert "地址无法使用" in bad_url
        bad_scheme = await add_chat(client, csrf, "nosuchservice://abc/def")
        assert "地址无法使用" in bad_scheme

        async def email(address: str, at: str) -> str:
            answer = await client.post(
                "/subscriptions/channels",
                data={"csrf": csrf, "kind": "email", "address": address, "at": at},
            )
            assert answer.status == 400
            return await answer.text()

        assert "邮箱地址“not-an-address”无效" in await email("not-an-address", "08:00")
        late = await email("li@example.org", "25:00")
        assert "摘要时间“25:00”无效：请用 HH:MM，00:00 到 23:59" in late
        assert 'value="li@example.org"' in late  # what was typed is kept for a retry
        assert await console_defs.user_channels(database_of(client), 1) == []

        ok = await client.post(
            "/subscriptions/channels",
            data={
                "csrf": csrf,
                "kind": "email",
                "address": "li@example.org",
                "at": "07:30",
                "every": "weekly",
                "weekday": "fri",
            },
        )
        page = await ok.text()
        assert "li@example.org" in page and "每周五 07:30 摘要" in page
        assert "pw-Mail-77" not in page


async def test_email_needs_a_mail_server(tmp_path: Path) -> None:
    async with console_server(tmp_path) as client:
        await add_user(client, "li", "pw-li")
        csrf = await log_in(client, "li", "pw-li")
        assert "尚未配置邮件服务器" in await (await client.get("/subscriptions")).text()
        answer = await client.post(
            "/subscriptions/channels",
            data={"csrf": csrf, "kind": "email", "address": "li@example.org", "at": "08:00"},
        )
        assert answer.status == 400


async def test_nobody_reaches_another_users_channels(tmp_path: Path) -> None:
    async with console_server(tmp_path, '[[topics]]\nname = "燃气"\nquery = "液化气"\n') as client:
        await add_user(client, "owner", "pw-owner")
        await add_user(client, "other", "pw-other")
        csrf = await log_in(client, "owner", "pw-owner")
        page = await add_chat(client, csrf, "json://127.0.0.1:9/hook")
        topic = checkbox(page, "燃气")
        channel = (await console_defs.user_channels(database_of(client), 1))[0]

        client.session.cookie_jar.clear()
        csrf = await log_in(client, "other", "pw-other")
        mine = await (await client.get("/subscriptions")).text()
        assert "我的机器人" not in mine
        base = f"/subscriptions/channels/{channel.id}"
        assert (await client.get(base)).status == 404
        for path in (base, f"{base}/test", f"{base}/delete"):
            answer = await client.post(path, data={"csrf": csrf, "label": "x", "url": ""})
            assert answer.status == 404, path
        stolen = await client.post(
            "/subscriptions", data={"csrf": csrf, "sub": f"{topic}:{channel.id}"}
        )
        assert stolen.status == 400 and "订阅未保存" in await stolen.text()
        assert await console_defs.user_subscriptions(database_of(client), 2) == []
        assert await console_defs.get_channel(database_of(client), 1, channel.id or 0)


async def test_feed_link_is_made_and_rotated(tmp_path: Path) -> None:
    async with console_server(tmp_path, '[[topics]]\nname = "燃气"\nquery = "液化气"\n') as client:
        await add_user(client, "li", "pw-li")
        csrf = await log_in(client, "li", "pw-li")
        page = await (await client.get("/subscriptions")).text()
        assert "生成订阅源链接" in page and "feeds/user.xml" not in page

        def link(html: str) -> str:
            found = re.search(r'class="feed-url" readonly value="([^"]+)"', html)
            assert found
            return found.group(1).replace("&amp;", "&")

        first = link(await (await client.post("/subscriptions/feed", data={"csrf": csrf})).text())
        assert "/feeds/user.xml?token=" in first
        path = first[first.index("/feeds/") :]
        assert (await client.get(path)).status == 200

        rotated = await (await client.post("/subscriptions/feed", data={"csrf": csrf})).text()
        assert "旧链接已失效" in rotated
        second = link(rotated)
        assert second != first
        assert (await client.get(path)).status == 404
        assert (await client.get(second[second.index("/feeds/") :])).status == 200
