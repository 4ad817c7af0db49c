"""Apprise URLs: checked and instantiated, with the ``console://`` target registered.

This is the part of the channels that ``check-config`` needs. It imports Apprise but
none of the senders' HTTP stack, the renderer or storage, so validating a config
stays quick.
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
    if instantiate(url) is None:
        return f"not a valid Apprise URL for scheme {scheme_of(url)}://"
    return None


def instantiate(url: str) -> Any:
    """Apprise's notifier for ``url``, or None.

    Apprise warns about a bad URL with the token in the text; that stays out of logs.
    """
    with apprise.LogCapture(level=logging.WARNING):
        return apprise.Apprise.instantiate(url, suppress_exceptions=True)
