"""What the console refuses, checked on every route the app has.

The route lists come from the app's router, so a page added later is covered without
touching this file: anonymous requests are sent to the login page (pages), answered 401
(API) or 404 (feeds without a valid token); posts without the session's CSRF token are
refused; staff cannot reach admin routes. Logins are throttled per user and per address,
cookies carry their flags, sessions end when the account changes, and the login's
``next`` never leads off the site.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient

from storage import accounts
from tests.cli_runner import run_cli
from tests.web_support import add_user, console_server, csrf_of, database_of, log_in

PUBLIC = {"/login"}
# Routes only administrators may use (pages, their forms and their API).
ADMIN_PREFIXES = ("/sources", "/outbox", "/api/sources", "/api/outbox")
PLACEHOLDER = re.compile(r"\{[^}]+\}")


def routes_of(client: TestClient) -> Iterator[tuple[str, str]]:
    """(method, a concrete path) for every route but static files; placeholders are 1."""
    for route in client.app.router.routes():
        resource = route.resource
        if resource is None or isinstance(resource, web.StaticResource):
            continue
        path = PLACEHOLDER.sub("1", resource.canonical)
        if route.method in ("HEAD", "*"):
            continue
        yield route.method, path


async def test_every_route_refuses_an_anonymous_request(tmp_path: Path) -> None:
    async with console_server(tmp_path) as client:
        seen = list(routes_of(client))
        # The check must cover the console, not an empty router.
        assert {("GET", "/"), ("POST", "/logout")} <= set(seen)
        assert len(seen) >= 8
        for method, path in seen:
            if path in PUBLIC:
                continue
            if path.startswith("/feeds/"):
                for token in ("", "not-a-token"):
                    answer = await client.request(method, path, params={"token": token})
                    assert answer.status == 404, (method, path, token)
                continue
            answer = await client.request(method, path, allow_redirects=False)
            if path.startswith("/api/"):
                assert answer.status == 401, (method, path)
                assert answer.content_type == "application/json"
            else:
                assert answer.status == 302, (method, path, answer.status)
                assert answer.headers["Location"].startswith("/login?next="), (method, path)


async def logged_in(client: TestClient, name: str, *, admin: bool = False) -> str:
    await add_user(client, name, f"{name}-password", admin=admin)
    return await log_in(client, name, f"{name}-password")


async def test_changes_without_the_sessions_csrf_token_are_refused(tmp_path: Path) -> None:
    async with console_server(tmp_path) as client:
        csrf = await logged_in(client, "boss", admin=True)
        changes = [(m, path) for m, path in routes_of(client) if m not in ("GET", "OPTIONS")]
        assert ("POST", "/logout") in changes and ("POST", "/login") in changes
        for method, path in changes:
            for sent in ({}, {"csrf": "forged"}, {"csrf": csrf[:-1]}):
                answer = await client.request(method, path, data=sent, allow_redirects=False)
                assert answer.status == 403, (method, path, sent, answer.status)
            forged = await client.request(
                method, path, headers={"X-CSRF-Token": "forged"}, allow_redirects=False
            )
            assert forged.status == 403, (method, path)
        # Still logged in: the refused logouts did nothing.
        assert (await client.get("/", allow_redirects=False)).status == 200


async def test_staff_cannot_reach_admin_routes(tmp_path: Path) -> None:
    async with console_server(tmp_path) as client:
        csrf = await logged_in(client, "staffer")
        admin_routes = [
            (method, path) for method, path in routes_of(client) if path.startswith(ADMIN_PREFIXES)
        ]
        assert ("GET", "/sources") in admin_routes and ("GET", "/outbox") in admin_routes
        for method, path in admin_routes:
            answer = await client.request(
                method, path, headers={"X-CSRF-Token": csrf}, allow_redirects=False
            )
            assert answer.status == 403, (method, path, answer.status)
        home = await (await client.get("/")).text()
        assert 'href="/sources"' not in home and 'href="/outbox"' not in home


async def failed_login(client: TestClient, name: str, ip: str) -> int:
    form = await client.get("/login")
    answer = await client.post(
        "/login",
        data={"name": name, "password": "wrong", "csrf": csrf_of(await form.text())},
        headers={"X-Forwarded-For": ip},
    )
    return answer.status


async def login_status(client: TestClient, name: str, password: str, ip: str) -> int:
    form = await client.get("/login")
    answer = await client.post(
        "/login",
        data={"name": name, "password": password, "csrf": csrf_of(await form.text())},
        headers={"X-Forwarded-For": ip},
        allow_redirects=False,
    )
    return answer.status


async def test_ten_wrong_passwords_are_throttled_per_user(tmp_path: Path) -> None:
    async with console_server(tmp_path) as client:
        await add_user(client, "wang", "right-password")
        statuses = [await failed_login(client, "wang", f"198.51.100.{i}") for i in range(10)]
        assert statuses[0] == 401 and statuses[-1] == 429
        # The right password from yet another address is held off too, for this user only.
        assert await login_status(client, "wang", "right-password", "198.51.100.99") == 429
        await add_user(client, "zhao", "zhao-password")
        assert await login_status(client, "zhao", "zhao-password", "198.51.100.99") == 302


async def test_wrong_passwords_are_throttled_per_address(tmp_path: Path) -> None:
    async with console_server(tmp_path) as client:
        await add_user(client, "zhao", "zhao-password")
        statuses = [await failed_login(client, f"guess{i}", "203.0.113.7") for i in range(25)]
        assert statuses[0] == 401 and statuses[-1] == 429
        assert await login_status(client, "zhao", "zhao-password", "203.0.113.7") == 429
        assert await login_status(client, "zhao", "zhao-password", "203.0.113.8") == 302


def set_cookies(answer: object) -> dict[str, str]:
    headers = answer.headers.getall("Set-Cookie", [])  # type: ignore[attr-defined]
    return {header.split("=", 1)[0]: header for header in headers}


async def test_cookie_flags(tmp_path: Path) -> None:
    async with console_server(tmp_path) as client:
        from daemon.web.app import CONSOLE

        client.app[CONSOLE].secure_cookies = True
        await add_user(client, "li", "li-password")

        async def session_cookie(headers: dict[str, str]) -> str:
            client.session.cookie_jar.clear()
            form = await client.get("/login", headers=headers)
            answer = await client.post(
                "/login",
                data={"name": "li", "password": "li-password", "csrf": csrf_of(await form.text())},
                headers=headers,
                cookies={"tingfeng_login": form.cookies["tingfeng_login"].value},
                allow_redirects=False,
            )
            assert answer.status == 302, await answer.text()
            return set_cookies(answer)["tingfeng_session"]

        # On localhost (the test server's 127.0.0.1) browsers keep Secure cookies.
        local = await session_cookie({})
        for flag in ("HttpOnly", "SameSite=Lax", "Secure"):
            assert flag in local, local
        # Plain HTTP to another host name: a Secure cookie would be dropped, so it has none.
        lan = await session_cookie({"Host": "tingfeng.intranet:8750"})
        assert "HttpOnly" in lan and "SameSite=Lax" in lan and "Secure" not in lan
        # Behind an HTTPS proxy: Secure again.
        proxied = await session_cookie({"Host": "tingfeng.intranet", "X-Forwarded-Proto": "https"})
        assert "Secure" in proxied and "HttpOnly" in proxied


async def test_disabled_user_and_new_password_end_sessions(tmp_path: Path) -> None:
    async with console_server(tmp_path) as client:
        await logged_in(client, "chen")
        assert (await client.get("/", allow_redirects=False)).status == 200
        await accounts.set_disabled(database_of(client), "chen")
        assert (await client.get("/", allow_redirects=False)).status == 302
        assert await login_status(client, "chen", "chen-password", "192.0.2.1") == 401

        await accounts.set_disabled(database_of(client), "chen", False)
        await log_in(client, "chen", "chen-password")
        config = tmp_path / "cli.toml"
        config.write_text(f'[storage]\nurl = "sqlite:///{tmp_path}/console.db"\n', "utf-8")
        changed = await run_cli("users", "passwd", "chen", "--config", str(config), stdin="new\n")
        assert changed.code == 0, changed.err
        assert (await client.get("/", allow_redirects=False)).status == 302


async def test_login_next_never_leads_off_site(tmp_path: Path) -> None:
    async with console_server(tmp_path) as client:
        await add_user(client, "sun", "sun-password")
        for target in (
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "https://evil.example",
        ):
            form = await client.get("/login", params={"next": target})
            page = await form.text()
            assert "evil.example" not in page
            answer = await client.post(
                "/login",
                data={
                    "name": "sun",
                    "password": "sun-password",
                    "csrf": csrf_of(page),
                    "next": target,
                },
                allow_redirects=False,
            )
            assert answer.status == 302 and answer.headers["Location"] == "/", target
            client.session.cookie_jar.clear()  # logged out again for the next try
        form = await client.get("/login")
        answer = await client.post(
            "/login",
            data={
                "name": "sun",
                "password": "sun-password",
                "csrf": csrf_of(await form.text()),
                "next": "/subscriptions?x=1",
            },
            allow_redirects=False,
        )
        assert answer.headers["Location"] == "/subscriptions?x=1"
        # Logged in, the login page forwards to where ``next`` points (on this site).
        again = await client.get("/login", params={"next": "/outbox"}, allow_redirects=False)
        assert again.status == 302 and again.headers["Location"] == "/outbox"


async def test_user_name_is_shown_as_text(tmp_path: Path) -> None:
    async with console_server(tmp_path) as client:
        name = '<script>alert("x")</script>'
        await logged_in(client, name)
        page = await (await client.get("/")).text()
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
        # No inline script may run even if something slipped through.
        answer = await client.get("/")
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
