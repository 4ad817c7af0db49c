"""Compile all topics into one Aho-Corasick automaton plus per-topic boolean evaluation.

One pass of the automaton over a document finds every candidate hit for every topic
at once; only topics with a hit on one of their positive terms (or topics that must
always be looked at: regex, ``*``, metadata-only) are evaluated, and jieba only runs
on the clauses around hits that an evaluation actually needs verified.
"""

from __future__ import annotations

import bisect
import gc
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick

from rules.evaluate import evaluate
from rules.model import Document, Hit, TopicMatch, TopicRule
from rules.normalize import fold, match_form, normalize
from rules.query import Not, Query, QuerySyntaxError, Term, parse_query
from rules.regexes import compile_regex, regex_spans
from rules.wordcheck import DocumentWords, WordChecker, base_dictionary

_SEARCHED = ("title", "text")
_AUTOMATON_KINDS = ("word", "substring", "prefix", "suffix")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class RuleError(ValueError):
    """A topic that cannot be compiled; names the topic (and wraps the syntax error)."""

    def __init__(
        self, message: str, topic: str, index: int, syntax: QuerySyntaxError | None = None
    ) -> None:
        super().__init__(message)
        self.topic = topic
        self.index = index
        self.syntax = syntax


@dataclass(frozen=True)
class _Topic:
    index: int
    rule: TopicRule
    query: Query
    always: bool  # some positive leaf is not found by the automaton


def _positive_leaves(node: object, negated: bool = False) -> list[tuple[Term, bool]]:
    if isinstance(node, Term):
        return [(node, negated)]
    if isinstance(node, Not):
        return _positive_leaves(node.child, not negated)
    children = getattr(node, "children", None) or (node.left, node.right)  # type: ignore[attr-defined]
    return [x for c in children for x in _positive_leaves(c, negated)]


def _compile_topic(index: int, rule: TopicRule) -> _Topic:
    where = f"topics[{index}]"
    if rule.mode not in ("word", "substring"):
        raise RuleError(
            f'{where}.mode: must be "word" or "substring", not {rule.mode!r}', rule.name, index
        )
    if rule.min_hits < 1:
        raise RuleError(f"{where}.min_hits: must be at least 1", rule.name, index)
    bad = [f for f in rule.fields if f not in _SEARCHED]
    if not rule.fields or bad:
        message = f'{where}.fields: only "title" and "text" can be searched'
        raise RuleError(message, rule.name, index)
    try:
        query = parse_query(rule.query)
    except QuerySyntaxError as exc:
        head, _, rest = exc.render(f"{where}.query").partition("\n")
        raise RuleError(f'{head} (topic "{rule.name}")\n{rest}', rule.name, index, exc) from None
    always = any(
        not negated and (t.kind not in _AUTOMATON_KINDS or t.field in ("source", "place"))
        for t, negated in _positive_leaves(query.root)
    )
    return _Topic(index, rule, query, always)


def _insertion_order(patterns: Iterable[str]) -> list[str]:
    """``patterns`` with those whose prefixes are common words first.

    pyahocorasick finds a trie node's child by a linear scan in insertion order, and
    the root has a child for every distinct first character (thousands for 10,000
    topics), so scanning text costs mostly root scans. Inserting frequent prefixes
    first (jieba's word frequencies stand in for text frequencies) makes the
    common characters' children come first; the automaton's output is unchanged.
    (Patterns go in as UTF-16 code units, see :func:`_code_units`, which keeps the
    root small; the order still helps the nodes below it.)
    """
    freq = base_dictionary()[0]

    def key(pattern: str) -> list[int]:
        return [-(freq.get(pattern[:k]) or 0) for k in range(1, len(pattern) + 1)]

    return sorted(patterns, key=key)


def _code_units(text: str) -> str:
    """``text`` as one character per UTF-16 byte, which is how the automaton sees text.

    pyahocorasick scans a node's children linearly, and a root with a child for each
    of thousands of first characters made scanning text the matcher's biggest cost.
    Bytes give every node at most 256 children (CJK first bytes: about 80), which
    scans text ~3.5x faster. ``surrogatepass`` keeps lone surrogates encodable.
    """
    return text.encode("utf-16-be", "surrogatepass").decode("latin-1")


def _automaton_hits(automaton: ahocorasick.Automaton, text: str) -> dict[int, list[int]]:
    """Pattern id -> exclusive end offsets (in ``text``'s characters) of every occurrence.

    A pattern can also turn up starting on the second byte of a code unit; such a
    hit ends on an even byte and is dropped. Characters beyond U+FFFF take two code
    units, so when ``text`` has any, unit offsets are mapped back to characters.
    """
    wide_ends: list[int] = []
    if _ASTRAL.search(text):
        wide = (i for i, ch in enumerate(text) if ch > "\uffff")
        wide_ends = [i + n + 2 for n, i in enumerate(wide)]  # unit offset after each pair
    ends: dict[int, list[int]] = {}
    for last_byte, pid in automaton.iter(_code_units(text)):
        if not last_byte & 1:
            continue
        end = (last_byte + 1) // 2
        if wide_ends:
            end -= bisect.bisect_right(wide_ends, end)
        got = ends.get(pid)
        if got is None:
            ends[pid] = [end]
        else:
            got.append(end)
    return ends


class Matcher:
    """All topics compiled together. Immutable after construction except private caches.

    Build a new one when topics change (cheap: well under a second for 10,000
    topics once jieba's dictionary is loaded) and swap it in; nothing global changes.
    """

    def __init__(self, rules: Sequence[TopicRule]) -> None:
        names: set[str] = set()
        topics: list[_Topic] = []
        for i, rule in enumerate(rules):
            if rule.name in names:
                message = f'topics[{i}].name: duplicate topic name "{rule.name}"'
                raise RuleError(message, rule.name, i)
            names.add(rule.name)
            topics.append(_compile_topic(i, rule))
        self.topics = tuple(topics)
        self.rules = tuple(rules)

        pattern_ids: dict[str, int] = {}
        by_pattern: dict[int, set[int]] = {}
        word_terms: set[str] = set()
        for topic in topics:
            for term, negated in _positive_leaves(topic.query.root):
                if term.kind not in _AUTOMATON_KINDS or term.field in ("source", "place"):
                    continue
                pid = pattern_ids.setdefault(term.text, len(pattern_ids))
                if not negated:
                    by_pattern.setdefault(pid, set()).add(topic.index)
                if topic.rule.mode == "word" and term.kind != "substring":
                    word_terms.add(term.text)
        self._pattern_ids = pattern_ids
        self._lengths = [len(text) for text in pattern_ids]  # indexed by pattern id
        self._topics_by_pattern = {pid: sorted(ts) for pid, ts in by_pattern.items()}
        self._always = [t.index for t in topics if t.always]
        self._automaton: ahocorasick.Automaton | None = None
        if pattern_ids:
            automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
            for text in _insertion_order(pattern_ids):
                automaton.add_word(_code_units(text), pattern_ids[text])
            automaton.make_automaton()
            self._automaton = automaton
        self._words = WordChecker(word_terms)

    def match(self, doc: Document) -> list[TopicMatch]:
        """Topics ``doc`` matches, in rule order, each with its hits and satisfied terms."""
        return _DocMatch(self, doc).run()

    def match_many(self, docs: Iterable[Document]) -> list[list[TopicMatch]]:
        """:meth:`match` for each document, in input order."""
        return [self.match(doc) for doc in docs]


class _DocMatch:
    """State for matching one document: field texts, raw hits and verification caches."""

    def __init__(self, matcher: Matcher, doc: Document) -> None:
        self.m = matcher
        self.doc = doc
        self.texts = {"title": match_form(doc.title), "text": match_form(doc.text)}
        # field -> pattern id -> end offsets of raw (unverified) automaton hits
        self.raw: dict[str, dict[int, list[int]]] = {field: {} for field in _SEARCHED}
        self.words: dict[str, DocumentWords] = {}
        self.verified: dict[tuple[str, int, int, bool, bool], bool] = {}
        self.atoms: dict[tuple[Term, str, tuple[str, ...]], tuple[bool, list[Hit]]] = {}
        self.meta = {"source": normalize(doc.source), "place": fold(normalize(doc.place))}

    def run(self) -> list[TopicMatch]:
        automaton = self.m._automaton
        if automaton is not None:
            for field in _SEARCHED:
                text = self.texts[field]
                if not text:
                    continue
                self.raw[field] = _automaton_hits(automaton, text)
        candidates: set[int] = set(self.m._always)
        topics_by_pattern = self.m._topics_by_pattern
        for pid in {*self.raw["title"], *self.raw["text"]}:
            candidates.update(topics_by_pattern.get(pid, ()))
        out: list[TopicMatch] = []
        for index in sorted(candidates):
            found = self._topic(self.m.topics[index])
            if found is not None:
                out.append(found)
        return out

    def _topic(self, topic: _Topic) -> TopicMatch | None:
        rule = topic.rule
        if rule.sources and self.meta["source"] not in {normalize(s) for s in rule.sources}:
            return None
        if rule.places and not any(fold(normalize(p)) in self.meta["place"] for p in rule.places):
            return None

        def atom(term: Term) -> tuple[bool, list[Hit]]:
            key = (term, rule.mode, rule.fields)
            got = self.atoms.get(key)
            if got is None:
                got = self.atoms[key] = self._atom(term, rule.mode, rule.fields)
            return got

        ok, hits, terms = evaluate(topic.query.root, atom)
        if not ok:
            return None
        unique = sorted(set(hits), key=lambda h: (h.field != "title", h.start, h.end, h.term))
        if rule.min_hits > 1 and len(unique) < rule.min_hits:  # 1: `*`/metadata need no hit
            return None
        labels = list(dict.fromkeys(t.label for t in sorted(terms, key=lambda t: t.column)))
        return TopicMatch(rule.name, tuple(unique), tuple(labels))

    def _atom(self, term: Term, mode: str, fields: tuple[str, ...]) -> tuple[bool, list[Hit]]:
        if term.kind == "all":
            return True, []
        if term.field in ("source", "place"):
            return self._meta(term), []
        searched = (term.field,) if term.field else fields
        hits: list[Hit] = []
        label = term.label
        if term.kind == "regex":
            for field in searched:
                spans = regex_spans(term.text, self.texts[field])
                hits += [Hit(s, e, label, field) for s, e in spans]
            return bool(hits), hits
        pid = self.m._pattern_ids[term.text]
        size = self.m._lengths[pid]
        check_start = mode == "word" and term.kind in ("word", "prefix")
        check_end = mode == "word" and term.kind in ("word", "suffix")
        for field in searched:
            for e in self.raw[field].get(pid, ()):
                if self._verify(field, e - size, e, check_start, check_end):
                    hits.append(Hit(e - size, e, label, field))
        return bool(hits), hits

    def _verify(self, field: str, s: int, e: int, check_start: bool, check_end: bool) -> bool:
        if not (check_start or check_end):
            return True
        key = (field, s, e, check_start, check_end)
        ok = self.verified.get(key)
        if ok is None:
            words = self.words.get(field)
            if words is None:
                words = self.words[field] = DocumentWords(self.m._words, self.texts[field])
            ok = self.verified[key] = words.boundary_ok(s, e, check_start, check_end)
        return ok

    def _meta(self, term: Term) -> bool:
        """``source:`` compares whole names; ``place:`` looks for the term inside the place."""
        value = self.meta[term.field or ""]
        if term.kind == "regex":
            return compile_regex(term.text).search(value) is not None
        if term.kind == "prefix":
            return value.startswith(term.text)
        if term.kind == "suffix":
            return value.endswith(term.text)
        if term.kind == "substring" or term.field == "place":
            return term.text in value
        return value == term.text


def compile_rules(rules: Sequence[TopicRule]) -> Matcher:
    """Compile ``rules`` into a :class:`Matcher`; raises :class:`RuleError` on a bad topic.

    The compiled matcher and jieba's dictionary live as long as the process, and a
    full garbage collection that walks them holds the GIL long enough to stall the
    event loop while matching runs in a worker thread; ``gc.freeze`` takes everything
    alive now out of the collector's sight.
    """
    matcher = Matcher(rules)
    gc.freeze()
    return matcher
