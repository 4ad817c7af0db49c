"""What of an article's text identifies the story, and its character shingles.

Copies of one press release differ in what surrounds the story: the dateline
(``本报嘉祥讯（通讯员 李超）`` vs ``新华社济南5月20日电``), bylines, photo captions,
continuation markers (``（下转第2版）``), editor lines and the site's footer. Those
are stripped line by line *before* the shared normalisation, because normalisation
joins lines between CJK characters and the line structure is what tells a caption
or footer from the body. Punctuation and spaces are dropped last, so a copy whose
punctuation was retouched still hashes and shingles the same.
"""

from __future__ import annotations

import re
import unicodedata
import zlib

import numpy as np

from rules.normalize import normalize

_NAMES = r"[\u4e00-\u9fff·]{2,4}(?:[ 、,，]+[\u4e00-\u9fff·]{2,4})*"
_ROLE = r"(?:本报|本台|本网)?(?:特约|见习|实习)?(?:记者|通讯员|实习生|摄影|摄影记者|编辑|作者)"
_MARK = r"[■□●◆▲△▼※☆★]"

# Continuation markers anywhere: （下转第2版）, (上接第A1版), 下转2版.
_CONTINUATION = re.compile(
    r"[(\[【]?\s*(?:下转|上接|转|接)\s*第?\s*[0-9a-z一二三四五六七八九十]{1,4}\s*版"
    r"[^()\[\]【】\n]{0,30}[)\]】]?"
)
# Datelines that open a paragraph: 本报嘉祥讯（…）, 新华社济南5月20日电（记者 …）.
_DATELINE = re.compile(
    r"^\s*(?:"
    r"(?:本报|本台|本网)[\u4e00-\u9fff0-9月日]{0,12}讯"
    r"|(?:新华社|中新社|中新网|人民网|大众网|央视网|新华网|中国新闻网)[\u4e00-\u9fff0-9 ]{0,16}电"
    r"|(?:据)?[\u4e00-\u9fff]{0,12}(?:消息|报道)[:：]"
    r")\s*(?:[(\[【][^()\[\]【】]{0,60}[)\]】])?\s*[:：,，]?"
)
# A bracketed byline alone: （记者 张三 通讯员 李四）, (文/图 王五).
_BRACKET_BYLINE = re.compile(
    rf"[(\[【]\s*(?:{_ROLE}|文|图|文/图|文图)\s*[/:：]?\s*{_NAMES}"
    rf"(?:\s*(?:{_ROLE}|文|图)\s*[/:：]?\s*{_NAMES})*\s*(?:摄|报道)?\s*[)\]】]"
)
# Whole lines that are not story: bylines, captions, editor and source lines, footers.
# The line-start alternatives are matched once at the start; the caption one only
# runs on lines with a mark (an unanchored alternation would try every position).
_NOISE_START = re.compile(
    rf"\s*{_MARK}?\s*(?:{_ROLE}|文|图|文/图|文图)\s*[/:：]?\s*{_NAMES}\s*(?:摄|报道)?\s*$"
    r"|\s*(?:图为|图片|▲|△|图[:：])"
    r"|\s*[(\[【]?\s*(?:责任编辑|编辑|审核|审校|校对|来源|稿源|供稿|作者|发布日期|发布时间|时间|点击数|浏览次数)\s*[:：]"
)
_NOISE_CAPTION = re.compile(rf"{_MARK}.{{0,40}}摄\s*$")
_MARKS = frozenset("■□●◆▲△▼※☆★")
# Site furniture, recognised by keywords only on short lines so body text survives.
_FOOTER = re.compile(
    r"版权所有|主办单位[:：]|主办[:：]|承办[:：]|技术支持|icp备|网站标识码|公网安备"
    r"|联系电话[:：]|联系我们|打印本页|关闭窗口|【字体|字号[:：]|分享到|扫一扫"
)
_NOT_TEXT = re.compile(r"[\W_]+")


# Full-width ASCII and the ideographic space, mapped to what NFKC makes of them
# before NFKC runs: the line is then usually already normal and NFKC's quick check
# returns at once instead of decomposing and recomposing every character.
_WIDE = {c: unicodedata.normalize("NFKC", chr(c)) for c in (0x3000, *range(0xFF01, 0xFF5F))}


def _noise_line(line: str) -> bool:
    return bool(
        _NOISE_START.match(line) or (not _MARKS.isdisjoint(line) and _NOISE_CAPTION.search(line))
    )


def strip_noise(text: str) -> str:
    """The story's own words: datelines, bylines, captions, markers and footers removed."""
    kept: list[str] = []
    for raw in text.splitlines():
        line = unicodedata.normalize("NFKC", raw.translate(_WIDE)).casefold()
        if "转" in line or "接" in line:
            line = _CONTINUATION.sub("", line)
        if (_noise_line(line) and len(line) < 200) or (_FOOTER.search(line) and len(line) < 100):
            continue
        line = _DATELINE.sub("", line, count=1)
        line = _BRACKET_BYLINE.sub("", line)
        if line.strip():
            kept.append(line)
    return "\n".join(kept)


def clean_text(text: str) -> str:
    """Noise stripped, then the shared normalisation, then only letters and digits.

    This string is what the content hash and the shingles are made of.
    """
    return letters(normalize(strip_noise(text)))


def letters(normalized: str) -> str:
    """Only letters and digits: punctuation retouched by an editor changes nothing."""
    return _NOT_TEXT.sub("", normalized)


def shingles(cleaned: str, size: int) -> set[int]:
    """Character ``size``-grams of a cleaned text as stable 32-bit hashes.

    CRC32 is stable across processes (unlike ``hash()``), so band keys and
    recomputed shingles agree after a restart and between instances. A text
    shorter than one shingle is one shingle of itself.
    """
    if not cleaned:
        return set()
    if len(cleaned) <= size:
        return {zlib.crc32(cleaned.encode())}
    return {zlib.crc32(cleaned[i : i + size].encode()) for i in range(len(cleaned) - size + 1)}


_POLY = np.uint64(0x9E3779B97F4A7C15)  # odd, so the polynomial never loses a character


def shingle_array(cleaned: str, size: int) -> np.ndarray:
    """The same ``size``-grams as :func:`shingles`, as sorted unique 64-bit hashes.

    Vectorised (one polynomial over the code points), so confirming a candidate
    costs a few numpy passes instead of a CRC32 call per shingle. Only compared
    with other arrays from this function; band keys still come from CRC32.
    """
    if not cleaned:
        return np.empty(0, dtype=np.uint64)
    points = np.frombuffer(cleaned.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    width = min(size, len(points))
    count = len(points) - width + 1
    hashes = points[:count].copy()
    for k in range(1, width):
        hashes *= _POLY
        hashes += points[k : k + count]
    return np.unique(hashes)
