"""Logging in and out of the console, and what an anonymous visitor is refused."""

from __future__ import annotations

from pathlib import Path

from tests.web_support import add_user, console_server, csrf_of, log_in


async def test_anonymous_is_sent_to_login_and_api_gets_401(tmp_path: Path) -> None:
    async with console_server(tmp_path) as client:
        page = await client.get("/", allow_redirects=False)
        assert page.status == 302
        assert page.headers["Location"].startswith("/login?next=")
        api = await client.get("/api/matches")
        assert api.status == 401


async def test_login_logout_round_trip(tmp_path: Path) -> None:
    async with console_server(tmp_path) as client:
        await add_user(client, "张三", "correct horse")
        csrf = await log_in(client, "张三", "correct horse")
        home = await client.get("/")
        assert "张三" in await home.text()
        out = await client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
        assert out.status == 302
        again = await client.get("/", allow_redirects=False)
        assert again.status == 302


async def test_wrong_password_is_refused_then_throttled(tmp_path: Path) -> None:
    async with console_server(tmp_path) as client:
        await add_user(client, "lisi", "right")
        statuses = []
        for _ in range(7):
            form = await client.get("/login")
            token = csrf_of(await form.text())
            answer = await client.post(
                "/login", data={"name": "lisi", "password": "wrong", "csrf": token}
            )
            statuses.append(answer.status)
        assert statuses[0] == 401
        assert statuses[-1] == 429
        form = await client.get("/login")
        token = csrf_of(await form.text())
        blocked = await client.post(
            "/login", data={"name": "lisi", "password": "right", "csrf": token}
        )
        assert blocked.status == 429
