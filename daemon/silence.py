"""No silent zero: a source that found nothing where something was expected fails loudly.

Policy staff rely on a paper or a county site; the worst failure is the one nobody
sees. Three rules, applied to every source kind by the pipeline:

* a run that found entries (links, records, pages) but extracted none of them is a
  failed run with its reason ("12 article links, 0 bodies: no body marker matched");
* entries that failed to extract go on a bounded retry list kept in the source's
  state and are fetched again on later runs, even when the list page answers 304;
* a source that had articles on most days and has had none for ``silent_after``
  (default 3 days) is unhealthy, and the operator is told.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from watchers.article import ArticleDraft

# Source state key of the retry list: {url: {"reason": str, "tries": int}}, oldest first.
RETRY_KEY = "retry"
MAX_RETRY_ITEMS = 100
# An entry that failed this many runs is dropped from the list (and logged): a dead link
# must not be fetched forever.
MAX_TRIES = 5
# How far back "articles on most days" looks, counted from the last article.
HISTORY_DAYS = 14
MIN_ACTIVE_DAYS = 3


def due_retries(state: dict[str, Any]) -> list[str]:
    """URLs on the source's retry list, oldest first."""
    return list((state.get(RETRY_KEY) or {}).keys())


def empty_run_reason(
    found: list[tuple[int, str]], drafts: list[ArticleDraft], retried: list[str]
) -> str | None:
    """The failure of a run whose newly found entries all failed to extract, else None.

    Entries only retried from earlier runs do not count: one dead link from a run
    that otherwise worked must not fail every later run.
    """
    if any(not d.skip_reason for d in drafts):
        return None
    again = set(retried)
    fresh = [d for d in drafts if d.url not in again]
    if not fresh:
        return None
    reasons = Counter(d.skip_reason for d in fresh)
    (common, times), *others = reasons.most_common()
    why = common if len(fresh) == 1 else f"{common} ({times})"
    if others:
        why += f"; {len(fresh) - times} more for {len(others)} other reason(s)"
    entries = ", ".join(f"{n} {what}" for n, what in found) or f"{len(fresh)} entries"
    return f"{entries}, 0 bodies: {why}"


def update_retries(
    state: dict[str, Any], drafts: list[ArticleDraft], retried: list[str]
) -> list[tuple[str, str]]:
    """Put this run's skipped entries on the retry list; drop those now extracted.

    Returns the (url, reason) entries given up on after ``MAX_TRIES`` runs. An entry
    the watcher did not report at all still uses up a try, so the list drains.
    """
    old: dict[str, dict[str, Any]] = dict(state.get(RETRY_KEY) or {})
    reported = {d.url: d for d in drafts}
    given_up: list[tuple[str, str]] = []
    fresh: dict[str, dict[str, Any]] = {}
    for url in retried:
        entry = old.pop(url, None)
        draft = reported.get(url)
        if entry is None or (draft is not None and not draft.skip_reason):
            continue
        tries = int(entry.get("tries", 1)) + 1
        reason = draft.skip_reason if draft is not None else str(entry.get("reason", ""))
        if tries >= MAX_TRIES:
            given_up.append((url, reason))
        else:
            fresh[url] = {"reason": reason, "tries": tries}
    merged = old | fresh
    for draft in drafts:
        if not draft.skip_reason:
            merged.pop(draft.url, None)
        elif draft.url not in merged and draft.url not in dict(given_up):
            merged[draft.url] = {"reason": draft.skip_reason, "tries": 1}
    # Bounded: the oldest entries go first.
    kept = dict(list(merged.items())[-MAX_RETRY_ITEMS:])
    if kept:
        state[RETRY_KEY] = kept
    else:
        state.pop(RETRY_KEY, None)
    return given_up


@dataclass(slots=True, frozen=True)
class Silence:
    """A source that used to have articles on most days and has gone quiet."""

    quiet_for: timedelta
    active_days: int
    window_days: int

    def reason(self) -> str:
        days = self.quiet_for.days
        hours = self.quiet_for.seconds // 3600
        return (
            f"no new articles for {days}d {hours}h, though it had articles on "
            f"{self.active_days} of the {self.window_days} days before (site changed?)"
        )


def silence(
    article_days: list[date], last_article: datetime | None, now: datetime, span: float
) -> Silence | None:
    """``Silence`` when the last article is older than ``span`` seconds and, in the
    ``HISTORY_DAYS`` before it, the source had articles on most days; else None.

    ``article_days`` are the local dates on which articles were stored. A weekly or
    occasional source never qualifies, so it is never called silent.
    """
    if span <= 0 or last_article is None or now - last_article < timedelta(seconds=span):
        return None
    last_day = max(article_days, default=None)
    if last_day is None:
        return None
    window_start = last_day - timedelta(days=HISTORY_DAYS - 1)
    days = {d for d in article_days if d >= window_start}
    window = (last_day - min(days)).days + 1
    if len(days) < MIN_ACTIVE_DAYS or len(days) * 2 <= window:
        return None
    return Silence(now - last_article, len(days), window)
