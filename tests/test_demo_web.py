"""``tingfeng demo --web``: the console opens on the demo's data with a printed password."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp

from tests.conftest import ROOT
from tests.web_support import csrf_of


async def test_demo_web_serves_the_console_until_ctrl_c(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "daemon", "demo", "--keep", str(tmp_path), "--web", "--listen", "127.0.0.1:0"),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        found = None
        while found is None and (line := await asyncio.wait_for(proc.stdout.readline(), 120)):
            found = re.match(rb"console: (\S+)  user: admin  password: (\S+)", line)
        assert found, "the demo never printed the console's address"
        url, password = found.group(1).decode(), found.group(2).decode()
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=url)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            form = await (await http.get(url + "login")).text()
            answer = await http.post(
                url + "login",
                data={"name": "admin", "password": password, "csrf": csrf_of(form), "next": "/"},
            )
            page = await answer.text()
            assert answer.status == 200 and "今日动态" in page
            # The admin sees the admin pages' links.
            assert 'href="/sources"' in page
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
