"""One Hanweb JCMS article page: title, publication time, body and attachments.

Deployed Hanweb sites mark the body in several ways, often nested: ``<meta
name="ContentStart">`` … ``<meta name="ContentEnd">`` (any case, quoted or not, with
or without ``/``; 2010-era pages write ``<META name=ContentStart>``), the comments
``<!--ContentStart-->`` … ``<!--ContentEnd-->``, ``<!--ZJEG_RSS.content.begin-->`` …
``end-->`` and ``<!--<$[信息内容]>begin-->`` … ``end-->``. The innermost pair that
holds text wins; without markers the skins' containers are tried (``#zoom``,
``.zoom``, ``.bt-content``, ``.wip_art_con``, ``td.bt_content``). Title and time come
from ``<meta name="ArticleTitle">`` and ``<meta name="PubDate">`` (time of day kept),
else from the column record and a ``发布日期：`` line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from watchers.article import Attachment
from watchers.dates import parse_site_date
from watchers.htmltext import node_text, parse_html


def _meta(name: str) -> str:
    return rf"<meta\b[^>]*?\bname\s*=\s*[\"']?{name}\b[^>]*>"


# Innermost first: the first pair that encloses text is the body.
_MARKERS = tuple(
    (re.compile(start, re.I), re.compile(end, re.I))
    for start, end in (
        (_meta("ContentStart"), _meta("ContentEnd")),
        (r"<!--\s*ContentStart\s*-->", r"<!--\s*ContentEnd\s*-->"),
        (r"<!--\s*ZJEG_RSS\.content\.begin\s*-->", r"<!--\s*ZJEG_RSS\.content\.end\s*-->"),
        (r"<!--\s*<\$\[信息内容\]>\s*begin\s*-->", r"<!--\s*<\$\[信息内容\]>\s*end\s*-->"),
    )
)
CONTAINERS = ("#zoom", ".zoom", ".bt-content", ".wip_art_con", "td.bt_content")
NO_BODY = (
    "no body marker matched (ContentStart/ContentEnd, ZJEG_RSS.content, <$[信息内容]>) "
    "and no body container (" + ", ".join(CONTAINERS) + ")"
)
_PUBLISHED = re.compile(r"发布(?:日期|时间)\s*[:：]\s*([^<]{6,30})")
_ATTACHMENT = re.compile(r"\.(pdf|docx?|xlsx?|wps|et|zip|rar|7z|ofd|txt)$", re.I)
_DOWNLOAD = re.compile(r"/(?:module/download|attach)/", re.I)


@dataclass(slots=True)
class HanwebArticle:
    title: str
    text: str
    published: datetime | None
    attachments: list[Attachment] = field(default_factory=list)


def marked_body(html: str) -> str | None:
    """The HTML between the innermost body markers that enclose any text, else None."""
    for start, end in _MARKERS:
        for opening in start.finditer(html):
            closing = end.search(html, opening.end())
            if closing is None:
                break
            inner = html[opening.end() : closing.start()]
            if node_text(parse_html(inner).body):
                return inner
    return None


def _meta_content(tree: LexborHTMLParser, name: str) -> str:
    """``content`` of ``<meta name=…>``, the name matched in any case."""
    wanted = name.lower()
    for meta in tree.css("meta[name]"):
        if (meta.attributes.get("name") or "").strip().lower() == wanted:
            return (meta.attributes.get("content") or "").strip()
    return ""


def _body_node(html: str, tree: LexborHTMLParser) -> LexborNode | None:
    marked = marked_body(html)
    if marked is not None:
        return parse_html(marked).body
    for selector in CONTAINERS:
        node = tree.css_first(selector)
        if node is not None and node_text(node):
            return node
    return None


def parse_article(html: str, url: str) -> HanwebArticle:
    """Title, time, body text (empty when no body was found) and attachments."""
    tree = parse_html(html)
    body = _body_node(html, tree)
    attachments = []
    for anchor in body.css("a[href]") if body is not None else []:
        href = urljoin(url, (anchor.attributes.get("href") or "").strip())
        name = anchor.text(strip=True)
        # Files are linked directly or through a download script (downfile.jsp?filename=…).
        named = any(_ATTACHMENT.search(x) for x in (urlsplit(href).path, name))
        if named or _DOWNLOAD.search(href):
            attachments.append(Attachment(name, href))
    published = parse_site_date(_meta_content(tree, "PubDate"))
    if published is None and (line := _PUBLISHED.search(html)):
        published = parse_site_date(line.group(1))
    return HanwebArticle(
        title=_meta_content(tree, "ArticleTitle"),
        text=node_text(body),
        published=published,
        attachments=attachments,
    )
