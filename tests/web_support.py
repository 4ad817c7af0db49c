"""A running console for tests: a real aiohttp server on localhost, a real database,
users made through storage, and a client that logs in through the login form."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from daemon.config import Config, parse_config
from daemon.web.app import Console, create_app
from daemon.web.passwords import hash_password
from storage import accounts
from storage.db import Database

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "page has no CSRF field"
    return found.group(1)


@asynccontextmanager
async def console_server(tmp_path: Path, config_text: str = "") -> AsyncIterator[TestClient]:
    """An anonymous client of a console on a fresh SQLite database under ``tmp_path``."""
    config_file = tmp_path / "config.toml"
    config_file.write_text(config_text, encoding="utf-8")
    config: Config = parse_config(
        f'[storage]\nurl = "sqlite:///{tmp_path}/console.db"\n' + config_text, config_file
    )
    db = Database(config.storage_url())
    await db.migrate()
    console = Console(config=config, db=db, secure_cookies=False)
    client = TestClient(TestServer(create_app(console)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
        await db.close()


def database_of(client: TestClient) -> Database:
    from daemon.web.app import CONSOLE

    return client.app[CONSOLE].db


async def add_user(client: TestClient, name: str, password: str, *, admin: bool = False) -> None:
    await accounts.add_user(database_of(client), name, hash_password(password), admin=admin)


async def log_in(client: TestClient, name: str, password: str) -> str:
    """Log in through the form; returns the session's CSRF token for later posts."""
    form = await client.get("/login")
    token = csrf_of(await form.text())
    answer = await client.post(
        "/login", data={"name": name, "password": password, "csrf": token, "next": "/"}
    )
    assert answer.status == 200, await answer.text()
    return csrf_of(await answer.text())
