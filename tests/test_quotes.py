"""Quotes come from the article: hits found in normalised text map back to the original.

Officials forward alert snippets; a snippet that reads ``(通讯员王强)`` where the paper
printed ``（通讯员 王强）`` misquotes it.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from daemon.notify.render import (
    Alert,
    Format,
    Renderer,
    Segment,
    highlight,
    snippet,
    snippet_segments,
)
from daemon.pipeline import combined_hits
from rules import Document, TopicRule, compile_rules, normalize, normalize_mapped
from tests.cli_runner import run_cli

SAMPLES = [
    "本报金乡讯（通讯员 王强）近日，",
    "瓶装液\n化石油气",
    "手机扶贫APP上线",
    "液化石油氣鋼瓶",
    "  \t  ",
    "",
    "ＡＢＣ１２３　全角",
    "café naïve Straße ﬁle ㈱",
    "\n\n前 后\n\n",
    "e\u0301 か\u3099",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_mapped_text_is_exactly_normalize(text: str) -> None:
    assert normalize_mapped(text).text == normalize(text)


def test_mapped_text_on_random_mixtures() -> None:
    pool = "液化石油气氣（）：，。 \n\t\u3000ＡａAbc1２ée\u0301ß㈱ﬁ“”—…·"
    rng = random.Random(13)
    for _ in range(2000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 30)))
        mapped = normalize_mapped(text)
        assert mapped.text == normalize(text), repr(text)
        assert len(mapped.starts) == len(mapped.ends) == len(mapped.text)


@pytest.mark.parametrize(
    ("original", "term", "quote"),
    [
        ("本报金乡讯（通讯员 王强）近日，", "(通讯员王强)", "（通讯员 王强）"),
        ("县里推广瓶装液\n化石油气钢瓶", "液化石油气", "液\n化石油气"),
        ("手机扶贫APP上线", "app", "APP"),
        ("ＡＰＰ下载", "app", "ＡＰＰ"),
        ("液化石油氣鋼瓶", "液化石油氣", "液化石油氣"),
    ],
)
def test_hit_maps_back_to_the_papers_words(original: str, term: str, quote: str) -> None:
    mapped = normalize_mapped(original)
    start = mapped.text.index(term)
    lo, hi = mapped.original_span(start, start + len(term))
    assert original[lo:hi] == quote


# --- alerts and digests quote the original -------------------------------------------

ARTICLE_TITLE = "金乡县推进燃气安全“APP”监管"
ARTICLE_TEXT = (
    "本报金乡讯（通讯员 王强）近日，县应急管理局通过手机扶贫APP发布提示：瓶装液\n"
    "化石油气钢瓶须定期检验；部分商户仍在使用過期的液化石油氣鋼瓶。"
)


def matched_alert(title: str, text: str, query: str, **extra: Any) -> Alert:
    """An alert with hits exactly as the pipeline stores them (real matcher)."""
    matcher = compile_rules([TopicRule(name="燃气安全", query=query, mode="substring")])
    (found,) = matcher.match(Document(id="1", title=title, text=text))
    fields: dict[str, Any] = {
        "topic": "燃气安全",
        "title": title,
        "url": "http://paper.example/a.html",
        "source": "金乡融媒",
        "also": [],
        "place": "金乡",
        "published": datetime(2026, 12, 1, 16, 0, tzinfo=UTC),  # China midnight: date only
        "text": text,
        "hits": combined_hits(title, found.hits),
    }
    return Alert(**(fields | extra))


def quotes_of(segments: list[Segment]) -> list[str]:
    """The runs of article text a snippet shows (``…`` marks a cut, not a quote)."""
    return [q for q in "".join(s.text for s in segments).split("…") if q]


def test_snippet_is_the_papers_words_with_hits_marked_once() -> None:
    alert = matched_alert(ARTICLE_TITLE, ARTICLE_TEXT, "液化石油气 OR app OR (通讯员王强)")
    segments = snippet_segments(alert, 200)
    for quote in quotes_of(segments):
        assert quote.replace(" ", "") in ARTICLE_TEXT.replace("\n", "").replace(" ", "")
    hits = [s.text for s in segments if s.hit]
    assert hits == ["通讯员 王强", "APP", "液化石油气", "液化石油氣"]  # the wrap taken out
    text = snippet(alert, 200)
    assert "本报金乡讯（【通讯员 王强】）近日，" in text
    assert "【液化石油气】" in text and "【APP】" in text and "【【" not in text
    assert "\n" not in text
    html = str(highlight(segments, "html"))
    assert html.count("<mark") == 4
    assert "【" not in re.sub(r'<span style="display:none[^"]*">[^<]*</span>', "", html)


def test_a_wrap_reads_as_one_space_unless_between_chinese_characters() -> None:
    alert = matched_alert("标题", "县里推广手机\nAPP\nfor farmers，液化\n石油气", "app")
    assert snippet(alert, 200) == "县里推广手机 【APP】 for farmers，液化石油气"


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_alert_says_where(fmt: Format) -> None:
    alert = matched_alert(
        ARTICLE_TITLE,
        ARTICLE_TEXT,
        "液化石油气",
        page="第02版：县域",
        pdf="http://paper.example/page02.pdf",
        also=["济宁日报"],
    )
    _, body = Renderer(ZoneInfo("Asia/Shanghai")).alert(alert, fmt)
    where = ["金乡融媒", "第02版：县域", "金乡", "2026-12-02", "济宁日报"]
    for part in [*where, alert.url, alert.pdf]:
        assert part in body, part
    assert "00:00" not in body


def test_a_real_time_is_shown_in_the_readers_zone() -> None:
    alert = matched_alert(
        "标题", "液化石油气", "液化石油气", published=datetime(2026, 12, 2, 1, 30, tzinfo=UTC)
    )
    _, body = Renderer(ZoneInfo("Asia/Shanghai")).alert(alert, "text")
    assert "2026-12-02 09:30" in body


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("液化石油气", ""),  # no text: the title hit alone
        ("。。！", "液化石油气泄漏"),  # title only punctuation
        ("", "液化石油气泄漏"),  # no title at all
        ("标题", "液化石油气在最前"),  # hit at the very start
        ("标题", "最后一句是液化石油气"),  # hit at the very end
        ("标题", "液化石油气"),  # the whole text is the hit
    ],
)
@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_edge_articles_render_whole_quotes(title: str, text: str, fmt: Format) -> None:
    alert = matched_alert(title, text, "液化石油气")
    segments = snippet_segments(alert)
    for quote in quotes_of(segments):
        assert quote in text
    if "液化石油气" in text:
        assert [s.text for s in segments if s.hit] == ["液化石油气"]
    _, body = Renderer(ZoneInfo("Asia/Shanghai")).alert(alert, fmt)
    assert alert.url in body


def test_five_megabyte_article_quotes_a_hit_at_either_end() -> None:
    filler = "各乡镇街道认真落实属地责任，\n" * 120_000
    assert len(filler.encode()) > 5_000_000
    for text in ("液化石油气" + filler, filler + "液化石油气"):
        segments = snippet_segments(matched_alert("标题", text, "液化石油气"))
        assert [s.text for s in segments if s.hit] == ["液化石油气"]
        bare = text.replace("\n", "")  # the page's line wraps are taken out of quotes
        assert all(q in bare for q in quotes_of(segments))


async def test_broken_template_override_fails_check_config_not_the_send(tmp_path: Path) -> None:
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "alert.text.j2").write_text("{{ a.title }}\n{% if a.place %}\n无结束\n")
    (tmp_path / "config.toml").write_text(
        '[daemon]\ntemplates = "tpl"\n\n[[topics]]\nname = "燃气安全"\nquery = "液化气"\n',
        encoding="utf-8",
    )
    result = await run_cli("check-config", "--config", str(tmp_path / "config.toml"))
    assert result.code != 0
    (line,) = result.err.strip().splitlines()
    assert "alert.text.j2" in line and "line 3" in line and "Traceback" not in result.err
    (folder / "alert.text.j2").write_text("{{ a.title }}\n{{ a.url }}\n")
    fixed = await run_cli("check-config", "--config", str(tmp_path / "config.toml"))
    assert fixed.code == 0, fixed.err
