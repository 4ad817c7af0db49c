"""What a person at the command line reads: help with examples, warnings about settings
that do nothing, log times in the configured zone."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import structlog
from rich.cells import cell_len
from rich.console import Console

from daemon.commands import COMMANDS
from daemon.commands._table import print_table
from daemon.logs import configure_logging
from daemon.redaction import register
from tests.cli_runner import cli

SOURCE = """
[[sources]]
name = "县政府"
kind = "feed"
url = "http://127.0.0.1:9/feed.xml"
"""


def test_top_level_help_imports_no_command_module() -> None:
    """A real process: in this one every command module is already loaded."""
    probe = (
        "import sys\n"
        "from daemon.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('daemon.commands.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "check-config" in result.stdout and "export stored articles" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_help_has_a_description_and_an_example(command: str) -> None:
    result = cli(command, "--help")
    assert result.code == 0
    usage, description = result.out.split("\n\n")[:2]
    assert usage.startswith(f"usage: tingfeng {command}")
    assert description.strip() and not description.startswith(("options:", "positional"))
    assert f"example:\n  tingfeng {command}" in result.out


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_empty_config_passes_with_a_warning(tmp_path: Path) -> None:
    config = write(tmp_path, "")
    result = cli("check-config", "--config", str(config))
    assert result.code == 0
    assert "OK, 0 sources" in result.out
    assert f"warning: {config}: no [[sources]] and no [[topics]]" in result.err


def test_topic_without_channels_and_unused_channel_are_named_by_line(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        SOURCE
        + '\n[[topics]]\nname = "燃气"\nquery = "燃气"\n'
        + '\n[[channels]]\nname = "ops-chat"\nurl = "json://127.0.0.1:9/hook"\n',
    )
    result = cli("check-config", "--config", str(config))
    assert result.code == 0
    warnings = result.err.splitlines()
    assert f'warning: {config}:8 topics[0] "燃气": no channels, ' in warnings[0]
    assert "nobody is alerted" in warnings[0]
    assert warnings[1] == (
        f'warning: {config}:12 channels[0] "ops-chat": no topic sends to this channel'
    )
    assert "warning" not in result.out


def test_admin_channel_counts_as_used(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        '[daemon]\nadmin_channel = "admin"\n'
        + SOURCE
        + '\n[[topics]]\nname = "燃气"\nquery = "燃气"\nchannels = ["ops"]\n'
        + '\n[[channels]]\nname = "ops"\nurl = "json://127.0.0.1:9/hook"\n'
        + '\n[[channels]]\nname = "admin"\nurl = "json://127.0.0.1:9/admin"\n',
    )
    result = cli("check-config", "--config", str(config))
    assert result.code == 0 and result.err == ""


def test_once_repeats_the_warnings(tmp_path: Path) -> None:
    config = write(tmp_path, f'[storage]\nurl = "sqlite:///{tmp_path}/t.db"\n')
    result = cli("once", "--config", str(config))
    assert f"warning: {config}: no [[sources]] and no [[topics]]" in result.err


def test_log_lines_show_local_time_and_datetimes_as_iso(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=True, tz=ZoneInfo("Asia/Shanghai"))
    try:
        structlog.get_logger().warning(
            "retry later", retry_at=datetime(2026, 12, 2, 16, 12, 27, tzinfo=UTC)
        )
    finally:
        structlog.reset_defaults()
    event = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert event["retry_at"] == "2026-12-03T00:12:27+08:00"
    assert event["timestamp"].endswith("+08:00")


@pytest.mark.parametrize("as_json", [True, False])
def test_nested_datetimes_in_log_values_are_local_iso_too(
    as_json: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    register(["nested-secret-token-42"])
    configure_logging(json=as_json, tz=ZoneInfo("Asia/Shanghai"))
    try:
        structlog.get_logger().warning(
            "retries",
            due={"ops": datetime(2026, 12, 2, 16, 12, 27, tzinfo=UTC), "n": 2},
            days=[date(2026, 12, 2), datetime(2026, 12, 2, 16, 0)],  # naive: the database's UTC
            wait=timedelta(minutes=5),
            url={"hook": "json://h/nested-secret-token-42"},
        )
        try:
            raise ValueError("boom")
        except ValueError:
            structlog.get_logger().exception("failed", at=[datetime(2026, 12, 2, tzinfo=UTC)])
    finally:
        structlog.reset_defaults()
    err = capsys.readouterr().err
    assert "datetime.datetime(" not in err and "datetime.date(" not in err
    assert "timedelta(" not in err and "nested-secret-token-42" not in err
    assert "2026-12-03T00:12:27+08:00" in err and "2026-12-03T00:00:00+08:00" in err
    assert "2026-12-02T08:00:00+08:00" in err
    assert ("'2026-12-02'" if not as_json else '"2026-12-02"') in err
    assert "PT300S" in err and "ValueError: boom" in err
    if as_json:
        first = json.loads(err.strip().splitlines()[0])
        assert first["due"] == {"ops": "2026-12-03T00:12:27+08:00", "n": 2}
        assert first["days"] == ["2026-12-02", "2026-12-03T00:00:00+08:00"]


def test_sources_columns_line_up_with_chinese_names(tmp_path: Path) -> None:
    """Not a terminal: plain lines, padded by display width (a Chinese character is two)."""
    config = write(
        tmp_path,
        f'[storage]\nurl = "sqlite:///{tmp_path}/t.db"\n'
        + SOURCE
        + '\n[[sources]]\nname = "rss-a"\nkind = "feed"\nurl = "http://127.0.0.1:9/a.xml"\n',
    )
    result = cli("sources", "--config", str(config))
    assert result.code == 0, result.err
    lines = result.out.splitlines()[:3]
    assert [line.split()[0] for line in lines] == ["source", "县政府", "rss-a"]
    # "kind" starts at the same screen column on every line
    assert {
        cell_len(line[: line.index(word)])
        for line, word in zip(lines, ["kind", "feed", "feed"], strict=True)
    } == {21}
    assert "─" not in result.out  # no box drawing for scripts


def test_on_a_terminal_tables_are_drawn_by_display_width() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=80, color_system=None)
    print_table(console, ["source", "state"], [["县政府网站", "ok"], ["rss-a", "failing"]])
    lines = [line for line in screen.getvalue().splitlines() if line.strip("─ ")]
    assert "─" in screen.getvalue()  # the header rule: this is the drawn table
    columns = {
        cell_len(line[: line.index(state)])
        for line, state in zip(lines, ["state", "ok", "failing"], strict=True)
    }
    assert len(columns) == 1


def on_terminal(*args: str) -> tuple[int, str]:
    """``tingfeng ARGS`` in a real process on a pseudo-terminal: only there does rich draw
    its live display. Returns the exit code and everything the terminal received."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "daemon", *args],
        stdout=follower,
        stderr=follower,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    return proc.wait(timeout=120), screen.decode("utf-8", errors="replace")


def test_once_and_match_on_a_terminal_show_live_progress(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        f'[storage]\nurl = "sqlite:///{tmp_path}/t.db"\n'
        + SOURCE
        + '\n[[topics]]\nname = "燃气"\nquery = "燃气"\n',
    )
    code, text = on_terminal("once", "--config", str(config))
    assert code == 0, text
    assert "\x1b[?25l" in text  # the live display hid the cursor while it ran
    assert "县政府: FAILED" in text and "alerts: 0 sent, 0 failed" in text

    code, text = on_terminal("match", "--stored", "--config", str(config))
    assert code == 2 and "\x1b[?25l" in text  # the count was live until the answer
    assert "the database holds no articles" in text
