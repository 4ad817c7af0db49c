"""What every watcher produces and the context it works in.

Watchers are small: they turn one configured source into ``ArticleDraft``s. All
I/O goes through the shared ``Fetcher`` (politeness, caching, decoding), bound to
the run by a ``SourceFetcher``, and all CPU-heavy parsing through
``WatchContext.run_cpu`` so the event loop never stalls.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from watchers.settings import SourceConfig

if TYPE_CHECKING:
    from watchers.fetch import SourceFetcher

S = TypeVar("S", bound=SourceConfig, contravariant=True)


@dataclass(slots=True)
class ArticleDraft:
    """One article as extracted, before storage assigns an id and a cluster."""

    url: str
    title: str
    text: str
    kicker: str = ""
    subtitle: str = ""
    author: str = ""
    place: str = ""
    published: datetime | None = None
    page: str = ""
    kind: str = "article"
    continued_to: str = ""
    continued_from: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


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


class Watcher(Protocol[S]):
    """What a source kind does with its settings ``S`` (see ``watchers.registry``)."""

    async def poll(self, source: S, ctx: WatchContext) -> list[ArticleDraft]: ...
