"""Joining an article that continues on another page (``（下转第2版）`` … ``（上接第1版）``).

Decision: the first part (the head) becomes the whole article. Its text is the
parts joined in page order, so matching, the alert and near-duplicate search
see the full story; each later part is still stored as its own row (its URL
must stay known, or the next poll would fetch and join it again) in the head's
cluster, marked ``continuation_of``, and is not indexed for near-duplicates on
its own (nor matched, unless its head was stored, and matched, by an earlier run).

Parts are paired here once per run, against the batch's heads and the heads earlier
runs stored (``StoredHead``); storage then writes what was decided.

Parts are paired by page (the head's ``continued_to`` names the part's page, the
part's ``continued_from`` names the head's page) and, when several heads point
to the same page, by title: a continued part usually repeats the headline or a
shortened form of it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from watchers.article import ArticleDraft

_CN_DIGITS = {c: str(i) for i, c in enumerate("零一二三四五六七八九十")}
_PAGE = re.compile(r"([a-z]?)\s*0*([0-9]{1,3})")


def page_number(label: str) -> str:
    """A comparable page token: ``第02版`` → ``2``, ``（下转A3版）`` → ``a3``, ``第二版`` → ``2``.

    Watchers may give a page label or a whole marker; both reduce to the same token.
    """
    text = unicodedata.normalize("NFKC", label).casefold()
    text = "".join(_CN_DIGITS.get(c, c) for c in text)
    for junk in ("下转", "上接", "转", "接", "第", "版"):
        text = text.replace(junk, " ")
    found = _PAGE.search(text)
    return f"{found.group(1)}{found.group(2)}" if found else ""


def page_order(label: str) -> tuple[str, int]:
    """Sort key of a page label, so parts are joined front to back (1 → 2 → 3)."""
    token = page_number(label)
    digits = token.lstrip("abcdefghijklmnopqrstuvwxyz")
    return token[: len(token) - len(digits)], int(digits) if digits else 0


def _title_key(title: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", title).casefold())


def titles_agree(head: str, part: str) -> bool:
    """Same headline, or one a shortened form of the other (转版标题)."""
    a, b = _title_key(head), _title_key(part)
    return bool(a and b) and (a in b or b in a)


def continues(head_page: str, head_to: str, part_page: str, part_from: str) -> bool:
    """Whether the pages of a head and a part point at each other (unknown pages agree)."""
    to, here = page_number(head_to), page_number(part_page)
    back, there = page_number(part_from), page_number(head_page)
    return bool(to) and (not here or to == here) and (not there or not back or back == there)


def pick_head(
    part_title: str, part_page: str, part_from: str, heads: Sequence[tuple[str, str, str]]
) -> int | None:
    """Index of the head (title, page, continued_to) this part continues, if any.

    One head pointing at the part's page is enough; among several, the title decides.
    """
    fitting = [
        i for i, (_, page, to) in enumerate(heads) if continues(page, to, part_page, part_from)
    ]
    titled = [i for i in fitting if titles_agree(heads[i][0], part_title)]
    if titled:
        return titled[0]
    return fitting[0] if len(fitting) == 1 else None


def join_text(head: str, part: str) -> str:
    return f"{head.rstrip()}\n{part.lstrip()}"


@dataclass(frozen=True, slots=True)
class StoredHead:
    """A head an earlier run stored whose continuation has not arrived yet."""

    url: str
    title: str
    page: str
    continued_to: str
    root: str  # the chain's first part: the head itself, or the article it continues


def join_continuations(
    drafts: list[ArticleDraft], stored: Sequence[StoredHead] = ()
) -> dict[str, str]:
    """Pair every continued part with its head, in the batch or stored, in place.

    Batch heads get the joined text and ``parts`` (the parts' URLs); every joined part
    gets ``continuation_of`` (the chain's first part). Chains (1 → 2 → 3) join in
    order because a part that continues further is itself a head. Returns, for parts
    whose head is stored, part URL → stored head URL: storage extends that row when it
    stores the part (its text is in no batch draft).
    """
    by_url = {d.url: d for d in drafts}
    open_heads: list[ArticleDraft | StoredHead] = [d for d in drafts if d.continued_to]
    open_heads.extend(stored)
    into_stored: dict[str, str] = {}
    parts = [d for d in drafts if d.continued_from and not d.continuation_of]
    for part in sorted(parts, key=lambda d: page_order(d.continued_from)):
        candidates = [h for h in open_heads if h is not part]
        index = pick_head(
            part.title,
            part.page,
            part.continued_from,
            [(h.title, h.page, h.continued_to) for h in candidates],
        )
        if index is None:
            continue
        head = candidates[index]
        open_heads.remove(head)
        if isinstance(head, StoredHead):
            part.continuation_of = head.root
            into_stored[part.url] = head.url
            continue
        root = by_url.get(head.continuation_of) if head.continuation_of else head
        if root is None:  # the head itself continues a stored article
            part.continuation_of = head.continuation_of
            continue
        root.text = join_text(root.text, part.text)
        root.parts.append(part.url)
        part.continuation_of = root.url
    return into_stored
