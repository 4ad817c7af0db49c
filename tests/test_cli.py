"""Command-line behaviour shared by every sub-command, and the two ways a user starts it.

Most CLI tests run the entry point in-process (``tests.cli_runner``); the ones here that
need a real process say why.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.cli_runner import cli

PAGE = Path(__file__).parent / "fixtures" / "pages" / "page-c-after-wrapped.txt"


def test_a_reader_that_goes_away_is_not_an_error(tmp_path: Path) -> None:
    """A real process: only a closed pipe raises BrokenPipeError on the real stdout."""
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
    result = cli("nosuch")
    assert result.code == 2
    assert "invalid choice" in result.err and "check-config" in result.err


def test_python_dash_m_daemon_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "daemon", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("tingfeng 0.")


def test_the_tingfeng_console_script_runs_the_cli() -> None:
    script = shutil.which("tingfeng", path=str(Path(sys.executable).parent))
    assert script is not None, "pip install -e . installs the tingfeng script"
    result = subprocess.run([script, "nosuch"], capture_output=True, text=True)
    assert result.returncode == 2 and "invalid choice" in result.stderr
