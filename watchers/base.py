"""What every watcher produces and the context it works in.

Watchers are small: they turn one configured source into ``ArticleDraft``s. All
I/O goes through the shared ``Fetcher`` (politeness, caching, decoding), bound to
the run by a ``SourceFetcher``, and all CPU-heavy parsing through
``WatchContext.run_cpu`` so the event loop never stalls.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from watchers.article import ArticleDraft
from watchers.fetch import FetchError
from watchers.settings import SourceConfig

if TYPE_CHECKING:
    from watchers.fetch import SourceFetcher

S = TypeVar("S", bound=SourceConfig, contravariant=True)


def skipped(url: str, reason: str) -> ArticleDraft:
    """An entry found but not extracted, with why: the pipeline counts and retries it."""
    return ArticleDraft(url=url, title="", text="", skip_reason=reason)


def skip_or_stop(url: str, exc: FetchError) -> ArticleDraft:
    """The one rule for an entry that cannot be fetched, used by every watcher.

    A server that asked us to wait (429/503 with Retry-After) stops the whole run, so
    the source backs off as asked and is retried later; any other failure costs only
    this entry, which is skipped with its reason (and retried on later runs).
    """
    if exc.retry_after is not None:
        raise exc
    return skipped(url, exc.reason)


class WatchError(Exception):
    """A source-level failure worth recording on the source (one line, no traceback)."""


class NoArticlesError(WatchError):
    """A page that should list articles lists none: usually a redesign, not "no news".

    Raised instead of returning ``[]`` so the failure is recorded and the operator
    is alerted, rather than the source going silently quiet.
    """


@dataclass(slots=True)
class WatchContext:
    """Everything a watcher may use besides its own config."""

    fetcher: SourceFetcher
    run_cpu: Callable[..., Awaitable[Any]]
    known_urls: Callable[[Iterable[str]], Awaitable[set[str]]]
    # The source's own memory between runs (e.g. the last e-paper issue fetched);
    # saved only when the run's articles are, so a failed run changes nothing.
    state: dict[str, Any] = field(default_factory=dict)
    # Entries that failed to extract on earlier runs and are due again: a watcher
    # fetches them even when its list page answers 304 (see daemon/silence.py).
    retry_urls: list[str] = field(default_factory=list)
    # What the run found, as (count, what) — e.g. (12, "article links") — so a run that
    # stores none of them can say so: "12 article links, 0 bodies: …".
    found: list[tuple[int, str]] = field(default_factory=list)

    def saw(self, count: int, what: str) -> None:
        """Record that the run found ``count`` entries of a kind (links, records, pages)."""
        self.found.append((count, what))


class Watcher(Protocol[S]):
    """What a source kind does with its settings ``S`` (see ``watchers.registry``)."""

    async def poll(self, source: S, ctx: WatchContext) -> list[ArticleDraft]: ...
