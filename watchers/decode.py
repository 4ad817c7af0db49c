"""Bytes → text for Chinese sites whose declared encodings are often missing or wrong.

Order: BOM → HTTP charset → ``<meta charset>`` → strict UTF-8 → GB18030. Every
GB2312/GBK label is read as GB18030 (a superset: rare name characters such as 镕
and 喆 sit outside GB2312). A decode that yields replacement characters or
mojibake is a wrong guess, so the next candidate is tried: a legacy label on bytes
that are valid multi-byte UTF-8 (GB18030 would "succeed" on them, producing 鍙戝竷
garbage), or a single-byte codec (latin-1 is a common lie) turning Chinese bytes
into runs of accented Latin letters.
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_CHINESE_LEGACY = {"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "ms936", "euc-cn", "gb18030"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def canonical_encoding(label: str | None) -> str | None:
    """A Python codec name for a declared label, or None if unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _CHINESE_LEGACY:
        return "gb18030"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return "gb18030" if name in {"gb2312", "gbk"} else name


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*([^\s;]+)", content_type, re.I)
    return match.group(1) if match else None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _looks_wrong(text: str, encoding: str, data_is_utf8: bool) -> bool:
    """Mojibake checks for a decode that raised no error."""
    if "\ufffd" in text:
        return True
    if encoding == "utf-8" or text.isascii():
        return False
    if data_is_utf8:
        # Non-ASCII bytes that form valid UTF-8 are UTF-8; no Chinese legacy text does by chance.
        return True
    latin = sum(1 for ch in text if "\x80" <= ch <= "\xff")
    return latin >= 4 and latin * 3 > sum(1 for ch in text if not ch.isascii())


def _try(data: bytes, encoding: str, data_is_utf8: bool) -> str | None:
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    return None if _looks_wrong(text, encoding, data_is_utf8) else text


def decode(data: bytes, *, content_type: str | None = None, override: str | None = None) -> str:
    """Decode ``data`` by the first plausible candidate; never raises."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    head = data[:4096]
    declared = [
        override,
        charset_from_content_type(content_type),
        *(m.group(1).decode("ascii", "replace") for m in (_META_CHARSET.search(head),) if m),
        *(m.group(1).decode("ascii", "replace") for m in (_XML_ENCODING.search(head),) if m),
    ]
    candidates: list[str] = []
    for label in declared:
        known = canonical_encoding(label)
        if known and known not in candidates:
            candidates.append(known)
    data_is_utf8 = not data.isascii() and _is_utf8(data)
    for encoding in (*candidates, "utf-8", "gb18030"):
        text = _try(data, encoding, data_is_utf8)
        if text is not None:
            return text
    return data.decode(candidates[0] if candidates else "utf-8", errors="replace")
