"""A channel's token never reaches logs, errors, CLI output or exports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.cli_runner import run_cli
from tests.conftest import Catcher, Site
from tests.test_pipeline_e2e import build_site, config_text

TOKEN = "T0pSecretT0ken99"


async def test_token_is_never_printed_even_when_delivery_fails(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    build_site(site)
    url = catcher.url.replace("json://", f"json://bot:{TOKEN}@")
    config = write_config(config_text(tmp_path, site, url))
    catcher.fail_next = 100

    outputs = [
        await run_cli("once", "--config", str(config), "--json-logs"),
        await run_cli("outbox", "--config", str(config)),
        await run_cli("outbox", "--config", str(config), "--status", "failed"),
        await run_cli("sources", "--config", str(config)),
        await run_cli("export", "--config", str(config)),
        await run_cli("check-config", "--config", str(config)),
        await run_cli("digest", "--config", str(config), "--dry-run"),
    ]

    assert "2 failed" in outputs[0].out
    assert "HTTP 500" in outputs[1].out or "500" in outputs[1].out
    for result in outputs:
        assert TOKEN not in result.out and TOKEN not in result.err
    bad = write_config(config_text(tmp_path, site, f"nosuch://{TOKEN}@host"))
    refused = await run_cli("check-config", "--config", str(bad))
    assert refused.code == 2 and "catch" in refused.err and TOKEN not in refused.err
