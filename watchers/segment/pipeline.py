"""From paragraphs to page items: classify, find where items start, attach headlines.

Article boundaries come from what opens an item (dateline, byline before a body,
photo caption, ``（上接…）``), because those survive every layout; headlines are
only attached afterwards, which keeps subheads (short lines *inside* a body, never
next to an opener) in their article.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from watchers.segment.cues import (
    CONTINUATION,
    CREDIT_LINE,
    CREDIT_TAIL,
    DATELINE,
    is_banner,
    is_furniture,
    looks_like_head,
    place_of,
)
from watchers.segment.headlines import HeadLine, Headline, Overlap, head_words, plan
from watchers.segment.model import Block, PageItem, Para, Role
from watchers.segment.unwrap import unwrap

_OPENERS = (Role.DATELINE, Role.BYLINE, Role.PHOTO)
_HEADISH = (Role.HEAD, Role.BANNER)


@dataclass(slots=True)
class _Unit:
    kind: str
    paras: list[Para] = field(default_factory=list)
    continued_to: str = ""
    continued_from: str = ""

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.paras if p.role is not Role.BANNER and p.text)


def segment_blocks(blocks: list[Block]) -> list[PageItem]:
    """Articles and photos of one page (or a run of pages) laid out as ``blocks``."""
    paras = [p for p in unwrap(blocks) if p.text]
    if not paras:
        return []
    _mark_big(paras)
    for para in paras:
        _classify(para)
    paras = _resolve_credits(paras)
    units, groups = _cut(paras)
    return _assemble(units, groups)


def _mark_big(paras: list[Para]) -> None:
    """Flag paragraphs printed larger than the body text (known only for PDF input)."""
    sized = [(p.size, len(p.text)) for p in paras if p.size]
    if not sized:
        return
    sized.sort()
    half, acc, body = sum(n for _, n in sized) / 2, 0, sized[-1][0]
    for size, n in sized:
        acc += n
        if acc >= half:
            body = size
            break
    for para in paras:
        para.big = bool(para.size) and para.size is not None and para.size > body * 1.12


def _classify(para: Para) -> None:
    """Record continuation markers, then decide the paragraph's role."""
    for match in CONTINUATION.finditer(para.text):
        page = match.group("page").replace(" ", "")
        if match.group("dir") in ("下转", "转"):
            para.continued_to = page
        else:
            para.continued_from = page
    text = CONTINUATION.sub("", para.text).strip()
    para.text = text
    if not text:
        para.role = Role.MARKER
    elif dateline := DATELINE.match(text):
        para.role, para.place = Role.DATELINE, place_of(dateline)
    elif CREDIT_LINE.match(text):
        para.role = Role.CREDIT
    elif (tail := CREDIT_TAIL.search(text)) and tail.start() >= 4:
        para.role = Role.PHOTO
    elif is_banner(text):
        para.role = Role.BANNER
    elif looks_like_head(text, para.big):
        para.role = Role.HEAD


def _resolve_credits(paras: list[Para]) -> list[Para]:
    """A lone credit line is a byline when a body follows it, else it closes a photo caption."""
    out: list[Para] = []
    for i, para in enumerate(paras):
        if para.role is not Role.CREDIT:
            out.append(para)
            continue
        match = CREDIT_LINE.match(para.text)
        photo = bool(match and match.group("photo"))
        nxt = next((p for p in paras[i + 1 :] if p.role is not Role.MARKER), None)
        if not photo and nxt is not None and nxt.role is Role.BODY:
            para.role = Role.BYLINE
            out.append(para)
        elif out and out[-1].role in (Role.BODY, Role.HEAD):
            caption = out[-1]
            caption.role = Role.PHOTO
            caption.text = f"{caption.text}\n{para.text}"
        else:
            para.role = Role.PHOTO
            out.append(para)
    return out


def _starts(paras: list[Para]) -> list[int]:
    """Indices of paragraphs that open an item.

    Beyond explicit openers, a body opens an article when nothing before it does:
    at the page top, after a ``（上接…）`` marker, after a photo, or after a headline
    group too big to be a subhead (two or more lines, or a large font).
    """
    explicit = any(p.role in _OPENERS for p in paras)
    starts: list[int] = []
    pending_marker = False
    for i, para in enumerate(paras):
        if para.role is Role.MARKER:
            pending_marker = pending_marker or bool(para.continued_from)
            continue
        opens_body = para.role is Role.BODY and (
            pending_marker or bool(para.continued_from) or _opens_implicitly(paras, i, explicit)
        )
        if para.role in _OPENERS or opens_body:
            starts.append(i)
        if para.role is not Role.HEAD and para.role is not Role.BANNER:
            pending_marker = False
    return starts


def _opens_implicitly(paras: list[Para], i: int, explicit: bool) -> bool:
    j, heads, big = i - 1, 0, False
    while j >= 0 and paras[j].role in (*_HEADISH, Role.MARKER):
        heads += paras[j].role is Role.HEAD
        big = big or paras[j].big
        j -= 1
    if j < 0:
        return True
    if heads == 0:
        return False
    return not explicit or heads >= 2 or big or paras[j].role is Role.PHOTO


def _cut(paras: list[Para]) -> tuple[list[_Unit], list[list[Para]]]:
    """Units (items) and the headline-like groups between them.

    ``groups[k]`` is the run of short lines right before unit k's opener;
    ``groups[len(units)]`` the run closing the page.
    """
    starts = _starts(paras)
    if not starts:
        return [], [paras]
    headish = (*_HEADISH, Role.MARKER)
    group_starts: list[int] = []
    for n, start in enumerate(starts):
        floor, g = (starts[n - 1] + 1 if n else 0), start
        while g > floor and paras[g - 1].role in headish:
            g -= 1
        group_starts.append(g)
    end = len(paras)
    while end > starts[-1] + 1 and paras[end - 1].role in headish:
        end -= 1
    units: list[_Unit] = []
    groups: list[list[Para]] = []
    for n, start in enumerate(starts):
        stop = group_starts[n + 1] if n + 1 < len(starts) else end
        kind = "photo" if paras[start].role is Role.PHOTO else "article"
        units.append(_Unit(kind, paras[start:stop]))
        groups.append(paras[group_starts[n] : start])
    groups.append(paras[end:])
    _rehome_orphans(units, groups)
    _split_briefs(units, groups)
    for unit in units:
        for para in unit.paras:
            unit.continued_to = para.continued_to or unit.continued_to
            unit.continued_from = para.continued_from or unit.continued_from
    for k, group in enumerate(groups):
        for para in group:
            if para.continued_from and k < len(units):
                units[k].continued_from = para.continued_from
            if para.continued_to and k:
                units[k - 1].continued_to = para.continued_to
    return units, groups


def _rehome_orphans(units: list[_Unit], groups: list[list[Para]]) -> None:
    """Body text after a photo caption goes back to the article the photo interrupted."""
    k = 0
    while k < len(units):
        unit = units[k]
        if unit.kind == "photo" and len(unit.paras) > 1:
            orphans = unit.paras[1:]
            unit.paras = unit.paras[:1]
            if k and units[k - 1].kind == "article":
                units[k - 1].paras.extend(orphans)
            else:
                units.insert(k + 1, _Unit("article", orphans))
                groups.insert(k + 1, [])
        k += 1


def _split_briefs(units: list[_Unit], groups: list[list[Para]]) -> None:
    """On a page of briefs (简讯), a one-line headline inside a unit opens the next brief.

    Briefs often carry no dateline, so nothing opens them but their headline, which
    looks just like a subhead. The page's habit decides: where the articles that hold
    no such line are single paragraphs, a line whose words recur in the paragraph
    after it (and not before it) is the next brief's headline, not a subhead.
    """
    plain = [
        sum(p.role is not Role.HEAD for p in u.paras)
        for u in units
        if u.kind == "article" and not any(p.role is Role.HEAD for p in u.paras)
    ]
    if len(plain) < 2 or sorted(plain)[len(plain) // 2] > 1:
        return
    k = 0
    while k < len(units):
        unit = units[k]
        cut = _brief_cut(unit.paras) if unit.kind == "article" else None
        if cut is not None:
            head, rest = unit.paras[cut], unit.paras[cut + 1 :]
            unit.paras = unit.paras[:cut]
            units.insert(k + 1, _Unit("article", rest))
            groups.insert(k + 1, [head])
        k += 1


def _brief_cut(paras: list[Para]) -> int | None:
    """Index of a lone headline line between two one-paragraph briefs, if any.

    Its words recur on one side only: after it on pages printing headlines first,
    before it on pages printing them after the body; the headline stage decides which.
    """
    for j in range(1, len(paras) - 1):
        head = paras[j]
        if head.role is not Role.HEAD or paras[j - 1].role is Role.HEAD:
            continue
        if paras[j + 1].role is not Role.BODY:
            continue
        if not _one_paragraph(paras[:j][::-1]) or not _one_paragraph(paras[j + 1 :]):
            continue  # a section of a longer story: a subhead
        words = head_words(head.text)
        if not words:
            continue
        ahead = sum(w in paras[j + 1].text for w in words) / len(words)
        behind = sum(w in paras[j - 1].text for w in words) / len(words)
        if max(ahead, behind) >= 0.5 and abs(ahead - behind) >= 0.3:
            return j
    return None


def _one_paragraph(paras: list[Para]) -> bool:
    """Whether the run (read outwards from a headline) is one paragraph up to a headline."""
    return len(paras) == 1 or paras[1].role is Role.HEAD


def _assemble(units: list[_Unit], groups: list[list[Para]]) -> list[PageItem]:
    """Attach headlines to units, note the banners in force, build the page items."""
    takes = [u.kind == "article" for u in units]
    overlap = Overlap([u.text if take else None for u, take in zip(units, takes, strict=True)])
    gaps = [
        [HeadLine(p.text, tuple(p.lines), p.size) for p in g if p.role is Role.HEAD] for g in groups
    ]
    chosen = plan(gaps, takes, overlap)
    items: list[PageItem] = []
    banner = ""
    for k, unit in enumerate(units):
        symbols = [p.text for p in groups[k] if p.role is Role.BANNER and not is_furniture(p.text)]
        if lines := symbols + chosen.banners[k]:
            banner = "\n".join(lines)
        text = unit.text
        if not text:
            continue
        opener = unit.paras[0]
        head = chosen.heads.get(k)
        items.append(
            PageItem(
                kind=unit.kind,
                kicker=head.kicker if head else "",
                title=head.title if head else "",
                place=opener.place if opener.role is Role.DATELINE else "",
                text=text,
                continued_to=unit.continued_to,
                continued_from=unit.continued_from,
                subtitle=head.subtitle if head else "",
                banner=banner,
                confidence=_confidence(unit, head),
            )
        )
    return items


def _confidence(unit: _Unit, head: Headline | None) -> float:
    """Photos are sure when a credit closes the caption; articles as sure as their headline."""
    if unit.kind == "photo":
        return 1.0 if CREDIT_TAIL.search(unit.paras[0].text) else 0.7
    return head.confidence if head else 0.2
