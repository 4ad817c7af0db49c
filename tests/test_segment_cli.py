"""``tingfeng segment`` as a user runs it: JSON shape, text form, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_runner import CliResult, cli

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "tests" / "fixtures" / "pages" / "page-d-before-long.txt"


def run(*args: str, stdin: bytes = b"") -> CliResult:
    return cli("segment", *args, stdin=stdin, cwd=ROOT)


def test_json_is_an_array_of_items_with_the_promised_keys() -> None:
    result = run(str(PAGE), "--format", "json")
    assert result.code == 0, result.err
    items = json.loads(result.out)
    assert len(items) == 7
    for item in items:
        assert {
            "kind",
            "kicker",
            "title",
            "place",
            "text",
            "continued_to",
            "continued_from",
        } <= set(item)
        assert item["kind"] in ("article", "photo")
        assert 0 <= item["confidence"] <= 1
    assert items[0]["title"] == "稻田综合种养带动农民增收"
    assert items[0]["banner"] == "县域观察"  # the page-level line, kept out of the headline
    assert "稻田综合种养带动农民增收" not in items[0]["text"]


def test_stdin_and_text_format() -> None:
    result = run("-", "--format", "text", stdin=PAGE.read_bytes())
    assert result.code == 0, result.err
    assert "[1] article · 鱼台: 鱼台县农业农村局 / 稻田综合种养带动农民增收" in result.out


def test_empty_file_gives_an_empty_array(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = run(str(empty))
    assert result.code == 0 and json.loads(result.out) == []


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("blob.bin", bytes(range(256)) * 50, "not page text"),
        ("scan.pdf", b"%PDF-1.4\n%%EOF\n", "scan.pdf"),
        ("missing.txt", None, "No such file"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, name: str, data: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    result = run(str(path))
    assert result.code == 2
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.err
