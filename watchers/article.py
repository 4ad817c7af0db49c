"""The article record every watcher produces and storage consumes.

It sits at the bottom of the layers (it imports nothing of ours), so watchers and
storage share one typed vocabulary: a skipped item says so in ``skip_reason``, a
joined part names its head in ``continuation_of``, and where an e-paper printed
the story (paper, page, PDF) is a field, not a dict key a reader must know.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class Attachment:
    """A file an article links to (Hanweb notices attach their forms and tables)."""

    name: str
    url: str


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
    # Continuation markers as printed: ``（下转第2版）`` / ``（上接第1版）``.
    continued_to: str = ""
    continued_from: str = ""
    # Where an e-paper printed it.
    paper: str = ""
    page_number: str = ""
    pdf: str = ""
    issue_date: str = ""
    platform: str = ""
    segmented_from: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    # Set on an entry that was found but could not be extracted (one line, no URL):
    # counted, logged, retried on later runs, never stored (see ``watchers.base.skipped``).
    skip_reason: str = ""
    # Set by joining: the first part of the chain this part continues (see storage.dedup.joins) ...
    continuation_of: str = ""
    # ... and, on a head, the URLs of the parts joined into its text.
    parts: list[str] = field(default_factory=list)
    # The text's length before it was cut to ``[fetch] max_article_chars`` (0: not cut).
    truncated_from: int = 0

    def stored_extra(self) -> dict[str, Any]:
        """What the article row keeps beyond its columns (only what is known)."""
        extra: dict[str, Any] = {
            "paper": self.paper,
            "page_number": self.page_number,
            "pdf": self.pdf,
            "issue_date": self.issue_date,
            "platform": self.platform,
            "segmented_from": self.segmented_from,
            "continued_to": self.continued_to,
            "continued_from": self.continued_from,
            "continuation_of": self.continuation_of,
            "parts": list(self.parts),
            "truncated_from": self.truncated_from,
            "attachments": [{"name": a.name, "url": a.url} for a in self.attachments],
        }
        return {key: value for key, value in extra.items() if value}
