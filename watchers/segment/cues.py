"""Typographic cues of Chinese newspaper pages: datelines, credits, markers, banners.

These are the conventions papers share (``本报X讯``, ``新华社X电``, ``■通讯员 … 摄``,
``（下转第2版）``), not the words of any one page, so they carry over to unseen pages.
"""

from __future__ import annotations

import re

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
_NAME = rf"[{_HAN}·]{{2,5}}"
_GAP = r"[ \t\u3000]"

# Sentence-final punctuation; a closing quote/bracket after one of them still ends.
TERMINAL = frozenset("。！？!?…")
_CLOSERS = frozenset("”’」』）)\"'》")
# Punctuation after which a sentence cannot have ended: the text was cut.
OPEN_ENDERS = frozenset("，、：；“‘「『（(《—,;:")
SENTENCE_PUNCT = re.compile(r"[，。；：！？、,;!?]")

_PAREN_CREDIT = r"(?:[（(][^）)\n]{0,60}[）)])"
DATELINE = re.compile(
    rf"^(?:"
    rf"本报(?P<p1>[{_HAN}]{{0,8}}?)(?:\d{{1,2}}月\d{{1,2}}日)?(?:讯|电)"
    rf"|(?:新华社|中新社|中新网|新华网)(?P<p2>[{_HAN}]{{2,8}}?)\d{{1,2}}月\d{{1,2}}日电"
    rf"|(?:据)?[{_HAN}]{{2,6}}(?:日报|晚报|新闻网|融媒)(?P<p3>[{_HAN}]{{0,6}}?)讯"
    rf")\s*{_PAREN_CREDIT}?"
)
# A credit line: who reported or photographed. Names are 2-5 Han characters.
_CREDIT_BODY = (
    rf"(?:本报|本刊)?(?:特约|见习)?(?:记者|通讯员|摄影|摄像|编辑|供稿)"
    rf"{_GAP}*{_NAME}(?:{_GAP}*[、，,/]?{_GAP}*(?:(?:记者|通讯员){_GAP}*)?{_NAME}){{0,6}}"
)
_SYMBOL = "■□▲△◆◇●○★☆◎"
CREDIT_LINE = re.compile(
    rf"^[{_SYMBOL}]?{_GAP}*{_CREDIT_BODY}{_GAP}*(?P<photo>[/／]?{_GAP}*摄(?:影)?)?$"
)
CREDIT_TAIL = re.compile(
    rf"(?:[{_SYMBOL}]{_GAP}*{_CREDIT_BODY}{_GAP}*(?:[/／]?{_GAP}*摄(?:影)?)?"
    rf"|{_CREDIT_BODY}{_GAP}*[/／]?{_GAP}*摄(?:影)?)$"
)
CONTINUATION = re.compile(
    r"[（(]\s*(?P<dir>下转|上接|转|接|续)\s*(?:第\s*)?(?P<page>[A-Za-z]?\s*\d{1,3})\s*(?:版|页)?"
    r"\s*[）)]"
)
_FURNITURE = re.compile(
    r"^(?:第?\s*[A-Za-z]?\d{1,3}\s*版|责任编辑|编辑|校对|美编|组版|版式|审读|电话|邮箱|E-?mail)"
    r"|星期[一二三四五六日天]|\d{4}年\d{1,2}月\d{1,2}日$",
    re.IGNORECASE,
)


def place_of(match: re.Match[str]) -> str:
    """The locality a dateline names (``本报金乡讯`` -> ``金乡``), empty for ``本报讯``."""
    return match.group("p1") or match.group("p2") or match.group("p3") or ""


def ends_sentence(text: str) -> bool:
    """True when ``text`` ends where a sentence may end (so a break after it is real)."""
    text = text.rstrip()
    while text and text[-1] in _CLOSERS:
        text = text[:-1]
    return bool(text) and text[-1] in TERMINAL


def is_furniture(text: str) -> bool:
    """Page number, date, editor lines: printed on the page, part of no item or banner."""
    return bool(_FURNITURE.search(text)) and len(text) <= 40


def is_banner(text: str) -> bool:
    """Section banners led by a symbol (``●政策发布平台``) and page furniture."""
    if text[:1] in _SYMBOL and not CREDIT_LINE.match(text):
        return len(text) <= 24
    return bool(_FURNITURE.search(text)) and len(text) <= 40


def looks_like_head(text: str, big: bool) -> bool:
    """Short and unpunctuated like a headline, kicker, subhead or banner.

    Headlines never end a sentence and rarely hold clause punctuation; a larger
    font (PDF) overrides the punctuation test.
    """
    compact = text.replace(" ", "").replace("\u3000", "")
    if big:
        return 1 <= len(compact) <= 60
    if not 2 <= len(compact) <= 40 or compact[0] in "（(":
        return False
    if compact[-1] in OPEN_ENDERS or "。" in compact or "；" in compact:
        return False
    if ends_sentence(compact) and SENTENCE_PUNCT.search(compact[:-1].rstrip("”’」』）)")):
        return False
    return compact.count("，") + compact.count(",") <= (1 if len(compact) <= 24 else 0)
