"""Value types shared by the rule engine and its callers (daemon, CLI, storage)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["word", "substring"]


@dataclass(frozen=True)
class TopicRule:
    """One topic as configured: a query plus options that narrow where it applies.

    ``fields`` are the fields a bare term searches; the TrendRadar importer sets
    ``("title",)`` because TrendRadar only ever looks at headlines.
    """

    name: str
    query: str
    mode: Mode = "word"
    places: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    min_hits: int = 1
    fields: tuple[str, ...] = ("title", "text")


@dataclass(frozen=True)
class Document:
    """What the matcher looks at: an article's title, text and metadata."""

    id: str
    title: str
    text: str
    source: str = ""
    place: str = ""


@dataclass(frozen=True)
class Hit:
    """A span ``[start, end)`` into ``normalize()`` of ``field`` ("title" or "text")."""

    start: int
    end: int
    term: str
    field: str

    def combined_span(self, title_len: int) -> tuple[int, int]:
        """Span into :func:`combined_text` given ``len(normalize(title))``.

        Text hits shift by ``title_len + 1`` (the joining newline) unless the title is
        empty, in which case the combined text is just the normalised text.
        """
        if self.field == "title" or not title_len:
            return self.start, self.end
        return self.start + title_len + 1, self.end + title_len + 1


@dataclass(frozen=True)
class TopicMatch:
    """Why a document matched a topic: every hit span and the query terms satisfied."""

    topic: str
    hits: tuple[Hit, ...]
    terms: tuple[str, ...]


def combined_text(title: str, text: str) -> str:
    """``normalize(title) + "\\n" + normalize(text)``, or just the text when no title.

    The string the ``match`` CLI's hit offsets index into.
    """
    from rules.normalize import normalize

    t = normalize(title)
    return f"{t}\n{normalize(text)}" if t else normalize(text)
