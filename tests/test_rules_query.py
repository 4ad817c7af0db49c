"""Parser errors carry the right column; bad topics are rejected at compile time."""

from __future__ import annotations

import pytest

from rules import QuerySyntaxError, RuleError, TopicRule, compile_rules, parse_query

ERRORS: list[tuple[str, str, int]] = [
    ("", "empty query", 1),
    ("   ", "empty query", 1),
    ("(A OR B) C)", 'unbalanced ")"', 11),
    ("(液化气 OR 燃气 (检查)", 'unbalanced "("', 1),
    ("A OR", "OR needs a term after it", 3),
    ("OR A", "OR needs a term before it", 1),
    ("A AND", "AND needs a term after it", 3),
    ("()", "empty parentheses", 1),
    ('A "unterminated', "unterminated phrase", 3),
    ("A /abc", "unterminated /regex/", 3),
    ("/(a)\\1/", "back-references", 1),
    ("x /(?<=a)b/", "look-around", 3),
    ("-招聘", "only exclusions", 1),
    ("-招聘 -广告", "only exclusions", 1),
    ("A OR -B", "OR alternative", 6),
    ("A NEAR B", "NEAR needs a distance", 3),
    ("A NEAR/5 -B", "NEAR cannot take an exclusion", 3),
    ("A - B", "must be followed directly", 3),
    ("title: A", "needs a term right after it", 1),
    ("A or B", 'lowercase "or"', 3),
    ("a*b", '"*" is only allowed', 2),
    ('""', "empty term", 1),
]


@pytest.mark.parametrize(("query", "message", "column"), ERRORS)
def test_syntax_errors_name_the_column(query: str, message: str, column: int) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query(query)
    assert message in info.value.message
    assert info.value.column == column


def test_render_puts_caret_under_column_even_after_wide_characters() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse_query("(液化气 OR 燃气) 检查)")
    lines = info.value.render("topics[3].query").split("\n")
    assert lines[0] == 'topics[3].query: unbalanced ")" at column 15'
    assert lines[1] == "(液化气 OR 燃气) 检查)"
    # 7 wide characters before column 15 take two cells each
    assert lines[2] == " " * (14 + 7) + "^"


def test_compile_rules_names_topic_and_wraps_syntax_error() -> None:
    rules = [TopicRule("ok", "疫苗"), TopicRule("燃气安全", "(A OR B")]
    with pytest.raises(RuleError) as info:
        compile_rules(rules)
    assert info.value.topic == "燃气安全"
    assert info.value.index == 1
    assert isinstance(info.value.syntax, QuerySyntaxError)
    first = str(info.value).split("\n")[0]
    assert first == 'topics[1].query: unbalanced "(" at column 1 (topic "燃气安全")'


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (TopicRule("a", "x", mode="fuzzy"), "mode"),  # type: ignore[arg-type]
        (TopicRule("a", "x", min_hits=0), "min_hits"),
        (TopicRule("a", "x", fields=("body",)), "fields"),
    ],
)
def test_bad_topic_options(rule: TopicRule, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        compile_rules([rule])


def test_duplicate_topic_names_rejected() -> None:
    with pytest.raises(RuleError, match="duplicate"):
        compile_rules([TopicRule("a", "x"), TopicRule("a", "y")])


def test_operators_inside_phrases_are_literal_and_fullwidth_operators_work() -> None:
    q = parse_query('"A OR (B)" （疫苗｜口罩） －招聘')
    assert [t.text for t in q.terms] == ["a or (b)", "疫苗", "口罩", "招聘"]
