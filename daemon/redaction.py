"""Secrets from the environment (``${VAR}`` in config) never reach any output.

A ``${VAR}`` may sit in any key: a channel URL, a source URL's query
(``?token=${FEED_TOKEN}``), a header. Config loading registers every value it
substituted here, and everything that leaves the process (log lines, stored errors,
CLI output, operator alerts, exports) passes through :func:`scrub`. Source URLs are
also shown without the values of query parameters that name a secret.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_MIN_LEN = 4  # shorter values ("1", "on") are not secrets and would mangle every text
_values: set[str] = set()
_SECRET_PARAM = re.compile(
    r"(token|key|secret|passw|pwd|sign|auth|ticket|session|credential)", re.IGNORECASE
)


def register(values: set[str] | list[str]) -> None:
    """Remember substituted environment values for the life of the process."""
    _values.update(v for v in values if len(v) >= _MIN_LEN)


def scrub(text: str) -> str:
    """``text`` with every registered secret replaced by ***."""
    for value in sorted(_values, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    return text


def display_url(url: str) -> str:
    """A source URL as shown and stored: secrets masked, secret-named query values too."""
    url = scrub(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    query = [
        (name, MASK if _SECRET_PARAM.search(name) and value else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*/:,")))


_URL = re.compile(r"https?://[^\s\"'<>]+")


def display_text(text: str) -> str:
    """A message as stored and shown: secrets masked, every URL in it as :func:`display_url`."""
    return _URL.sub(lambda m: display_url(m.group(0)), scrub(text))


def masked_channel_url(url: str) -> str:
    """A channel URL as a page may show it back: the scheme and, when it is a host name
    or an address (has a dot), the host; never a path, user, password or key. Chat bot
    URLs put their key where the host goes (``wecombot://KEY``), so those show none."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else "?"
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        host = ""
    shown = host if "." in host or ":" in host else ""
    return f"{scheme}://{shown}…"
