"""The one list of source kinds: each kind's settings model and its watcher.

Adding a kind is one line here plus its module; the config file's ``kind`` values,
the per-kind validation and the watcher lookup all derive from this list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args

from pydantic import Field

from watchers.base import Watcher
from watchers.epaper import EpaperSource, EpaperWatcher
from watchers.feed import FeedSource, FeedWatcher
from watchers.hanweb import HanwebSource, HanwebWatcher
from watchers.html import HtmlSource, HtmlWatcher
from watchers.pagetext import PageFileSource, PageTextWatcher
from watchers.settings import SourceConfig


@dataclass(frozen=True, slots=True)
class Kind:
    settings: type[SourceConfig]
    watcher: Watcher[Any]

    @property
    def names(self) -> tuple[str, ...]:
        """The ``kind`` values this model accepts (its ``Literal``)."""
        return get_args(self.settings.model_fields["kind"].annotation)


KINDS: tuple[Kind, ...] = (
    Kind(FeedSource, FeedWatcher()),
    Kind(HtmlSource, HtmlWatcher()),
    Kind(PageFileSource, PageTextWatcher()),
    Kind(EpaperSource, EpaperWatcher()),
    Kind(HanwebSource, HanwebWatcher()),
)
BY_NAME: dict[str, Kind] = {name: kind for kind in KINDS for name in kind.names}

if TYPE_CHECKING:
    AnySource = SourceConfig
else:
    # A source's model is chosen by its ``kind``, so each kind's own keys exist only there.
    AnySource = Annotated[Union[tuple(k.settings for k in KINDS)], Field(discriminator="kind")]  # noqa: UP007


def watcher_for(kind: str) -> Watcher[Any]:
    return BY_NAME[kind].watcher
