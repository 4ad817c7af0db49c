"""The match / rules commands, run as a user would (the real CLI entry, in-process)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

from rules import combined_text
from tests.cli_runner import CliResult, cli

ROOT = Path(__file__).resolve().parents[1]

RULES = """
[[topics]]
name = "燃气安全"
query = '(液化石油气 OR 液化气) (整治 OR 检查) -招聘'
channels = ["ops-chat"]

[[topics]]
name = "疫苗"
query = "疫苗"
"""


def _run(*args: str, stdin: str = "") -> CliResult:
    return cli(*args, stdin=stdin, cwd=ROOT)


def test_match_prints_one_line_per_match_with_combined_spans(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    articles = [
        {"id": "a1", "title": "疫苗到货", "text": "瓶装液\n化石油气安全检查。新冠疫苗接种"},
        {"id": 2, "title": "", "text": "液化气站招聘检查员"},
        {"id": "a3", "title": "化石", "text": "提供和服务"},
    ]
    data = tmp_path / "in.jsonl"
    data.write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in articles) + "\n")
    proc = _run("match", "--rules", str(rules), "--input", str(data))
    assert proc.code == 0, proc.err
    lines = [json.loads(x) for x in proc.out.splitlines()]
    assert [(x["id"], x["topic"]) for x in lines] == [("a1", "燃气安全"), ("a1", "疫苗")]
    combined = combined_text(articles[0]["title"], articles[0]["text"])
    for line in lines:
        for start, end, term in line["hits"]:
            assert combined[start:end] == term
    assert lines[1]["fields"] == ["title", "text"]
    assert lines[0]["terms"] == ["液化石油气", "检查"]
    assert "quotes" not in lines[0]
    quoted = _run("match", "--rules", str(rules), "--input", str(data), "--quotes")
    first = json.loads(quoted.out.splitlines()[0])
    assert first["hits"] == lines[0]["hits"]  # the contract is unchanged
    assert ["text", 2, 8, "液\n化石油气"] in first["quotes"]
    for field, start, end, quote in first["quotes"]:
        assert articles[0][field][start:end] == quote


def test_match_bad_input_line_names_line_number(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    data = tmp_path / "in.jsonl"
    data.write_text('{"id": 1, "text": "x"}\n\n{"text": "no id"}\n', encoding="utf-8")
    proc = _run("match", "--rules", str(rules), "--input", str(data))
    assert proc.code == 2
    assert proc.err.strip() == f'tingfeng: {data}:3: missing "id"'
    data.write_text("{oops\n", encoding="utf-8")
    proc = _run("match", "--rules", str(rules), "--input", str(data))
    assert proc.code == 2 and f"{data}:1: not valid JSON" in proc.err


def test_match_bad_rules_file_points_at_topic_and_column(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[topics]]\nname = "a"\nquery = "x"\n[[topics]]\nname = "b"\nquery = "(A OR B) C)"\n',
        encoding="utf-8",
    )
    proc = _run("match", "--rules", str(rules), "--input", "-", stdin="")
    assert proc.code == 2
    first, query, caret = proc.err.rstrip("\n").split("\n")
    assert first == f'tingfeng: {rules}: topics[1].query: unbalanced ")" at column 11 (topic "b")'
    assert caret.index("^") == 10 and query == "(A OR B) C)"
    rules.write_text('[[topics]]\nname = "a"\n', encoding="utf-8")
    proc = _run("match", "--rules", str(rules), "--input", "-", stdin="")
    expected = f"tingfeng: {rules}: topics[0].query: required, a non-empty string"
    assert proc.err.strip() == expected


def test_match_rules_file_not_utf8_is_one_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_bytes('[[topics]]\nname = "燃气"\nquery = "燃气"\n'.encode("gbk"))
    proc = _run("match", "--rules", str(rules), "--input", "-", stdin="")
    assert proc.code == 2
    assert proc.err.strip() == f"tingfeng: {rules}: not UTF-8 text (invalid continuation byte)"


def test_match_follows_an_edited_rules_file(tmp_path: Path) -> None:
    """Topics are cached by the file's content: an edit is matched at once, a revert too."""
    rules = tmp_path / "rules.toml"
    data = tmp_path / "in.jsonl"
    data.write_text(json.dumps({"id": 1, "text": "燃气检查，疫苗接种"}) + "\n", encoding="utf-8")

    def topics() -> list[str]:
        proc = _run("match", "--rules", str(rules), "--input", str(data))
        assert proc.code == 0, proc.err
        return [json.loads(line)["topic"] for line in proc.out.splitlines()]

    for _ in range(2):
        rules.write_text('[[topics]]\nname = "燃气"\nquery = "燃气"\n', encoding="utf-8")
        assert topics() == ["燃气"] == topics()
        rules.write_text('[[topics]]\nname = "疫苗"\nquery = "疫苗"\n', encoding="utf-8")
        assert topics() == ["疫苗"] == topics()


def test_rules_test_marks_hits_and_sets_exit_code() -> None:
    proc = _run("rules", "test", "液化石油气 NEAR/5 检查", "--text", "瓶装液\n化石油氣安全检查")
    assert proc.code == 0, proc.err
    # the text as given: the wrap and the traditional form stay, inside the marks
    expected = ["match: 液化石油气, 检查", "text: 瓶装【液", "化石油氣】安全【检查】"]
    assert proc.out.splitlines() == expected
    proc = _run("rules", "test", "化石", "--text", "液化石油气")
    assert (proc.code, proc.out.strip()) == (1, "no match")
    proc = _run("rules", "test", "--text", "x", "--", "-招聘")  # "--": query starts with -
    assert proc.code == 2 and "only exclusions" in proc.err


SAMPLE = """\
[GLOBAL_FILTER]
广告

[WORD_GROUPS]
[华为动态]
华为
鸿蒙
+发布
!汽车
@5

/iphone ?1[5-7]/i => iPhone
苹果 => 苹果公司

!只有排除
"""


def test_import_trendradar_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "frequency_words.txt"
    src.write_text(SAMPLE, encoding="utf-8")
    proc = _run("rules", "import-trendradar", str(src))
    assert proc.code == 0, proc.err
    topics = tomllib.loads(proc.out)["topics"]
    assert [t["name"] for t in topics] == ["华为动态", "iPhone / 苹果公司"]
    assert all(t["mode"] == "substring" and t["fields"] == ["title"] for t in topics)
    assert f"{src}:10: @5" in proc.err and f"{src}:15:" in proc.err  # limit, ! group
    rules = tmp_path / "rules.toml"
    rules.write_text(proc.out, encoding="utf-8")
    heads = [
        ("1", "华为发布新机", "华为动态"),
        ("2", "鸿蒙系统发布会广告", None),  # global filter
        ("3", "华为汽车发布", None),  # ! words exclude from every group ...
        ("4", "苹果汽车传闻", None),  # ... not just their own
        ("5", "华为股价上涨", None),  # +发布 missing
        ("6", "iPhone16 vs iPhone 15", "iPhone / 苹果公司"),
        ("7", "苹果发布会只有排除项", None),  # the !-only group filters globally
        ("8", "苹果发布会", "iPhone / 苹果公司"),
        ("9", "正文里有华为发布", None),  # headline only
    ]
    data = tmp_path / "in.jsonl"
    rows = [{"id": i, "title": t, "text": ""} for i, t, _ in heads[:-1]]
    rows.append({"id": "9", "title": "无关", "text": heads[-1][1]})
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    proc = _run("match", "--rules", str(rules), "--input", str(data))
    got = {(x["id"], x["topic"]) for x in map(json.loads, proc.out.splitlines())}
    assert got == {(i, name) for i, _, name in heads if name}


def test_match_on_a_file_loads_only_the_rule_engine(tmp_path: Path) -> None:
    """Start-up is most of a small backtest: no database, notifier or jieba import."""
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    data = tmp_path / "in.jsonl"
    data.write_text('{"id": 1, "title": "疫苗", "text": "无关"}\n', encoding="utf-8")
    script = (
        "import sys\n"
        "from daemon.cli import main\n"
        f"main(['match', '--rules', {str(rules)!r}, '--input', {str(data)!r}])\n"
        "heavy = ('sqlalchemy', 'apprise', 'aiohttp', 'jieba', 'daemon.pipeline')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(x)["topic"] for x in proc.stdout.splitlines()] == ["疫苗"]
    assert proc.stderr.strip() == "[]"
