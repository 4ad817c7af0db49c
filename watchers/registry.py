"""The one list of source kinds: each kind's settings model and its watcher.

Adding a kind is one line here plus its modules; the config file's ``kind`` values,
the per-kind validation and the watcher lookup all derive from this list. The watchers
are named, not imported: they bring aiohttp and the parsers, which validating a config
(``tingfeng check-config``) never needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args

from pydantic import Field

from watchers.epaper.settings import EpaperSource
from watchers.feed_settings import FeedSource
from watchers.hanweb_settings import HanwebSource
from watchers.html_settings import HtmlSource
from watchers.pagetext_settings import PageFileSource
from watchers.settings import SourceConfig

if TYPE_CHECKING:
    from watchers.base import Watcher


@dataclass(frozen=True, slots=True)
class Kind:
    settings: type[SourceConfig]
    # "module.Class" of the watcher, imported on first use.
    watcher_class: str

    @property
    def names(self) -> tuple[str, ...]:
        """The ``kind`` values this model accepts (its ``Literal``)."""
        return get_args(self.settings.model_fields["kind"].annotation)

    @property
    def watcher(self) -> Watcher[Any]:
        return _watcher(self.watcher_class)


KINDS: tuple[Kind, ...] = (
    Kind(FeedSource, "watchers.feed.FeedWatcher"),
    Kind(HtmlSource, "watchers.html.HtmlWatcher"),
    Kind(PageFileSource, "watchers.pagetext.PageTextWatcher"),
    Kind(EpaperSource, "watchers.epaper.watcher.EpaperWatcher"),
    Kind(HanwebSource, "watchers.hanweb.HanwebWatcher"),
)
BY_NAME: dict[str, Kind] = {name: kind for kind in KINDS for name in kind.names}

if TYPE_CHECKING:
    AnySource = SourceConfig
else:
    # A source's model is chosen by its ``kind``, so each kind's own keys exist only there.
    AnySource = Annotated[Union[tuple(k.settings for k in KINDS)], Field(discriminator="kind")]  # noqa: UP007


@cache
def _watcher(dotted: str) -> Watcher[Any]:
    """One watcher per class, shared by every source of its kinds."""
    module, _, name = dotted.rpartition(".")
    watcher: Watcher[Any] = getattr(import_module(module), name)()
    return watcher


def watcher_for(kind: str) -> Watcher[Any]:
    return BY_NAME[kind].watcher
