"""Readable text out of HTML nodes: paragraphs kept, scripts and styles dropped."""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

_BLOCK_TAGS = "p, div, br, li, h1, h2, h3, h4, h5, h6, tr, section, article"
_BLANKS = re.compile(r"[ \t\u3000\xa0]+")


def parse_html(html: str) -> LexborHTMLParser:
    return LexborHTMLParser(html)


def node_text(node: LexborNode | None) -> str:
    """Text of ``node`` with one line per block element and collapsed spaces."""
    if node is None:
        return ""
    clone = LexborHTMLParser(node.html or "")
    for junk in clone.css("script, style, noscript"):
        junk.decompose()
    root = clone.body or clone.root
    if root is None:
        return ""
    for block in root.css(_BLOCK_TAGS):
        block.insert_after("\n")
    lines = (_BLANKS.sub(" ", line).strip() for line in (root.text(separator="") or "").split("\n"))
    return "\n".join(line for line in lines if line)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment (feed summaries)."""
    tree = LexborHTMLParser(f"<div>{html}</div>")
    return node_text(tree.css_first("div"))
