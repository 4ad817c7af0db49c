"""``tingfeng match --stored``: backtesting topics on articles stored by the real pipeline."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from daemon import backtest as backtest_module
from daemon.config import Config
from rules import combined_text
from tests.cli_runner import CliResult, cli
from tests.notify_support import draft, make_config, open_db, seed

ROOT = Path(__file__).resolve().parents[1]

TOPICS = """
[[topics]]
name = "燃气安全"
query = "液化石油气 OR 液化气"
channels = CHANNELS

[[topics]]
name = "疫苗"
query = "疫苗"

[[topics]]
name = "化石"
query = "化石"
"""
CHANNELS = '[[channels]]\nname = "ops"\nurl = "json://127.0.0.1:9/"\n'
VACCINE = "本报讯 县疾控中心开展新冠疫苗接种工作，提醒群众按时接种。" * 3


def _run(*args: str, stdin: str = "") -> CliResult:
    return cli(*args, stdin=stdin, cwd=ROOT)


@pytest.fixture
async def stored(tmp_path: Path) -> Config:
    """Six stored articles: three LPG stories, a copy of the first (same cluster), a vaccine
    story and one about fossils that the word check must not count for 化石 (液化石油气)."""
    config = make_config(tmp_path, CHANNELS, topics=TOPICS)
    db = await open_db(config)
    copy = draft(1)
    copy.url = "http://other.example/1.html"
    items = [
        ("jnrb", draft(1)),
        ("jnrb", draft(2)),
        ("jnrb", draft(3)),
        ("ytrm", copy),
        ("ytrm", draft(4, title="疫苗接种提醒", text=VACCINE)),
    ]
    try:
        await seed(db, config, items)
    finally:
        await db.close()
    return config


def _ids(config: Config) -> dict[str, list[int]]:
    """Article ids by title, straight from the database."""
    path = config.storage_url()[len("sqlite:///") :]
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id, title FROM articles ORDER BY id").fetchall()
    out: dict[str, list[int]] = {}
    for aid, title in rows:
        out.setdefault(title, []).append(aid)
    return out


def test_summary_counts_articles_and_clusters_per_topic(stored: Config) -> None:
    proc = _run("match", "--stored", "--config", str(stored.path))
    assert proc.code == 0, proc.err
    lines = proc.out.splitlines()
    assert lines[0] == "5 articles scanned"
    assert "燃气安全: 4 articles, 3 clusters" in lines
    assert "疫苗: 1 article, 1 cluster" in lines
    assert "化石: no matches" in lines
    gas = lines.index("燃气安全: 4 articles, 3 clusters")
    assert lines[gas + 1 : gas + 4] == [
        "  · 液化气专项整治第1期 [jnrb]",
        "  · 液化气专项整治第2期 [jnrb]",
        "  · 液化气专项整治第3期 [jnrb]",
    ]


def test_jsonl_lines_name_stored_article_title_and_source(stored: Config) -> None:
    proc = _run("match", "--stored", "--format", "jsonl", "--config", str(stored.path))
    assert proc.code == 0, proc.err
    lines = [json.loads(x) for x in proc.out.splitlines()]
    ids = _ids(stored)
    gas = [x for x in lines if x["topic"] == "燃气安全"]
    assert sorted(x["id"] for x in gas) == sorted(
        ids["液化气专项整治第1期"] + ids["液化气专项整治第2期"] + ids["液化气专项整治第3期"]
    )
    assert {x["source"] for x in gas} == {"jnrb", "ytrm"}
    [vaccine] = [x for x in lines if x["topic"] == "疫苗"]
    assert (vaccine["id"], vaccine["title"], vaccine["source"]) == (
        ids["疫苗接种提醒"][0],
        "疫苗接种提醒",
        "ytrm",
    )
    combined = combined_text("疫苗接种提醒", VACCINE)
    assert [combined[s:e] for s, e, _ in vaccine["hits"]] == ["疫苗"] * 4


def test_rules_file_replaces_config_topics(stored: Config, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[topics]]\nname = "接种"\nquery = "接种 -招聘"\n', encoding="utf-8")
    proc = _run("match", "--stored", "--rules", str(rules), "--config", str(stored.path))
    assert proc.code == 0, proc.err
    assert proc.out.splitlines()[1:] == ["接种: 1 article, 1 cluster", "  · 疫苗接种提醒 [ytrm]"]


def test_since_filters_by_fetch_time(stored: Config) -> None:
    proc = _run("match", "--stored", "--since", "30d", "--config", str(stored.path))
    assert proc.code == 0 and proc.out.startswith("5 articles scanned\n")
    proc = _run("match", "--stored", "--since", "2999-01-01", "--config", str(stored.path))
    assert proc.code == 2
    assert proc.err == "tingfeng: match: the database holds no articles since 2999-01-01\n"


def test_small_chunks_give_the_same_counts(stored: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backtest_module, "CHUNK", 2)
    proc = _run("match", "--stored", "--config", str(stored.path))
    assert proc.code == 0, proc.err
    out = proc.out.splitlines()
    assert out[0] == "5 articles scanned"
    assert "燃气安全: 4 articles, 3 clusters" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "x.jsonl"], "match: use either --input FILE or --stored, not both"),
        (["--since", "bad"], "--since: 'bad' is not a date (2024-05-20) or an age (7d)"),
    ],
)
def test_bad_arguments_are_one_line(stored: Config, args: list[str], message: str) -> None:
    proc = _run("match", "--stored", *args, "--config", str(stored.path))
    assert proc.code == 2
    assert proc.err == f"tingfeng: {message}\n"


def test_missing_and_empty_database_are_one_line(tmp_path: Path) -> None:
    config = make_config(tmp_path, CHANNELS, topics=TOPICS)
    db_path = config.storage_url()[len("sqlite:///") :]
    proc = _run("match", "--stored", "--config", str(config.path))
    assert proc.code == 2
    assert proc.err == f"tingfeng: {db_path}: no database yet (run `tingfeng once` first)\n"
    assert not Path(db_path).exists()  # the check did not create it
    sqlite3.connect(db_path).close()
    proc = _run("match", "--stored", "--config", str(config.path))
    assert proc.code == 2
    assert proc.err == "tingfeng: match: the database holds no articles\n"


def test_summary_of_jsonl_input_counts_each_article_as_its_cluster(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[topics]]\nname = "疫苗"\nquery = "疫苗"\n', encoding="utf-8")
    lines = [{"id": [1], "text": "新冠疫苗接种"}, {"id": 2, "title": "疫苗", "source": "jnrb"}]
    stdin = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines)
    proc = _run("match", "--rules", str(rules), "--input", "-", "--format", "summary", stdin=stdin)
    assert proc.code == 0, proc.err
    assert proc.out.splitlines() == [
        "2 articles scanned",
        "疫苗: 2 articles, 2 clusters",
        "  · [1]",
        "  · 疫苗 [jnrb]",
    ]
    proc = _run("match", "--rules", str(rules), "--input", "-", "--since", "7d")
    assert proc.code == 2
    assert proc.err == "tingfeng: match: --since only applies to --stored\n"


def test_on_a_terminal_the_live_display_counts_toward_the_total(stored: Config) -> None:
    from tests.test_cli_plain import on_terminal

    code, screen = on_terminal("match", "--stored", "--config", str(stored.path))
    assert code == 0, screen
    assert "matching stored articles" in screen and "5/5" in screen  # counted first
    assert "5 articles scanned" in screen
