"""Engine properties: linear-time regexes, big and odd input, no event-loop stalls."""

from __future__ import annotations

import asyncio
import random
import threading

import re2

from daemon.pipeline import run_cpu
from rules import Document, TopicMatch, TopicRule, compile_rules
from rules.regexes import compile_regex
from rules.wordcheck import WordChecker


def test_user_regexes_use_the_linear_time_engine() -> None:
    assert isinstance(compile_regex("(a+)+$"), type(re2.compile("x")))
    matcher = compile_rules([TopicRule("evil", "/(a+)+$/ OR /(x|x)*y/")])
    doc = Document("d", "", "a" * 100_000 + "!" + "x" * 50_000)
    assert matcher.match(doc) == []


def test_regex_spans_are_character_offsets() -> None:
    [m] = compile_rules([TopicRule("r", "/石油./")]).match(Document("d", "", "液化石油气"))
    assert [(h.start, h.end) for h in m.hits] == [(2, 5)]


def test_hundred_thousand_character_article_without_punctuation() -> None:
    text = ("液化石油气安全检查" * 12_000)[:100_000]
    rules = [TopicRule("gas", "液化石油气 NEAR/5 检查"), TopicRule("fossil", "化石")]
    [m] = compile_rules(rules).match(Document("d", "", text))
    assert m.topic == "gas"
    assert len(m.hits) > 10_000


def test_unexpected_scripts_and_control_characters() -> None:
    text = "\x00\x07\ud7ff\U0001f600ข่าวภาษาไทย한국어 뉴스 疫苗"
    [m] = compile_rules([TopicRule("v", "疫苗"), TopicRule("k", "뉴스")]).match(
        Document("d", "", text)
    )[:1]
    assert m.topic == "v"


def test_empty_document_and_no_topics() -> None:
    assert compile_rules([]).match(Document("d", "", "疫苗")) == []
    assert compile_rules([TopicRule("v", "疫苗")]).match(Document("d", "", "")) == []


def test_recompiling_does_not_leak_terms_between_matchers() -> None:
    text = "液化石油气"
    with_term = compile_rules([TopicRule("a", "液化石油气"), TopicRule("f", "化石")])
    alone = compile_rules([TopicRule("f", "化石"), TopicRule("s", "石油")])
    assert [m.topic for m in with_term.match(Document("d", "", text))] == ["a"]
    assert [m.topic for m in alone.match(Document("d", "", text))] == ["s"]


async def test_matching_in_a_thread_never_stalls_the_event_loop() -> None:
    """The pipeline's ``run_cpu`` matches on a worker thread and the loop keeps running.

    No clock: the loop must tick a few times while a long match is still running. A
    blocked loop (matching on the loop thread, or a matcher holding the GIL throughout)
    ticks not once until the match is over, however fast or loaded the machine.
    """
    queries = ["疫苗", "液化气 检查", "石油 -招聘"] * 30
    matcher = compile_rules([TopicRule(f"t{i}", q) for i, q in enumerate(queries)])
    body = "新冠疫苗接种，液化气安全检查，石油价格。" * 1000
    docs = [Document(str(i), "标题", body) for i in range(4)]
    loop_thread = threading.get_ident()
    matching = threading.Event()
    ticks_while_matching = 0
    worker_threads: set[int] = set()

    def match_until_the_loop_ticked() -> list[list[TopicMatch]]:
        """Match again (up to ten times) until the loop has ticked five times meanwhile."""
        worker_threads.add(threading.get_ident())
        matching.set()
        try:
            for _ in range(10):
                results = matcher.match_many(docs)
                if ticks_while_matching >= 5:
                    break
            return results
        finally:
            matching.clear()

    async def ticker() -> None:
        nonlocal ticks_while_matching
        while True:
            await asyncio.sleep(0.001)
            ticks_while_matching += matching.is_set()

    task = asyncio.create_task(ticker())
    try:
        results = await run_cpu(match_until_the_loop_ticked)
    finally:
        task.cancel()
    assert all(len(r) == 90 for r in results)
    assert loop_thread not in worker_threads
    assert ticks_while_matching >= 5


def test_no_crossing_word_means_every_segmentation_cuts_there() -> None:
    """The word check skips jieba where no dictionary word spans a hit's end: that shortcut
    is only sound if the segmentation really cuts at every such position."""

    rng = random.Random(3)
    pool = ["液化", "石油气", "化石", "提供", "和服", "服务", "新冠", "疫苗", "接种", "本报"]
    pool += ["嘉祥", "讯", "和", "的", "安全", "检查", "燃气", "管理", "石油", "液化石油气"]
    checker = WordChecker({"液化石油气", "嘉祥", "和服"})
    checked = skipped = 0
    for _ in range(300):
        text = "".join(rng.choices(pool, k=rng.randint(2, 9)))
        cuts = set(checker.segment(text, 0, len(text)))
        for p in range(len(text) + 1):
            checked += 1
            if not checker.crosses(text, p, 0, len(text)):
                skipped += 1
                assert p in cuts, (text, p)
    assert checker.crosses("液化石油气", 1, 0, 5)  # 液化 spans the start of 化石
    assert 0 < skipped < checked


def test_hit_offsets_after_characters_beyond_the_basic_plane() -> None:
    """The automaton scans UTF-16 code units; 😀 and 𠀀 take two each, offsets must not."""
    text = "😀疫苗，𠀀𠀁疫苗\ud800疫苗"
    [m] = compile_rules([TopicRule("v", "疫苗", mode="substring")]).match(Document("d", "", text))
    assert [(h.start, h.end) for h in m.hits] == [(1, 3), (6, 8), (9, 11)]
    assert {text[h.start : h.end] for h in m.hits} == {"疫苗"}


def test_no_hit_straddling_two_characters_bytes() -> None:
    """一 (4E 00) then 愀 (61 00) holds the bytes of "a" (00 61), shifted by one byte."""
    matcher = compile_rules([TopicRule("a", "*a*"), TopicRule("yi", "*一*")])
    assert [m.topic for m in matcher.match(Document("d", "", "一\u6100"))] == ["yi"]
    assert [m.topic for m in matcher.match(Document("d", "", "一a"))] == ["a", "yi"]


def test_dictionary_is_read_as_jieba_builds_it() -> None:
    """The matcher reads dict.txt itself (no jieba import); it must be jieba's prefix dict."""
    import jieba

    from rules.wordcheck import read_jieba_dictionary

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    assert read_jieba_dictionary() == (tokenizer.FREQ, tokenizer.total)
