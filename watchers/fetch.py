"""Polite HTTP: one shared aiohttp session, per-host limits, conditional GET, size caps.

Sites block bursts and bare clients, so every request from every watcher goes
through here: a browser-like User-Agent, at most N requests per host at once with a
delay between them, timeouts that measure the network (not time queued for a
connection), a streaming size cap and a redirect limit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDict

from watchers.decode import decode
from watchers.settings import FetchConfig


class FetchError(Exception):
    """A request failed; ``str()`` is one line naming the URL, safe to store on the source."""

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.retry_after = retry_after
        # The HTTP status when the server answered; e-paper watchers read 404 as "no issue".
        self.status = status


class ValidatorStore(Protocol):
    """Where ETag/Last-Modified validators live between runs (the database)."""

    async def get(self, url: str) -> tuple[str | None, str | None]: ...

    async def put(self, url: str, etag: str | None, last_modified: str | None) -> None: ...

    async def discard(self, url: str) -> None: ...


@dataclass(slots=True)
class FetchResult:
    url: str
    status: int
    body: bytes
    # Case-insensitive: servers spell it "ETag" or "Etag", and a plain dict would miss one.
    headers: Mapping[str, str]
    not_modified: bool = False

    def text(self, encoding: str | None = None) -> str:
        return decode(self.body, content_type=self.headers.get("Content-Type"), override=encoding)


@dataclass
class _HostGate:
    """Serialises one host's requests and spaces them ``delay`` seconds apart."""

    semaphore: asyncio.Semaphore
    delay: float
    next_start: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def wait_turn(self) -> None:
        async with self.lock:
            now = time.monotonic()
            wait = self.next_start - now
            self.next_start = max(now, self.next_start) + self.delay
        if wait > 0:
            await asyncio.sleep(wait)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


class Fetcher:
    """Use as ``async with Fetcher(config) as fetcher``; one per daemon."""

    def __init__(self, config: FetchConfig) -> None:
        self.config = config
        self._gates: dict[str, _HostGate] = {}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self.config.connect_timeout, sock_read=self.config.timeout
        )
        self._session = aiohttp.ClientSession(
            timeout=timeout,
            headers={"User-Agent": self.config.user_agent, "Accept-Language": "zh-CN,zh;q=0.9"},
            # No pool limit: the per-host gates already bound concurrency, and a pool
            # queue would be time spent inside the request deadline without any I/O.
            connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
            auto_decompress=True,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    def _gate(self, url: str) -> _HostGate:
        # host:port, not host: two servers on one address are two sites to be polite to.
        parts = urlsplit(url)
        host = f"{(parts.hostname or '').lower()}:{parts.port or parts.scheme}"
        gate = self._gates.get(host)
        if gate is None:
            gate = _HostGate(
                asyncio.Semaphore(self.config.per_host_concurrency), self.config.per_host_delay
            )
            self._gates[host] = gate
        return gate

    def for_run(self, validators: ValidatorStore | None) -> SourceFetcher:
        """A view for one source run whose validators are saved only if the run succeeds."""
        return SourceFetcher(self, validators)

    async def request(
        self,
        method: str,
        url: str,
        *,
        validators: ValidatorStore | None = None,
        conditional: bool = False,
        data: Mapping[str, str] | None = None,
    ) -> FetchResult:
        if self._session is None:
            raise RuntimeError("Fetcher used outside 'async with'")
        if urlsplit(url).scheme not in ("http", "https"):
            raise FetchError(url, "not an http(s) URL")
        headers: dict[str, str] = {}
        if conditional and validators is not None:
            etag, last_modified = await validators.get(url)
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
        gate = self._gate(url)
        async with gate.semaphore:
            await gate.wait_turn()
            result = await self._send(method, url, headers, data)
        if conditional and validators is not None and result.status == 200:
            await validators.put(
                url, result.headers.get("ETag"), result.headers.get("Last-Modified")
            )
        return result

    async def _send(
        self, method: str, url: str, headers: dict[str, str], data: Mapping[str, str] | None
    ) -> FetchResult:
        assert self._session is not None
        deadline = self.config.timeout * 3
        try:
            async with (
                asyncio.timeout(deadline),
                self._session.request(
                    method, url, headers=headers, data=data, max_redirects=self.config.max_redirects
                ) as response,
            ):
                if response.status == 304:
                    return FetchResult(
                        str(response.url), 304, b"", CIMultiDict(response.headers), True
                    )
                if response.status in (429, 503):
                    raise FetchError(
                        url,
                        f"HTTP {response.status} {response.reason or ''}".strip(),
                        retry_after=_retry_after(response.headers.get("Retry-After")),
                        status=response.status,
                    )
                if response.status >= 400:
                    raise FetchError(
                        url,
                        f"HTTP {response.status} {response.reason or ''}".strip(),
                        status=response.status,
                    )
                body = await self._read_capped(url, response)
                return FetchResult(
                    str(response.url), response.status, body, CIMultiDict(response.headers)
                )
        except TimeoutError:
            raise FetchError(url, "timed out") from None
        except aiohttp.TooManyRedirects:
            raise FetchError(url, f"more than {self.config.max_redirects} redirects") from None
        except aiohttp.ClientConnectorError as exc:
            raise FetchError(url, f"cannot connect ({exc.os_error or exc})") from None
        except aiohttp.ClientError as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc}") from None

    async def _read_capped(self, url: str, response: aiohttp.ClientResponse) -> bytes:
        cap = self.config.max_bytes
        if response.content_length is not None and response.content_length > cap:
            raise FetchError(url, f"response of {response.content_length} bytes exceeds {cap}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            if size > cap:
                raise FetchError(url, f"response exceeds the {cap}-byte cap")
            chunks.append(chunk)
        return b"".join(chunks)


@dataclass(slots=True)
class SourceFetcher:
    """What a watcher sees: the shared Fetcher bound to its run's validator store."""

    fetcher: Fetcher
    validators: ValidatorStore | None

    async def get(self, url: str, *, conditional: bool = False) -> FetchResult:
        """GET ``url``; with ``conditional`` a 304 gives ``not_modified=True`` and no body."""
        return await self.fetcher.request(
            "GET", url, validators=self.validators, conditional=conditional
        )

    async def post(self, url: str, data: Mapping[str, str]) -> FetchResult:
        return await self.fetcher.request("POST", url, data=data)

    async def forget(self, url: str) -> None:
        """Drop ``url``'s new validators: its page was fetched but not fully processed,
        so the next run must get a full 200, not a 304 that hides what was missed."""
        if self.validators is not None:
            await self.validators.discard(url)
