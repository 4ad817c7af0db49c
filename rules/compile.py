"""Compile all topics into one Aho-Corasick automaton plus per-topic boolean evaluation.

One pass of the automaton over a document finds every candidate hit for every topic
at once; only topics with a hit on one of their positive terms (or topics that must
always be looked at: regex, ``*``, metadata-only) are evaluated, and jieba only runs
on the clauses around hits that an evaluation actually needs verified.
"""

from __future__ import annotations

import bisect
import ctypes
import gc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick

from rules.evaluate import evaluate
from rules.model import Document, Hit, TopicMatch, TopicRule
from rules.normalize import ASTRAL, fold, match_form, normalize
from rules.query import And, Not, Query, QuerySyntaxError, Term, parse_query
from rules.regexes import compile_regex, regex_spans
from rules.wordcheck import DocumentWords, WordChecker, base_dictionary, is_latin

_SEARCHED = ("title", "text")
_AUTOMATON_KINDS = ("word", "substring", "prefix", "suffix")


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
    freq = base_dictionary().freq

    def key(pattern: str) -> list[int]:
        return [-freq(pattern[:k]) for k in range(1, len(pattern) + 1)]

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
    units = _code_units(text)
    wide_ends: list[int] = []
    if len(units) > 2 * len(text):  # unit offset after each pair:
        wide_ends = [m.start() + n + 2 for n, m in enumerate(ASTRAL.finditer(text))]
    ends: dict[int, list[int]] = {}
    for last_byte, pid in automaton.iter(units):
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


@dataclass(frozen=True)
class _Atom:
    """One automaton leaf as a topic searches it; topics that agree share its hits."""

    pid: int
    label: str
    fields: tuple[str, ...]  # title before text: hits come out in report order
    check_start: bool
    check_end: bool


@dataclass(frozen=True)
class MatcherPlan:
    """What compiling costs and a cache can keep: the automaton's patterns and word list.

    ``patterns`` are by pattern id, ``order`` is the automaton's insertion order
    (pattern ids), ``own_words`` the rule terms' jieba frequencies; all plain data
    (see :mod:`rules.cache`), never the automaton object itself.
    """

    patterns: tuple[str, ...]
    order: tuple[int, ...]
    own_words: tuple[tuple[str, float], ...]


def _simple_leaves(root: object) -> list[Term] | None:
    """The leaves of a topic that is one automaton term or an OR of them, else None.

    Such a topic matches exactly when one of its terms has a (verified) hit, with the
    hits of every such term: no boolean evaluation is needed per document.
    """
    leaves = [root] if isinstance(root, Term) else list(getattr(root, "children", ()))
    if isinstance(root, And):
        return None
    if leaves and all(
        isinstance(t, Term) and t.kind in _AUTOMATON_KINDS and t.field not in ("source", "place")
        for t in leaves
    ):
        return leaves  # type: ignore[return-value]
    return None


def _fits(plan: MatcherPlan, patterns: tuple[str, ...], word_terms: set[str]) -> bool:
    """A plan made for these patterns and word-mode terms (a stale cache entry is not)."""
    own = {t for t in word_terms if t and not all(is_latin(c) for c in t)}
    return (
        plan.patterns == patterns
        and sorted(plan.order) == list(range(len(patterns)))
        and [t for t, _ in plan.own_words] == sorted(own)
    )


class Matcher:
    """All topics compiled together. Immutable after construction except private caches.

    Build a new one when topics change (cheap: well under a second for 10,000
    topics once jieba's dictionary is loaded, less with a :class:`MatcherPlan` from
    the cache) and swap it in; nothing global changes.
    """

    def __init__(self, rules: Sequence[TopicRule], plan: MatcherPlan | None = None) -> None:
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
        atoms: list[_Atom] = []
        atom_ids: dict[tuple[object, ...], int] = {}
        self._term_atoms: dict[int, int] = {}  # id(Term node) -> atom id
        self._simple: list[tuple[int, ...] | None] = []
        for topic in topics:
            mode, fields = topic.rule.mode, topic.rule.fields
            for term, negated in _positive_leaves(topic.query.root):
                if term.kind not in _AUTOMATON_KINDS or term.field in ("source", "place"):
                    continue
                pid = pattern_ids.setdefault(term.text, len(pattern_ids))
                if not negated:
                    by_pattern.setdefault(pid, set()).add(topic.index)
                word = mode == "word" and term.kind != "substring"
                if word:
                    word_terms.add(term.text)
                searched = (term.field,) if term.field else fields
                atom = _Atom(
                    pid,
                    term.label,
                    tuple(f for f in _SEARCHED if f in searched),
                    word and term.kind in ("word", "prefix"),
                    word and term.kind in ("word", "suffix"),
                )
                aid = atom_ids.setdefault((atom,), len(atom_ids))
                if aid == len(atoms):
                    atoms.append(atom)
                self._term_atoms[id(term)] = aid
            leaves = _simple_leaves(topic.query.root)
            self._simple.append(
                None if leaves is None else tuple(self._term_atoms[id(t)] for t in leaves)
            )
        self._atoms = tuple(atoms)
        self._pattern_ids = pattern_ids
        self._lengths = [len(text) for text in pattern_ids]  # indexed by pattern id
        self._topics_by_pattern = {pid: sorted(ts) for pid, ts in by_pattern.items()}
        self._always = [t.index for t in topics if t.always]
        self._sources = [
            frozenset(normalize(s) for s in t.rule.sources) if t.rule.sources else _ANY
            for t in topics
        ]
        self._places = [tuple(fold(normalize(p)) for p in t.rule.places) for t in topics]

        patterns = tuple(pattern_ids)
        if plan is not None and _fits(plan, patterns, word_terms):
            order = list(plan.order)
            words = WordChecker(word_terms, list(plan.own_words))
        else:
            order = [pattern_ids[text] for text in _insertion_order(patterns)] if patterns else []
            words = WordChecker(word_terms)
        self.plan = MatcherPlan(patterns, tuple(order), tuple(words.own_words))
        self._automaton: ahocorasick.Automaton | None = None
        if patterns:
            automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
            for pid in order:
                automaton.add_word(_code_units(patterns[pid]), pid)
            automaton.make_automaton()
            self._automaton = automaton
        self._words = words

    def prepare(self) -> None:
        """Build the word-check dictionary now if it was left for first use (cached plan)."""
        if self._words.needs_dictionary:
            self._words.prepare()

    def match(self, doc: Document) -> list[TopicMatch]:
        """Topics ``doc`` matches, in rule order, each with its hits and satisfied terms."""
        return _DocMatch(self, doc).run()

    def match_many(self, docs: Iterable[Document]) -> list[list[TopicMatch]]:
        """:meth:`match` for each document, in input order."""
        return [self.match(doc) for doc in docs]


_EMPTY: tuple[Hit, ...] = ()
_ANY: frozenset[str] = frozenset()


def _report_order(hit: Hit) -> tuple[bool, int, int, str]:
    return (hit.field != "title", hit.start, hit.end, hit.term)


class _DocMatch:
    """State for matching one document: field texts, raw hits and verification caches."""

    def __init__(self, matcher: Matcher, doc: Document) -> None:
        self.m = matcher
        self.doc = doc
        self.texts = {"title": match_form(doc.title), "text": match_form(doc.text)}
        # field -> pattern id -> end offsets of raw (unverified) automaton hits
        self.raw: dict[str, dict[int, list[int]]] = {field: {} for field in _SEARCHED}
        self.words: dict[str, DocumentWords] = {}
        self.hits: dict[int, tuple[Hit, ...]] = {}  # atom id -> its verified hits
        self.atoms: dict[tuple[Term, str, tuple[str, ...]], tuple[bool, list[Hit]]] = {}
        self.meta = {"source": normalize(doc.source), "place": fold(normalize(doc.place))}

    def run(self) -> list[TopicMatch]:
        m = self.m
        automaton = m._automaton
        if automaton is not None:
            for field in _SEARCHED:
                text = self.texts[field]
                if text:
                    self.raw[field] = _automaton_hits(automaton, text)
        candidates: set[int] = set(m._always)
        topics_by_pattern = m._topics_by_pattern
        for pid in {*self.raw["title"], *self.raw["text"]}:
            candidates.update(topics_by_pattern.get(pid, ()))
        out: list[TopicMatch] = []
        for index in sorted(candidates):
            found = self._topic(index)
            if found is not None:
                out.append(found)
        return out

    def _topic(self, index: int) -> TopicMatch | None:
        m = self.m
        rule = m.rules[index]
        if rule.sources and self.meta["source"] not in m._sources[index]:
            return None
        if rule.places and not any(p in self.meta["place"] for p in m._places[index]):
            return None
        simple = m._simple[index]
        if simple is None:
            return self._evaluate(m.topics[index])
        if len(simple) == 1:  # one term: its hits are already unique and in report order
            hits = self._hits(simple[0])
            if not hits or len(hits) < rule.min_hits:
                return None
            return TopicMatch(rule.name, hits, (m._atoms[simple[0]].label,))
        satisfied = [aid for aid in simple if self._hits(aid)]
        if not satisfied:
            return None
        unique = sorted({h for aid in satisfied for h in self._hits(aid)}, key=_report_order)
        if len(unique) < rule.min_hits:
            return None
        labels = dict.fromkeys(m._atoms[aid].label for aid in satisfied)
        return TopicMatch(rule.name, tuple(unique), tuple(labels))

    def _evaluate(self, topic: _Topic) -> TopicMatch | None:
        """A boolean topic: its AST evaluated once, over hits cached per term."""
        rule = topic.rule
        term_atoms = self.m._term_atoms

        def atom(term: Term) -> tuple[bool, list[Hit]]:
            aid = term_atoms.get(id(term))
            if aid is not None:
                hits = self._hits(aid)
                return bool(hits), list(hits)
            key = (term, rule.mode, rule.fields)
            got = self.atoms.get(key)
            if got is None:
                got = self.atoms[key] = self._other_atom(term, rule.fields)
            return got

        ok, hits, terms = evaluate(topic.query.root, atom)
        if not ok:
            return None
        unique = sorted(set(hits), key=_report_order)
        if rule.min_hits > 1 and len(unique) < rule.min_hits:  # 1: `*`/metadata need no hit
            return None
        labels = list(dict.fromkeys(t.label for t in sorted(terms, key=lambda t: t.column)))
        return TopicMatch(rule.name, tuple(unique), tuple(labels))

    def _hits(self, aid: int) -> tuple[Hit, ...]:
        """Verified hits of an automaton atom, computed once per document."""
        got = self.hits.get(aid)
        if got is not None:
            return got
        atom = self.m._atoms[aid]
        size = self.m._lengths[atom.pid]
        label, check_start, check_end = atom.label, atom.check_start, atom.check_end
        hits: list[Hit] = []
        for field in atom.fields:
            ends = self.raw[field].get(atom.pid)
            if not ends:
                continue
            if check_start or check_end:
                ok = self._words(field).boundary_ok
                hits += [
                    Hit(e - size, e, label, field)
                    for e in ends
                    if ok(e - size, e, check_start, check_end)
                ]
            else:
                hits += [Hit(e - size, e, label, field) for e in ends]
        got = self.hits[aid] = tuple(hits) if hits else _EMPTY
        return got

    def _other_atom(self, term: Term, fields: tuple[str, ...]) -> tuple[bool, list[Hit]]:
        """A leaf the automaton does not find: ``*``, metadata, a regex."""
        if term.kind == "all":
            return True, []
        if term.field in ("source", "place"):
            return self._meta(term), []
        searched = (term.field,) if term.field else fields
        hits: list[Hit] = []
        label = term.label
        for field in searched:
            spans = regex_spans(term.text, self.texts[field])
            hits += [Hit(s, e, label, field) for s, e in spans]
        return bool(hits), hits

    def _words(self, field: str) -> DocumentWords:
        """The field's word checker, which caches its clauses' segmentations."""
        words = self.words.get(field)
        if words is None:
            words = self.words[field] = DocumentWords(self.m._words, self.texts[field])
        return words

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


def compile_rules(
    rules: Sequence[TopicRule], plan: MatcherPlan | None = None, *, defer_dictionary: bool = False
) -> Matcher:
    """Compile ``rules`` into a :class:`Matcher`; raises :class:`RuleError` on a bad topic.

    The compiled matcher and jieba's dictionary live as long as the process, and a
    full garbage collection that walks them holds the GIL long enough to stall the
    event loop while matching runs in a worker thread; ``gc.freeze`` takes everything
    alive now out of the collector's sight (after one collection, so that what is
    garbage now is freed rather than frozen, and that memory is handed back).
    ``plan`` (from :mod:`rules.cache`) skips the costly part of compiling when it was
    made for the same rules; the word-check dictionary is then loaded here too, unless
    ``defer_dictionary`` leaves it for the first word check (a one-off command). A
    daemon wants it now: loading it later, in the worker thread that matches, would
    hold the GIL long enough to stall the event loop.
    """
    matcher = Matcher(rules, plan)
    if not defer_dictionary:
        matcher.prepare()
    gc.collect()  # what compiling left behind, so it is not frozen for good
    gc.freeze()
    _return_freed_heap()
    return matcher


def _return_freed_heap() -> None:
    """Give the heap that loading the dictionary and compiling freed back to the system.

    glibc keeps freed memory for reuse, and a daemon never again needs the ~15 MB
    that parsing and building left behind. Elsewhere (no glibc) this does nothing.
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)
