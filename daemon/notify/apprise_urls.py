"""Apprise URLs: checked and instantiated, with the ``console://`` target registered.

This is the part of the channels that ``check-config`` needs. It imports Apprise but
none of the senders' HTTP stack, the renderer or storage, so validating a config
stays quick. Apprise imports all of its ~170 plugins the first time it looks up any
scheme (and when a plugin is registered), which costs more than everything else
``check-config`` does; so a URL is checked with the one plugin module that declares
its scheme, and only a URL no single module claims (a native ``https://`` webhook, an
unknown scheme) goes through Apprise's full lookup.
"""

from __future__ import annotations

import logging
import sys
from functools import cache
from importlib import import_module
from typing import Any

import apprise
from apprise.plugins.base import NotifyBase
from apprise.utils.parse import GET_SCHEMA_RE

# Apprise's DEBUG output prints tokens and json:// headers in clear.
logging.getLogger("apprise").setLevel(logging.WARNING)

CONSOLE = "console"
# Schemes whose plugin module is not named after them; the others are tried by name.
_MODULE_OF = {
    "json": "custom_json",
    "jsons": "custom_json",
    "form": "custom_form",
    "forms": "custom_form",
    "xml": "custom_xml",
    "xmls": "custom_xml",
    "mailto": "email",
    "mailtos": "email",
    "tgram": "telegram",
}


def _console(body: str, title: str, notify_type: str, *args: Any, **kwargs: Any) -> bool:
    """``console://``: print alerts to the terminal, so a new user sees them without an account."""
    print(f"\n── {title} ──\n{body}", file=sys.stdout, flush=True)
    return True


@cache
def _register_console() -> None:
    """Registering a plugin loads all of Apprise's, so it waits until a sender needs one."""
    from apprise.decorators import notify

    notify(on=CONSOLE, name="tingfeng console")(_console)


def scheme_of(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else "?"


def check_apprise_url(url: str) -> str | None:
    """None if Apprise can build a notifier from ``url``, else a secret-free reason."""
    if "://" not in url:
        return "not an Apprise URL (expected scheme://…)"
    scheme = scheme_of(url)
    if scheme == CONSOLE:
        return None
    plugin = _plugin_class(scheme)
    built = _build(plugin, url) if plugin is not None else instantiate(url)
    if built is None:
        return f"not a valid Apprise URL for scheme {scheme}://"
    return None


def _plugin_class(scheme: str) -> Any:
    """The plugin class declaring ``scheme`` in its own module, or None if none is found so."""
    name = _MODULE_OF.get(scheme, scheme)
    if not name.isascii() or not name.replace("_", "").isalnum() or name.startswith("base"):
        return None
    try:
        module = import_module(f"apprise.plugins.{name}")
    except ImportError:
        return None
    for value in vars(module).values():
        # How Apprise's loader reads a plugin's schemes (``schemas`` is an instance method
        # it calls on the class).
        if (
            isinstance(value, type)
            and issubclass(value, NotifyBase)
            and hasattr(value, "app_id")
            and scheme in value.schemas(value)  # type: ignore[arg-type]
        ):
            return value
    return None


def _build(plugin: Any, url: str) -> Any:
    """What ``Apprise.instantiate`` does once it has found ``plugin``; None where it gives None."""
    url = url.replace("/#", "/%23")
    if not plugin.enabled or not GET_SCHEMA_RE.match(url):
        return None
    with apprise.LogCapture(level=logging.WARNING):
        results = plugin.parse_url(url)
        if not results:
            return None
        try:
            built = plugin(**results, tag=set(), asset=apprise.AppriseAsset())
        except Exception:
            return None
    return built if built.enabled else None


def instantiate(url: str) -> Any:
    """Apprise's notifier for ``url``, or None.

    Apprise warns about a bad URL with the token in the text; that stays out of logs.
    """
    _register_console()
    with apprise.LogCapture(level=logging.WARNING):
        return apprise.Apprise.instantiate(url, suppress_exceptions=True)
