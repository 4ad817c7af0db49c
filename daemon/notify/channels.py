"""Apprise channels: validation without leaking secrets, and the built-in console target.

Apprise URLs carry tokens, so nothing here ever formats a URL into a message: a
channel is shown by its name and scheme only.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import apprise
from apprise.decorators import notify

# Apprise's DEBUG output prints tokens and json:// headers in clear.
logging.getLogger("apprise").setLevel(logging.WARNING)


@notify(on="console", name="tingfeng console")
def _console(body: str, title: str, notify_type: str, *args: Any, **kwargs: Any) -> bool:
    """``console://``: print alerts to the terminal, so a new user sees them without an account."""
    print(f"\n── {title} ──\n{body}", file=sys.stdout, flush=True)
    return True


def scheme_of(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else "?"


def check_apprise_url(url: str) -> str | None:
    """None if Apprise can build a notifier from ``url``, else a secret-free reason."""
    if "://" not in url:
        return "not an Apprise URL (expected scheme://…)"
    if apprise.Apprise.instantiate(url, suppress_exceptions=True) is None:
        return f"not a valid Apprise URL for scheme {scheme_of(url)}://"
    return None


def build_notifier(url: str) -> apprise.Apprise:
    """An Apprise object for one channel, with Apprise's per-plugin sleep disabled.

    Apprise sleeps ~5.5 s between sends of one plugin instance; tingfeng keeps its
    own per-channel pacing, so that throttle would only stall delivery.
    """
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    notifier = apprise.Apprise()
    if plugin is None:
        return notifier
    plugin.request_rate_per_sec = 0
    notifier.add(plugin)
    return notifier


def redact(text: str, secret: str) -> str:
    """Remove a channel's URL and its parts from an error text."""
    if not secret:
        return text
    pieces = {
        secret,
        *(p for p in secret.replace("://", "/").replace("?", "/").split("/") if len(p) >= 6),
    }
    for piece in sorted(pieces, key=len, reverse=True):
        text = text.replace(piece, "***")
    return text
