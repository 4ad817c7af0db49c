"""The scale path: the same pipeline on PostgreSQL (skipped when no server is running)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import Catcher, Site, run_cli
from tests.test_pipeline_e2e import build_site, config_text

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    try:
        admin = await asyncpg.connect(ADMIN_DSN, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432: {exc}")
    name = f"tingfeng_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_pipeline_on_postgres_alerts_once_and_exports(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path, pg_url: str
) -> None:
    build_site(site)
    text = config_text(tmp_path, site, catcher.url)
    text = text.replace(f'url = "sqlite:///{tmp_path / "t.db"}"', f'url = "{pg_url}"')
    config = write_config(text)

    first = await run_cli("once", "--config", str(config))
    second = await run_cli("once", "--config", str(config))

    assert first.code == 0 and second.code == 0, first.err + second.err
    assert len(catcher.received) == 2
    exported = [
        json.loads(line)
        for line in (await run_cli("export", "--config", str(config))).out.splitlines()
    ]
    assert len(exported) == 4
    assert {r["published"][-6:] for r in exported} == {"+08:00"}
