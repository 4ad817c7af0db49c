"""Command-line behaviour shared by every sub-command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PAGE = Path(__file__).parent / "fixtures" / "pages" / "page-c-after-wrapped.txt"


def test_a_reader_that_goes_away_is_not_an_error(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text(PAGE.read_text(encoding="utf-8") * 300, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "daemon", "segment", str(big), "--format", "text"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert first.strip() and "Traceback" not in err


def test_unknown_command_lists_the_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "daemon", "nosuch"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "invalid choice" in result.stderr and "check-config" in result.stderr


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "daemon", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("tingfeng 0.")
