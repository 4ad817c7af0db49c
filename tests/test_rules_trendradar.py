"""TrendRadar keyword files imported with TrendRadar's meaning, construct by construct.

The cases are written from TrendRadar's documented syntax (its frequency_words.txt
header and README): for every headline the list gives the groups whose conditions it
meets, in file order. TrendRadar files the headline under the first of them; tingfeng
alerts each one, in the same order.
"""

from __future__ import annotations

import tomllib

import pytest

from rules import Document, compile_rules
from rules.topics_file import topics_from_tables
from rules.trendradar import convert

KEYWORDS = """\
# 我的关键词
[GLOBAL_FILTER]
震惊
/标题党/
!广告
+必须
@3

[WORD_GROUPS]
[燃气安全]
液化气
燃气
+安全
!招聘

/nvidia|英伟达/i => 英伟达
AMD
@5

/扶贫|脱贫/ => 扶贫
集体经济 => 集体
  \t
乡村振兴

!娱乐
!/彩票|博彩/

华为
@abc

/(?<![a-z])ai(?![a-z])/i
人工智能

+iPhone
+发布

[集体]
集体经济
"""

GAS, CHIPS, POVERTY, HUAWEI, AI, IPHONE, COLLECTIVE = (
    "燃气安全",
    "英伟达 / AMD",
    "扶贫 / 集体 / 乡村振兴",
    "华为",
    "(?<![a-z])ai(?![a-z]) / 人工智能",
    "iPhone / 发布",
    "集体",
)

CASES = [
    ("燃气安全检查全面展开", [GAS]),  # a plain word and the + word
    ("液化气价格上涨", []),  # + 安全 missing
    ("液化气站招聘安全员", []),  # ! 招聘 in one group excludes from all
    ("华为招聘启事", []),  # ... including other groups
    ("英伟达发布新芯片", [CHIPS]),  # /regex/i
    ("NVIDIA股价大涨", [CHIPS]),  # regexes ignore case
    ("amd与英伟达竞争", [CHIPS]),  # plain words ignore case
    ("脱贫攻坚成果巩固", [POVERTY]),  # /a|b/ => name
    ("乡村振兴看集体经济", [POVERTY, COLLECTIVE]),  # spaces-only line joined the group
    ("华为娱乐新闻", []),  # a group of ! words only filters globally
    ("华为博彩广告", []),  # ... regexes there too
    ("燃气安全与华为", [GAS, HUAWEI]),  # TrendRadar: 燃气安全 only
    ("震惊！华为发布", []),  # [GLOBAL_FILTER]
    ("华为标题党", [HUAWEI]),  # /标题党/ under GLOBAL_FILTER is literal text
    ("华为/标题党/", []),
    ("华为广告", [HUAWEI]),  # !广告 under GLOBAL_FILTER is ignored
    ("必须看华为", [HUAWEI]),  # so is +必须
    ("人工智能大会开幕", [AI]),
    ("iPhone 16 正式发布", [IPHONE]),  # a group of + words only needs all of them
    ("iPhone 16 上市", []),
    ("华为abc", [HUAWEI]),  # @abc is no keyword
    ("abc", []),
]


@pytest.fixture(scope="module")
def imported() -> tuple[str, list[str], list[list[str]]]:
    toml, notes = convert(KEYWORDS, "kw.txt")
    matcher = compile_rules(topics_from_tables(tomllib.loads(toml)["topics"], "kw"))
    found = [[m.topic for m in matcher.match(Document(h, h, ""))] for h, _ in CASES]
    return toml, notes, found


def test_every_headline_matches_the_groups_trendradar_would_choose(
    imported: tuple[str, list[str], list[list[str]]],
) -> None:
    _, _, found = imported
    assert found == [groups for _, groups in CASES]


def test_topics_are_the_groups_in_file_order_named_as_trendradar_names_them(
    imported: tuple[str, list[str], list[list[str]]],
) -> None:
    toml, _, _ = imported
    topics = tomllib.loads(toml)["topics"]
    assert [t["name"] for t in topics] == [GAS, CHIPS, POVERTY, HUAWEI, AI, IPHONE, COLLECTIVE]
    assert all(t["mode"] == "substring" and t["fields"] == ["title"] for t in topics)
    assert "FIRST matching group only" in toml and "alerts every topic" in toml


def test_what_is_not_carried_over_is_noted_in_the_output_and_on_stderr(
    imported: tuple[str, list[str], list[list[str]]],
) -> None:
    toml, notes, _ = imported
    expected = {
        "kw.txt:4:": "literal text",  # /…/ under [GLOBAL_FILTER]
        "kw.txt:5:": "ignored",  # !广告 there
        "kw.txt:6:": "ignored",
        "kw.txt:7:": "ignored",
        "kw.txt:18:": "at most 5 headlines",  # @5
        "kw.txt:22:": "only spaces",
        "kw.txt:25:": "global filter",  # the !-only group
        "kw.txt:29:": "@ followed by a positive whole number",  # @abc
        "kw.txt:31:": "look-around",
    }
    for where, words in expected.items():
        assert any(n.startswith(where) and words in n for n in notes), (where, notes)
    for note in notes:
        if note.startswith(("kw.txt:18:", "kw.txt:29:", "kw.txt:31:")):
            assert f"# {note}" in toml


def test_a_whitespace_only_line_keeps_one_group_an_empty_line_splits() -> None:
    joined = tomllib.loads(convert("甲\n \n乙\n")[0])["topics"]
    split = tomllib.loads(convert("甲\n\n乙\n")[0])["topics"]
    assert [t["name"] for t in joined] == ["甲 / 乙"]
    assert [t["name"] for t in split] == ["甲", "乙"]


def test_section_marker_inside_a_block_is_a_keyword_and_is_noted() -> None:
    toml, notes = convert("[GLOBAL_FILTER]\n广告\n[WORD_GROUPS]\n华为\n", "kw.txt")
    assert "[[topics]]" in toml  # no groups: TrendRadar shows every headline
    [topic] = tomllib.loads(toml)["topics"]
    assert topic["name"] == "全部新闻" and topic["query"].startswith("*")
    assert any(n.startswith("kw.txt:3:") and "not read as a section" in n for n in notes)
    matcher = compile_rules(topics_from_tables([topic], "kw"))
    assert matcher.match(Document("1", "华为发布", "")) == []  # 华为 became a global filter
    assert [m.topic for m in matcher.match(Document("2", "燃气安全", ""))] == ["全部新闻"]


def test_required_regex_refused_skips_the_group_with_a_note() -> None:
    toml, notes = convert("华为\n+/(?=发布)发布/\n\n小米\n", "kw.txt")
    assert [t["name"] for t in tomllib.loads(toml)["topics"]] == ["小米"]
    assert any("kw.txt:1: group skipped" in n for n in notes)


def test_display_name_alone_is_an_empty_word_every_headline_contains() -> None:
    toml, notes = convert("=> 华为动态\n+发布\n", "kw.txt")
    [topic] = tomllib.loads(toml)["topics"]
    assert topic["name"] == "华为动态 / 发布"
    matcher = compile_rules(topics_from_tables([topic], "kw"))
    assert len(matcher.match(Document("1", "小米发布新机", ""))) == 1
    assert any("no word" in n for n in notes)


def test_awkward_literals_survive_as_literals() -> None:
    toml, notes = convert('/a/b/\n\n"引号"词\n\n/[未闭合/\n', "kw.txt")
    topics = topics_from_tables(tomllib.loads(toml)["topics"], "kw")
    assert [t.name for t in topics] == ["a/b", '"引号"词', "/[未闭合/"]
    matcher = compile_rules(topics)
    for headline, name in [
        ("xa/by", "a/b"),
        ('有"引号"词', '"引号"词'),
        ("/[未闭合/", "/[未闭合/"),
    ]:
        assert [m.topic for m in matcher.match(Document("1", headline, ""))] == [name]
    assert any("kw.txt:5:" in n and "literal text" in n for n in notes)


def test_duplicate_names_are_renamed_with_a_note() -> None:
    toml, notes = convert("[科技]\n华为\n\n[科技]\n小米\n", "kw.txt")
    assert [t["name"] for t in tomllib.loads(toml)["topics"]] == ["科技", "科技 (2)"]
    assert any("kw.txt:4:" in n and "renamed" in n for n in notes)


def test_a_group_with_nothing_to_look_for_is_noted() -> None:
    toml, notes = convert("[空组]\n@3\n\n华为\n", "kw.txt")
    assert [t["name"] for t in tomllib.loads(toml)["topics"]] == ["华为"]
    assert any(n.startswith("kw.txt:1:") and "no words" in n for n in notes)
