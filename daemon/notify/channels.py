"""Channels: Apprise URL validation without leaking secrets, senders, the console target.

Apprise URLs carry tokens, so nothing here formats a URL into a message: a channel
is shown by its name, its scheme or ``url(privacy=True)``, and every error passes
through :func:`redact` with all configured secrets before it is stored or shown.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from typing import Any

import apprise
from apprise.plugins.email import NotifyEmail

from daemon.notify.apprise_urls import instantiate, scheme_of
from daemon.notify.ratelimit import RateLimiter
from daemon.notify.render import Format
from daemon.notify.services import SendError, Service, service_for, verified_sender
from daemon.notify.settings import ChannelConfig
from daemon.redaction import scrub


def _pieces(url: str) -> set[str]:
    rest = url.split("://", 1)[-1]
    for sep in "/?&=@:,":
        rest = rest.replace(sep, " ")
    return {p for p in rest.split() if len(p) >= 6}


def redact(text: str, *secrets: str) -> str:
    """Remove channel URLs and their secret parts (tokens, passwords, keys) from a text.

    A part is secret when Apprise masks it in ``url(privacy=True)``; hosts and paths
    it shows stay readable, so errors still say where a send went wrong.
    """
    return redactor(*secrets)(text)


def redactor(*secrets: str) -> Callable[[str], str]:
    """:func:`redact` for many texts: each secret URL is taken apart once (a page of
    the outbox redacts hundreds of reasons)."""
    pieces: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        plugin = instantiate(secret)
        public = _pieces(plugin.url(privacy=True)) if plugin is not None else set()
        pieces |= {secret, *(_pieces(secret) - public)}
    ordered = sorted(pieces, key=len, reverse=True)

    def apply(text: str) -> str:
        for piece in ordered:
            text = text.replace(piece, "***")
        return scrub(text)

    return apply


def _email_targets(plugin: Any) -> list[str]:
    if not isinstance(plugin, NotifyEmail):
        return []
    return [address for _, address in plugin.targets]


def recipients(channel: ChannelConfig) -> list[str]:
    """The addresses of an email channel with several recipients, else ``[]``.

    Each is owed its own delivery row: Apprise mails them one by one but reports one
    result, so a single refusing address would make the others receive every retry.
    """
    targets = _email_targets(instantiate(channel.url.get_secret_value()))
    return targets if len(targets) > 1 else []


class Sender:
    """Sends to one channel: verified for the Chinese bots, Apprise for the rest."""

    def __init__(self, channel: ChannelConfig) -> None:
        self.channel = channel
        secret = channel.url.get_secret_value()
        self.scheme = scheme_of(secret)
        self.service: Service = service_for(self.scheme)
        self.format: Format = (
            self.service.format if channel.format == "auto" else channel.format  # type: ignore[assignment]
        )
        self.limiter = RateLimiter.parse(channel.rate_limit or self.service.rate)
        self.plugin = instantiate(secret)
        self._narrowed: dict[str, Any] = {}
        if self.plugin is not None:
            # Apprise sleeps ~5.5 s between sends of one plugin instance; the limiter paces.
            self.plugin.request_rate_per_sec = 0
        self.verified = (
            verified_sender(self.scheme, self.plugin, channel.api_base, channel.timeout)
            if self.plugin is not None
            else None
        )

    def per_minute(self) -> float | None:
        """The channel's pace in sends per minute; None when unpaced."""
        if self.limiter is None:
            return None
        return self.limiter.count * 60.0 / self.limiter.period

    async def pace(self) -> None:
        """Wait until the channel's pace allows one more send, and count it."""
        if self.limiter is not None:
            await self.limiter.wait()

    def _plugin_for(self, recipient: str) -> Any:
        """The channel's notifier, narrowed to one address for a per-recipient row."""
        if not recipient:
            return self.plugin
        plugin = self._narrowed.get(recipient)
        if plugin is None:
            plugin = instantiate(self.channel.url.get_secret_value())
            if recipient not in _email_targets(plugin):
                raise SendError(f"{recipient} is no longer a recipient of this channel")
            plugin.targets = [t for t in plugin.targets if t[1] == recipient]
            plugin.request_rate_per_sec = 0
            self._narrowed[recipient] = plugin
        return plugin

    async def send(self, title: str, body: str, recipient: str = "") -> None:
        """Return only when the service confirmed; else raise SendError (may hold secrets).

        The caller paces first (:meth:`pace`), so that waiting for the pace never
        eats into the lease of the row being sent.
        """
        if self.plugin is None:
            raise SendError(f"cannot build a {self.scheme}:// notifier")
        if self.verified is not None:
            await self.verified(title, body, self.format)
            return
        notifier = apprise.Apprise()
        notifier.add(self._plugin_for(recipient))
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
            try:
                ok = await asyncio.wait_for(
                    notifier.async_notify(
                        body=body, title=title, body_format=apprise.NotifyFormat(self.format)
                    ),
                    self.channel.timeout,
                )
            except TimeoutError:
                raise SendError(f"no answer within {self.channel.timeout:g}s") from None
        if not ok:
            lines = [line.strip() for line in captured.getvalue().splitlines() if line.strip()]
            raise SendError(lines[-1] if lines else "the service did not confirm delivery")


_SENDERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Sender]] = (
    weakref.WeakKeyDictionary()
)


def sender_for(channel: ChannelConfig) -> Sender:
    """One Sender per channel for the event loop (the daemon's runs for its lifetime), so its
    rate limit holds across passes; its limiter's lock must not outlive the loop it serves."""
    senders = _SENDERS.setdefault(asyncio.get_running_loop(), {})
    current = senders.get(channel.name)
    if current is None or current.channel != channel:
        current = senders[channel.name] = Sender(channel)
    return current
