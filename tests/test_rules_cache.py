"""The compiled-matcher cache: a second compile reuses the plan and matches identically."""

from __future__ import annotations

import json
from pathlib import Path

from rules import Document, TopicRule
from rules.cache import compile_cached, rules_key

RULES = [
    TopicRule("燃气", "液化石油气 OR 液化气"),
    TopicRule("化石", "化石"),
    TopicRule("检查", "(液化气 OR 燃气) 检查 -招聘"),
    TopicRule("疫苗", "疫苗", mode="substring", fields=("title",)),
    TopicRule("近", "石油 NEAR/3 安全"),
]
DOCS = [
    Document("1", "疫苗到货", "瓶装液\n化石油气安全检查。液化气站招聘"),
    Document("2", "燃气检查", "化石燃料与液化石油气"),
    Document("3", "", "提供和服务，石油安全"),
]


def _entries(directory: Path) -> list[Path]:
    return sorted((directory / "rules").glob("*.json"))


def test_second_compile_reads_the_plan_and_matches_identically(tmp_path: Path) -> None:
    first = compile_cached(RULES, tmp_path)
    [entry] = _entries(tmp_path)
    assert entry.stem == rules_key(RULES)
    stored = json.loads(entry.read_text(encoding="utf-8"))  # plain JSON, no pickle
    assert sorted(stored) == ["order", "own_words", "patterns"]
    assert "液化石油气" in stored["patterns"]
    second = compile_cached(RULES, tmp_path)
    assert second.plan == first.plan
    assert second.match_many(DOCS) == first.match_many(DOCS)
    assert [m.topic for m in second.match(DOCS[0])] == ["燃气", "疫苗", "近"]


def test_other_rules_get_their_own_entry(tmp_path: Path) -> None:
    compile_cached(RULES, tmp_path)
    compile_cached([*RULES[:2], TopicRule("新", "招聘")], tmp_path)
    assert len(_entries(tmp_path)) == 2


def test_a_damaged_or_stale_entry_is_ignored_and_replaced(tmp_path: Path) -> None:
    expected = compile_cached(RULES, None).match_many(DOCS)
    key = rules_key(RULES)
    (tmp_path / "rules").mkdir()
    for damage in ("{not json", json.dumps({"patterns": ["别的"], "order": [0], "own_words": []})):
        (tmp_path / "rules" / f"{key}.json").write_text(damage, encoding="utf-8")
        assert compile_cached(RULES, tmp_path).match_many(DOCS) == expected
        assert json.loads((tmp_path / "rules" / f"{key}.json").read_text())["patterns"] != ["别的"]
