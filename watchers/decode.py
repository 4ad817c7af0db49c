"""Bytes → text for Chinese sites whose declared encodings are often missing or wrong.

Order: BOM → HTTP charset → ``<meta charset>`` → strict UTF-8 → GB18030. Every
GB2312/GBK label is read as GB18030 (a superset: rare name characters such as 镕
and 喆 sit outside GB2312). A decode that yields replacement characters or
mojibake is a wrong guess, so the next candidate is tried: a legacy label on bytes
that are valid multi-byte UTF-8 (GB18030 would "succeed" on them, producing 鍙戝竷
garbage), or a single-byte codec (latin-1 is a common lie) turning Chinese bytes
into runs of accented Latin letters.

Page text fed to the segmenter asks for ``reject_binary``: bytes that decode only
into control characters or private-use code points are a PDF, an image or a wrong
guess, and raise :class:`NotText` rather than being segmented as noise.
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_CHINESE_LEGACY = {"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "ms936", "euc-cn", "gb18030"}
_ALLOWED_CONTROLS = frozenset("\n\r\t\x0c")
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


class NotText(ValueError):
    """``reject_binary`` was asked and no candidate encoding yields text."""


def looks_like_text(text: str) -> bool:
    """Few control, private-use or unassigned-looking characters: real text."""
    if not text:
        return True
    sample = text[:200_000]
    bad = sum(
        1
        for ch in sample
        if (ch < " " and ch not in _ALLOWED_CONTROLS)
        or "\ue000" <= ch <= "\uf8ff"
        or ch in "\ufffd\x7f"
        or "\x80" <= ch <= "\x9f"
    )
    return bad <= len(sample) * 0.01


def _try(data: bytes, encoding: str, data_is_utf8: bool, reject_binary: bool) -> str | None:
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    if _looks_wrong(text, encoding, data_is_utf8):
        return None
    return None if reject_binary and not looks_like_text(text) else text


def decode(
    data: bytes,
    *,
    content_type: str | None = None,
    override: str | None = None,
    reject_binary: bool = False,
) -> str:
    """Decode ``data`` by the first plausible candidate.

    Never raises unless ``reject_binary`` is set; then :class:`NotText` when no
    candidate gives text (the caller names the file).
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            decoded = data[len(bom) :].decode(encoding, errors="replace")
            if reject_binary and not looks_like_text(decoded):
                raise NotText("binary content after a byte-order mark")
            return decoded
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
    tried = list(dict.fromkeys((*candidates, "utf-8", "gb18030")))
    for encoding in tried:
        text = _try(data, encoding, data_is_utf8, reject_binary)
        if text is not None:
            return text
    if reject_binary:
        raise NotText("binary, or text in none of " + ", ".join(tried))
    return data.decode(candidates[0] if candidates else "utf-8", errors="replace")
