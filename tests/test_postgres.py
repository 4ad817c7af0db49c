"""The scale path: the same pipeline on PostgreSQL (skipped when no server is running)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.cli_runner import run_cli
from tests.conftest import Catcher, Site
from tests.test_pipeline_e2e import build_site, config_text


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
