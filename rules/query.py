"""Topic query language: tokenizer and recursive-descent parser producing an AST.

Grammar (lowest precedence first; adjacent operands mean AND)::

    query   := or
    or      := and (("OR" | "|") and)*
    and     := near (["AND"] near)*
    near    := unary ("NEAR/n" unary)*
    unary   := ("-" | "NOT") unary | primary
    primary := "(" or ")" | [FIELD ":"] (atom | "(" or ")")
    atom    := word | "phrase" | *sub* | pre* | *suf | /regex/ | *

Precedence follows ordinary boolean logic (NOT > NEAR > AND > OR), so
``A B OR C`` is ``(A AND B) OR C``; docs/rules.md tells users to bracket.
Every error carries the 1-based column in the raw query so config loading can
point at it with a caret.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from rules.normalize import fold, normalize
from rules.regexes import RegexError, compile_regex

FIELDS = ("title", "text", "source", "place")
"""Field prefixes: ``title``/``text`` are searched; ``source``/``place`` filter on metadata."""

TermKind = Literal["word", "substring", "prefix", "suffix", "regex", "all"]


class QuerySyntaxError(ValueError):
    """A query the parser rejects; ``column`` is 1-based in the raw query."""

    def __init__(self, message: str, column: int, query: str = "") -> None:
        super().__init__(f"{message} at column {column}")
        self.message = message
        self.column = column
        self.query = query

    def render(self, prefix: str = "query") -> str:
        """One-line message, then the query, then a caret under the column.

        The caret is padded by display width so it lines up under wide CJK text.
        """
        shown = self.query.replace("\n", " ").replace("\t", " ")
        pad = sum(
            2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in shown[: self.column - 1]
        )
        return f"{prefix}: {self.message} at column {self.column}\n{shown}\n{' ' * pad}^"


@dataclass(frozen=True)
class Term:
    """A leaf. ``text`` is in match form (normalised + folded); ``field`` None = default fields."""

    kind: TermKind
    text: str
    field: str | None
    column: int

    @functools.cached_property
    def label(self) -> str:
        """How the term is shown in hits and explanations (close to what the user typed)."""
        body = {
            "word": self.text if re.fullmatch(r"[^\s()\"|*/:-]+", self.text) else f'"{self.text}"',
            "substring": f"*{self.text}*",
            "prefix": f"{self.text}*",
            "suffix": f"*{self.text}",
            "regex": f"/{self.text}/",
            "all": "*",
        }[self.kind]
        return f"{self.field}:{body}" if self.field else body


@dataclass(frozen=True)
class Not:
    child: Node
    column: int


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Near:
    left: Node
    right: Node
    distance: int


Node = Term | Not | And | Or | Near


@dataclass(frozen=True)
class Query:
    """A parsed query: the AST root and its leaves in source order."""

    source: str
    root: Node
    terms: tuple[Term, ...] = field(default=())


# --- tokenizer -------------------------------------------------------------------------

_OPEN = "(（"
_CLOSE = ")）"
_BAR = "|｜"
_QUOTES = {'"': '"', "“": "”", "＂": "＂"}
_MINUS = "-－"
_STOP = set(_OPEN + _CLOSE + _BAR + "".join(_QUOTES)) | {" ", "\t", "\n", "\r", "\u3000"}
_OPENERS = _OPEN + "".join(_QUOTES)  # may follow "-" or "field:" directly
_NEAR = re.compile(r"NEAR/(\d+)")
_FIELD = re.compile(r"(title|text|source|place)[:：]", re.IGNORECASE)
MAX_DEPTH = 50
"""Brackets, exclusions and NEAR operands nested deeper than this are refused with one
clear error: every walk over the query tree recurses, and a pasted or generated query
200 brackets deep would otherwise end in a RecursionError (or thousands of traceback
lines on a config reload)."""


@dataclass(frozen=True)
class _Tok:
    kind: str  # LP RP OR AND NOT NEAR FIELD TERM
    value: str
    column: int
    distance: int = 0
    term: Term | None = None


def _err(message: str, index: int, query: str) -> QuerySyntaxError:
    return QuerySyntaxError(message, index + 1, query)


def _term(kind: TermKind, raw: str, index: int, query: str) -> Term:
    text = raw if kind == "regex" else fold(normalize(raw))
    if kind == "regex":
        try:
            compile_regex(fold(raw))
        except RegexError as exc:
            raise _err(str(exc), index, query) from None
        text = fold(raw)
    elif not text:
        raise _err("empty term", index, query)
    return Term(kind, text, None, index + 1)


def _tokenize(query: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch in " \t\n\r\u3000":
            i += 1
        elif ch in _OPEN:
            toks.append(_Tok("LP", ch, i + 1))
            i += 1
        elif ch in _CLOSE:
            toks.append(_Tok("RP", ch, i + 1))
            i += 1
        elif ch in _BAR:
            toks.append(_Tok("OR", ch, i + 1))
            i += 1
        elif ch in _QUOTES:
            end = query.find(_QUOTES[ch], i + 1)
            if end < 0:
                raise _err(f"unterminated phrase {ch}", i, query)
            toks.append(_Tok("TERM", ch, i + 1, term=_term("word", query[i + 1 : end], i, query)))
            i = end + 1
        elif ch == "/":
            j = i + 1
            while j < n and query[j] != "/":
                j += 2 if query[j] == "\\" else 1
            if j >= n:
                raise _err("unterminated /regex/", i, query)
            if j == i + 1:
                raise _err("empty /regex/", i, query)
            toks.append(_Tok("TERM", "/", i + 1, term=_term("regex", query[i + 1 : j], i, query)))
            i = j + 1
        elif ch in _MINUS:
            if i + 1 >= n or (query[i + 1] in _STOP and query[i + 1] not in _OPENERS):
                raise _err(f'"{ch}" must be followed directly by a term to exclude', i, query)
            toks.append(_Tok("NOT", ch, i + 1))
            i += 1
        else:
            fm = _FIELD.match(query, i)
            if fm and fm.end() < n and query[fm.end()] not in _STOP - set(_OPENERS):
                toks.append(_Tok("FIELD", fm.group(1).lower(), i + 1))
                i = fm.end()
                continue
            if fm:
                raise _err(f'"{fm.group(0)}" needs a term right after it', i, query)
            j = i
            while j < n and query[j] not in _STOP:
                j += 1
            toks.append(_word(query[i:j], i, query))
            i = j
    return toks


def _word(word: str, index: int, query: str) -> _Tok:
    """Classify a bare word: operator keyword, NEAR/n, wildcard form or plain term."""
    if word in ("AND", "OR", "NOT"):
        return _Tok(word, word, index + 1)
    if word in ("and", "or", "not"):
        raise _err(
            f'lowercase "{word}": write {word.upper()} for the operator, '
            f'or "{word}" to search the word',
            index,
            query,
        )
    near = _NEAR.fullmatch(word)
    if near:
        return _Tok("NEAR", word, index + 1, distance=int(near.group(1)))
    if word.startswith("NEAR"):
        raise _err("NEAR needs a distance in characters, e.g. NEAR/10", index, query)
    if word == "*":
        return _Tok("TERM", word, index + 1, term=Term("all", "", None, index + 1))
    lead, trail = word.startswith("*"), word.endswith("*")
    core = word[1 if lead else 0 : len(word) - 1 if trail else len(word)]
    if "*" in core:
        at = index + (1 if lead else 0) + core.index("*")
        raise _err('"*" is only allowed at the start or end of a term', at, query)
    kind: TermKind = (
        "substring" if lead and trail else "suffix" if lead else "prefix" if trail else "word"
    )
    return _Tok("TERM", word, index + 1, term=_term(kind, core, index, query))


# --- parser ----------------------------------------------------------------------------


class _Parser:
    def __init__(self, query: str, toks: list[_Tok]) -> None:
        self.query = query
        self.toks = toks
        self.pos = 0
        self.depth = 0

    def deeper(self, tok: _Tok) -> None:
        if self.depth + 1 > MAX_DEPTH:
            raise self.err(f"query nested deeper than {MAX_DEPTH}", tok.column)

    def peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def err(self, message: str, column: int) -> QuerySyntaxError:
        return QuerySyntaxError(message, column, self.query)

    def end_column(self) -> int:
        return len(self.query.rstrip()) + 1

    def parse(self) -> Node:
        node = self.or_()
        tok = self.peek()
        if tok is not None:
            if tok.kind == "RP":
                raise self.err(f'unbalanced "{tok.value}"', tok.column)
            raise self.err(f'unexpected "{tok.value}"', tok.column)
        return node

    def or_(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.kind == "OR":
            raise self.err("OR needs a term before it", tok.column)
        items = [self.and_()]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.pos += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "RP", "AND", "NEAR"):
                raise self.err("OR needs a term after it", tok.column)
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self) -> Node:
        items = [self.near()]
        while (tok := self.peek()) is not None and tok.kind not in ("OR", "RP"):
            if tok.kind == "AND":
                self.pos += 1
                nxt = self.peek()
                if nxt is None or nxt.kind in ("OR", "RP", "AND", "NEAR"):
                    raise self.err("AND needs a term after it", tok.column)
            items.append(self.near())
        return items[0] if len(items) == 1 else And(tuple(items))

    def near(self) -> Node:
        left = self.unary()
        chain = 0
        while (tok := self.peek()) is not None and tok.kind == "NEAR":
            # NEAR nests to the left, (A NEAR B) NEAR C, so each link is one level deeper.
            self.deeper(tok)
            self.depth += 1
            chain += 1
            self.pos += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "RP", "AND", "NEAR"):
                raise self.err("NEAR needs a term after it", tok.column)
            right = self.unary()
            for side in (left, right):
                if _has_not(side):
                    raise self.err("NEAR cannot take an exclusion as operand", tok.column)
            left = Near(left, right, tok.distance)
        self.depth -= chain
        return left

    def unary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise self.err("query ends where a term was expected", self.end_column())
        if tok.kind == "NOT":
            self.pos += 1
            if self.peek() is None:
                raise self.err(f'"{tok.value}" needs a term after it', tok.column)
            self.deeper(tok)
            self.depth += 1
            child = self.unary()
            self.depth -= 1
            return Not(child, tok.column)
        return self.primary(None)

    def primary(self, field: str | None) -> Node:
        tok = self.peek()
        assert tok is not None
        if tok.kind == "FIELD":
            if field is not None:
                raise self.err("field prefixes cannot be nested", tok.column)
            self.pos += 1
            return self.primary(tok.value)
        if tok.kind == "LP":
            self.pos += 1
            nxt = self.peek()
            if nxt is not None and nxt.kind == "RP":
                raise self.err("empty parentheses", tok.column)
            self.deeper(tok)
            self.depth += 1
            inner = self.or_() if field is None else _scope(self.or_(), field)
            self.depth -= 1
            close = self.peek()
            if close is None or close.kind != "RP":
                raise self.err(f'unbalanced "{tok.value}"', tok.column)
            self.pos += 1
            return inner
        if tok.kind == "TERM":
            self.pos += 1
            assert tok.term is not None
            return _scope(tok.term, field) if field else tok.term
        if tok.kind == "RP":
            raise self.err(f'unbalanced "{tok.value}"', tok.column)
        raise self.err(f"{tok.value} needs a term before it", tok.column)


def _scope(node: Node, field: str) -> Node:
    """Apply a field prefix to every leaf below ``node`` (``title:(A OR B)``)."""
    if isinstance(node, Term):
        return Term(node.kind, node.text, node.field or field, node.column)
    if isinstance(node, Not):
        return Not(_scope(node.child, field), node.column)
    if isinstance(node, Near):
        return Near(_scope(node.left, field), _scope(node.right, field), node.distance)
    return type(node)(tuple(_scope(c, field) for c in node.children))


def _has_not(node: Node) -> bool:
    if isinstance(node, Not):
        return True
    if isinstance(node, Term):
        return False
    if isinstance(node, Near):
        return _has_not(node.left) or _has_not(node.right)
    return any(_has_not(c) for c in node.children)


def _first_column(node: Node) -> int:
    if isinstance(node, Term | Not):
        return node.column
    if isinstance(node, Near):
        return _first_column(node.left)
    return _first_column(node.children[0])


def _positive(node: Node) -> bool:
    """True when ``node`` can only be satisfied through some non-excluded term.

    The matcher relies on this: a topic is only evaluated for documents in which one
    of its positive terms was found, which is what keeps 10,000 topics cheap.
    """
    if isinstance(node, Term | Near):
        return True
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(_positive(c) for c in node.children)
    return all(_positive(c) for c in node.children)


def _leaves(node: Node) -> list[Term]:
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return _leaves(node.child)
    if isinstance(node, Near):
        return _leaves(node.left) + _leaves(node.right)
    return [t for c in node.children for t in _leaves(c)]


# One bare word, the commonest query by far (10,000 of them in an imported keyword
# file): no character that starts or ends a token, no wildcard, no field prefix.
_PLAIN = re.compile(
    f"[^{re.escape(''.join(_STOP) + '/*' + _MINUS)}][^{re.escape(''.join(_STOP) + '*')}]*"
)


def _keyword(word: str) -> bool:
    """Operator words and ``NEAR…``: the parser has a meaning or an error for them."""
    return word.upper() in ("AND", "OR", "NOT") or word.startswith("NEAR")


def parse_query(query: str) -> Query:
    """Parse ``query`` or raise :class:`QuerySyntaxError` with the offending column.

    A query made only of exclusions (``-招聘``) is rejected: it would match every
    article that lacks the word, which is almost never what the author meant
    (TrendRadar #394). Write ``* -招聘`` to really mean "everything except".
    """
    if not query.strip():
        raise QuerySyntaxError("empty query", 1, query)
    if _PLAIN.fullmatch(query) and not _FIELD.match(query) and not _keyword(query):
        term = _term("word", query, 0, query)  # what tokenizing and parsing it would give
        return Query(query, term, (term,))
    root = _Parser(query, _tokenize(query)).parse()
    for node in _or_nodes(root):
        for child in node.children:
            if not _positive(child):
                raise QuerySyntaxError(
                    "an OR alternative made only of exclusions would match almost every "
                    "article; move the exclusion outside the OR",
                    _first_column(child),
                    query,
                )
    if not _positive(root):
        raise QuerySyntaxError(
            "query has only exclusions, so by itself it matches nothing useful; add a "
            "term to look for, or write * -WORD to mean every article without WORD",
            _first_column(root),
            query,
        )
    return Query(query, root, tuple(_leaves(root)))


def _or_nodes(node: Node) -> list[Or]:
    if isinstance(node, Term):
        return []
    if isinstance(node, Not):
        return _or_nodes(node.child)
    if isinstance(node, Near):
        return _or_nodes(node.left) + _or_nodes(node.right)
    own = [node] if isinstance(node, Or) else []
    return own + [o for c in node.children for o in _or_nodes(c)]
