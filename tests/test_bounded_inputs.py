"""Inputs with no natural bound are bounded: deep queries, long NEAR chains.

Each test is a row of issue 12's table: what used to crash or flood, now one clear line.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from rules import QuerySyntaxError, parse_query
from tests.cli_runner import run_cli
from tests.conftest import Catcher, Site
from tests.test_daemon_run import start_daemon
from tests.test_pipeline_e2e import build_site, config_text

DEEP = "(" * 200 + "液化气" + ")" * 200
NEAR_CHAIN = " NEAR/5 ".join(["燃气"] * 500)


@pytest.mark.parametrize(
    ("query", "column"),
    [
        (DEEP, 51),
        (NEAR_CHAIN, len(" NEAR/5 ".join(["燃气"] * 51)) + 2),
        ("-(" * 30 + "A" + ")" * 30, 51),
    ],
)
def test_deep_queries_are_refused_with_one_clear_error(query: str, column: int) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert info.value.message == "query nested deeper than 50"
    assert info.value.column == column


def test_queries_up_to_the_limit_still_parse() -> None:
    assert parse_query("(" * 50 + "液化气" + ")" * 50).terms[0].text == "液化气"
    assert len(parse_query(" NEAR/5 ".join(["燃气"] * 51)).terms) == 51


async def test_check_config_reports_a_deep_query_in_one_line(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    config = write_config(f'[[topics]]\nname = "深"\nquery = "{NEAR_CHAIN}"\n')

    result = await run_cli("check-config", "--config", str(config))

    assert result.code == 2
    assert "topics[0].query: query nested deeper than 50" in result.err
    assert "Traceback" not in result.err and "RecursionError" not in result.err


@pytest.mark.slow
async def test_sighup_with_a_deep_query_logs_one_failed_reload(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    build_site(site)
    text = config_text(tmp_path, site, catcher.url)
    config = write_config(text)
    proc = await start_daemon(config)
    try:
        for _ in range(300):
            if len(catcher.received) >= 2:
                break
            await asyncio.sleep(0.1)
        config.write_text(text.replace('query = "液化石油气"', f'query = "{DEEP}"'), "utf-8")
        proc.send_signal(signal.SIGHUP)
        await asyncio.sleep(2)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 30)

    log = err.decode()
    # one SIGHUP, and the 10-second config check may see the same edit: at most two lines
    assert 1 <= log.count('"event": "config reload failed; keeping the running config"') <= 2
    assert "query nested deeper than 50" in log
    assert "Traceback" not in log and "RecursionError" not in log
    assert proc.returncode == 0
