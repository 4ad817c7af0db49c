"""Serving the console: from ``tingfeng run`` beside the scheduler, or alone with
``tingfeng web``; where it is in one log line, a taken port in one error line."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from structlog.testing import capture_logs

from daemon.config import parse_config
from daemon.web.app import Console
from daemon.web.serving import start_console
from storage.db import Database
from tests.cli_runner import cli
from tests.conftest import ROOT, Catcher, Site
from tests.test_pipeline_e2e import build_site, config_text
from tests.web_support import csrf_of


def test_taken_port_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{tmp_path}/t.db"\n', encoding="utf-8")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("web", "--config", str(config), "--listen", f"127.0.0.1:{port}")
    assert result.code == 2
    assert result.err.splitlines()[-1] == (
        f"tingfeng: --listen 127.0.0.1:{port}: the address is already in use "
        "(another tingfeng or program serves it)"
    )
    assert "Traceback" not in result.err


def test_bad_listen_address_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[web]\nlisten = "localhost"\n', encoding="utf-8")
    result = cli("web", "--config", str(config))
    assert result.code == 2
    assert result.err == (
        f'tingfeng: {config}:2 web.listen: "localhost" is not host:port (try "127.0.0.1:8750")\n'
    )


async def test_console_reachable_from_other_machines_warns_once(tmp_path: Path) -> None:
    config = parse_config(
        f'[storage]\nurl = "sqlite:///{tmp_path}/t.db"\n[web]\nlisten = "0.0.0.0:0"\n',
        tmp_path / "config.toml",
    )
    db = Database(config.storage_url())
    await db.migrate()
    with capture_logs() as logs:
        runner, _ = await start_console(Console(config, db), "0.0.0.0:0", origin="[web] listen")
        await runner.cleanup()
    await db.close()
    warnings = [e["event"] for e in logs if e["log_level"] == "warning"]
    assert len(warnings) == 1 and "behind an HTTPS proxy" in warnings[0]
    assert any(e["event"].startswith("console at http://") for e in logs)


async def _console_url(stderr: asyncio.StreamReader) -> str:
    while line := await asyncio.wait_for(stderr.readline(), 60):
        event = json.loads(line).get("event", "") if line.startswith(b"{") else ""
        if event.startswith("console at "):
            return str(event.removeprefix("console at "))
    raise AssertionError("the daemon never said where the console is")


@pytest.mark.slow
async def test_run_serves_console_beside_the_scheduler_and_stops_on_sigterm(
    site: Site, catcher: Catcher, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    build_site(site)
    text = config_text(tmp_path, site, catcher.url) + '\n[web]\nlisten = "127.0.0.1:0"\n'
    config = write_config(text)
    assert cli("users", "add", "ops", "--config", str(config), stdin="ops-pass\n").code == 0
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "daemon", "run", "--config", str(config), "--json-logs"),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        url = await _console_url(proc.stderr)
        assert url.startswith("http://127.0.0.1:")
        # Served from 127.0.0.1 the session cookie is Secure; browsers (and this jar,
        # told so) send it back over http there.
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=url)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            form = await (await http.get(url + "login")).text()
            answer = await http.post(
                url + "login",
                data={"name": "ops", "password": "ops-pass", "csrf": csrf_of(form), "next": "/"},
            )
            assert answer.status == 200 and "今日动态" in await answer.text()
        # The scheduler runs in the same process meanwhile.
        for _ in range(300):
            if len(catcher.received) >= 2:
                break
            await asyncio.sleep(0.1)
        assert len(catcher.received) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert '"event": "daemon stopped"' in err.decode()
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as http:
            await http.get(url + "login")


async def test_a_console_change_reloads_the_daemon_in_its_process(tmp_path: Path) -> None:
    """``tingfeng run``'s console: a page's ``changed`` recompiles the daemon's topics
    and the pages see the config the daemon now runs on."""
    from daemon.commands.run import console_of
    from daemon.runtime import open_pipeline
    from daemon.service import Daemon
    from storage import console_defs

    config_file = tmp_path / "config.toml"
    config_file.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path}/t.db"\n'
        '[[topics]]\nname = "燃气"\nquery = "燃气"\n',
        encoding="utf-8",
    )
    config = parse_config(config_file.read_text(encoding="utf-8"), config_file)
    async with open_pipeline(config) as pipeline:
        daemon = Daemon(pipeline.config, pipeline)
        console = console_of(daemon)
        await console_defs.create_topic(
            pipeline.db, "防汛", {"query": "防汛 OR 暴雨"}, None, reserved={"燃气"}
        )
        assert [t.name for t in daemon.config.topics] == ["燃气"]

        await console.changed()

        assert {t.name for t in daemon.config.topics} == {"燃气", "防汛"}
        assert console.config is daemon.config
        assert {t.name for t in daemon.pipeline.config.topics} == {"燃气", "防汛"}
