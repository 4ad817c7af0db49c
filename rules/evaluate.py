"""Boolean evaluation of one topic's AST over the (already verified) hits of its terms.

Kept separate from automaton building so the semantics of AND/OR/NOT/NEAR can be
read (and tested) in one place: it returns not only *whether* a topic matched but
the hits and terms that made it match, which is what alerts highlight.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from rules.model import Hit
from rules.query import And, Near, Node, Not, Or, Term

AtomResolver = Callable[[Term], tuple[bool, list[Hit]]]
"""Gives a leaf's truth and hits; the matcher caches it per document."""

Result = tuple[bool, list[Hit], list[Term]]
_FALSE: Result = (False, [], [])


def evaluate(node: Node, atom: AtomResolver) -> Result:
    """Evaluate ``node``; on success return its contributing hits and terms.

    AND stops at the first false operand (exclusions are tried last, so excluded
    words are only verified when the rest already matched). OR evaluates every
    alternative so that all satisfied terms get highlighted.
    """
    if isinstance(node, Term):
        ok, leaf_hits = atom(node)
        return (True, leaf_hits, [node]) if ok else _FALSE
    if isinstance(node, Not):
        return (not evaluate(node.child, atom)[0], [], [])
    if isinstance(node, And):
        hits: list[Hit] = []
        terms: list[Term] = []
        ordered = sorted(node.children, key=lambda c: isinstance(c, Not))
        for child in ordered:
            ok, h, t = evaluate(child, atom)
            if not ok:
                return _FALSE
            hits += h
            terms += t
        return True, hits, terms
    if isinstance(node, Or):
        found: list[Hit] = []
        satisfied: list[Term] = []
        any_ok = False
        for child in node.children:
            ok, h, t = evaluate(child, atom)
            if ok:
                any_ok = True
                found += h
                satisfied += t
        return (True, found, satisfied) if any_ok else _FALSE
    return _near(node, atom)


def _near(node: Near, atom: AtomResolver) -> Result:
    """Both sides have a hit in the same field with at most ``distance`` characters between."""
    lok, lhits, lterms = evaluate(node.left, atom)
    if not lok:
        return _FALSE
    rok, rhits, rterms = evaluate(node.right, atom)
    if not rok:
        return _FALSE
    keep_l: dict[Hit, None] = {}
    keep_r: dict[Hit, None] = {}
    # sweep instead of all pairs: a 100,000-character article can hold 10,000 hits a side
    rsorted = sorted(rhits, key=lambda h: (h.field, h.start))
    rkeys = [(h.field, h.start) for h in rsorted]
    longest = max(h.end - h.start for h in rsorted)
    for a in lhits:
        lo = bisect.bisect_left(rkeys, (a.field, a.start - node.distance - longest))
        hi = bisect.bisect_right(rkeys, (a.field, a.end + node.distance))
        for b in rsorted[lo:hi]:
            gap = max(a.start, b.start) - min(a.end, b.end)
            if gap <= node.distance and a != b:
                keep_l[a] = None
                keep_r[b] = None
    if not keep_l:
        return _FALSE
    used = {h.term for h in (*keep_l, *keep_r)}
    terms = [t for t in (*lterms, *rterms) if t.label in used]
    return True, [*keep_l, *keep_r], terms
