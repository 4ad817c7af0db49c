"""Identity of an article: canonical URL and normalised-content hash."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from rules.normalize import normalize

_TRACKING = ("utm_", "spm", "from", "isappinstalled", "share", "wxshare", "scene", "nsukey")
_INDEX_FILES = ("index.html", "index.htm", "index.shtml", "default.htm", "default.html")


def canonical_url(url: str) -> str:
    """The same page by two URLs gives one key: scheme/host case, default ports,
    tracking parameters, ``index.html``, fragments and parameter order do not matter.
    Fragments are kept only when they identify an item inside a page (``#a3``)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower() or "http"
    if scheme == "https":
        scheme = "http"
    host = (parts.hostname or "").lower()
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = parts.path or "/"
    for index in _INDEX_FILES:
        if path.endswith("/" + index):
            path = path[: -len(index)]
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING)
    )
    return urlunsplit((scheme, host, path, urlencode(query), parts.fragment))


def url_key(url: str) -> str:
    """Fixed-width index key for a canonical URL (URLs can exceed index limits)."""
    return hashlib.sha1(canonical_url(url).encode()).hexdigest()


def content_hash(title: str, text: str) -> str:
    return hashlib.sha1(normalize(f"{title}\n{text}").encode()).hexdigest()
