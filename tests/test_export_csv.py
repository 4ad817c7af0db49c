"""``export --format csv``: a byte-order mark where Excel opens the file, none in a pipe."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

from daemon.config import Config
from tests.notify_support import draft, make_config, open_db, seed

CHANNELS = '[[channels]]\nname = "ops"\nurl = "json://127.0.0.1:9/"\n'


async def stored(tmp_path: Path) -> Config:
    config = make_config(tmp_path, CHANNELS)
    db = await open_db(config)
    try:
        await seed(db, config, [("县报", draft(1, title="我县开展燃气安全大检查"))])
    finally:
        await db.close()
    return config


def export(config: Config, stdout: int | io.BufferedWriter) -> subprocess.CompletedProcess[bytes]:
    """A real process, so stdout is what a shell gives it: a file (``>``) or a pipe (``|``)."""
    argv = [sys.executable, "-m", "daemon", "export", "--format", "csv"]
    return subprocess.run(
        [*argv, "--config", str(config.path)], stdout=stdout, stderr=subprocess.PIPE, timeout=120
    )


async def test_csv_has_a_bom_in_a_file_and_none_in_a_pipe(tmp_path: Path) -> None:
    config = await stored(tmp_path)

    redirected = tmp_path / "shell.csv"
    with redirected.open("wb") as out:  # tingfeng export --format csv > shell.csv
        assert export(config, out).returncode == 0
    assert redirected.read_bytes().startswith("\ufeffid,source,url,title".encode())

    piped = export(config, subprocess.PIPE)  # tingfeng export --format csv | python …
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.startswith(b"id,source,url,title")
    (row,) = csv.DictReader(io.StringIO(piped.stdout.decode("utf-8")))
    assert row["title"] == "我县开展燃气安全大检查" and row["id"]  # the first key is `id`
