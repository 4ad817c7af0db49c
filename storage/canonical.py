"""Identity of an article by its address: the canonical URL and its key.

The content side of identity (hash of the cleaned text) lives in storage.dedup.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING = (
    "utm_",
    "spm",
    "from",
    "isappinstalled",
    "share",
    "wxshare",
    "scene",
    "nsukey",
    "fbclid",
    "gclid",
    "chksm",
    "clicktime",
    "enterid",
    "vd_source",
)
_INDEX_FILES = ("index.html", "index.htm", "index.shtml", "default.htm", "default.html")


def canonical_url(url: str) -> str:
    """The same page by two URLs gives one key: scheme/host case, default ports,
    tracking parameters, ``index.html``, fragments and parameter order do not matter.
    A fragment is kept only when it routes a single-page app (``#/article/3``,
    ``#!id=3``) or names one article cut from a newspaper page (``#item-…``, see
    watchers/pagetext.py); an anchor (``#top``, ``#comments``) points into the same page."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower() or "http"
    if scheme == "https":
        scheme = "http"
    host = (parts.hostname or "").lower()
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = parts.path or "/"
    for index in _INDEX_FILES:
        if path.lower().endswith("/" + index):
            path = path[: -len(index)]
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING)
    )
    fragment = parts.fragment if parts.fragment.startswith(("/", "!", "item-")) else ""
    return urlunsplit((scheme, host, path, urlencode(query), fragment))


def url_key(url: str) -> str:
    """Fixed-width index key for a canonical URL (URLs can exceed index limits)."""
    return hashlib.sha1(canonical_url(url).encode()).hexdigest()
