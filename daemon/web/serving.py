"""Putting the console on a socket, for ``tingfeng run``, ``tingfeng web`` and the demo.

All three serve the same app the same way: no access log (feed URLs carry their
secret token, and the daemon's log is for the daemon), one line saying where the
console is, a one-line error when the address is taken, and one warning when it is
reachable over plain HTTP from other machines (see ``auth.secure_request`` for why
cookies then lose ``Secure``).
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import signal
import socket

import structlog
from aiohttp import web

from daemon.config import split_listen
from daemon.errors import UserError
from daemon.web.app import Console, create_app

log = structlog.get_logger("tingfeng.console")

# In-flight requests get this long to finish when the console stops.
SHUTDOWN_GRACE = 5.0


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(host: str, port: int) -> str:
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


async def start_console(console: Console, listen: str, *, origin: str) -> tuple[web.AppRunner, str]:
    """The console serving on ``listen``, and its URL; ``origin`` names the setting the
    address came from (``[web] listen``, ``--listen``) in the one-line error when it
    cannot."""
    try:
        host, port = split_listen(listen)
    except ValueError as exc:
        raise UserError(f"{origin}: {exc}") from None
    runner = web.AppRunner(create_app(console), access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            reason = "the address is already in use (another tingfeng or program serves it)"
        else:
            reason = f"cannot listen there: {exc.strerror or exc}"
        raise UserError(f"{origin} {listen}: {reason}") from None
    bound = runner.addresses[0][1] if runner.addresses else port  # port 0: the one picked
    public = console.config.web.public_url or ""
    url = (public or _url(host, bound)).rstrip("/") + "/"
    if public:  # reached through a proxy: say where the proxy should forward to
        log.info(f"console at {url}", listening=_url(host, bound))
    else:
        log.info(f"console at {url}")
    if not is_loopback(host) and not public.startswith("https://"):
        log.warning(
            "console served over plain HTTP to other machines: passwords and session "
            "cookies cross the network readable; put it behind an HTTPS proxy and set "
            '[web] public_url = "https://…"',
            listen=listen,
        )
    return runner, url


async def serve_until_stopped(runner: web.AppRunner) -> None:
    """Serve until SIGINT or SIGTERM, then let running requests finish."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await runner.cleanup()
        log.info("console stopped")
