"""Topic rules: interim keyword matcher (terms, OR, exclusions) behind the engine's interface."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rules.normalize import normalize


class QuerySyntaxError(ValueError):
    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column}")
        self.message = message
        self.column = column
        self.query = ""

    def render(self, prefix: str) -> str:
        return f"{prefix}: {self.message} at column {self.column}"


class RuleError(ValueError):
    pass


@dataclass(frozen=True)
class TopicRule:
    name: str
    query: str
    mode: Literal["word", "substring"] = "word"
    places: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    min_hits: int = 1
    fields: tuple[str, ...] = ("title", "text")


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    text: str
    source: str = ""
    place: str = ""


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    term: str
    field: str


@dataclass(frozen=True)
class TopicMatch:
    topic: str
    hits: tuple[Hit, ...]
    terms: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    include: tuple[str, ...]
    exclude: tuple[str, ...]


def parse_query(query: str) -> Query:
    tokens = [t for t in re.split(r"[\s()]+|\bOR\b|\|", query) if t]
    include = tuple(normalize(t) for t in tokens if not t.startswith("-"))
    exclude = tuple(normalize(t[1:]) for t in tokens if t.startswith("-") and len(t) > 1)
    if not include:
        raise QuerySyntaxError("query has no term to match", 1)
    return Query(include, exclude)


class Matcher:
    def __init__(self, rules: Sequence[TopicRule]) -> None:
        self._rules = [(rule, parse_query(rule.query)) for rule in rules]

    def match(self, doc: Document) -> list[TopicMatch]:
        fields = {"title": normalize(doc.title), "text": normalize(doc.text)}
        out = []
        for rule, query in self._rules:
            if any(t in fields[f] for t in query.exclude for f in rule.fields):
                continue
            hits = [
                Hit(m.start(), m.end(), term, f)
                for term in query.include
                for f in rule.fields
                for m in re.finditer(re.escape(term), fields[f])
            ]
            if hits:
                out.append(
                    TopicMatch(rule.name, tuple(hits), tuple(sorted({h.term for h in hits})))
                )
        return out

    def match_many(self, docs: Sequence[Document]) -> list[list[TopicMatch]]:
        return [self.match(doc) for doc in docs]


def compile_rules(rules: Sequence[TopicRule]) -> Matcher:
    return Matcher(rules)
