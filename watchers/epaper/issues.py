"""Issue dates: e-paper URLs are date-templated, so any day's issue can be addressed.

That makes both fallbacks possible: when today's issue is not out yet, step back to
the latest one; after downtime, fetch every missed day up to ``catchup_days``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# Most specific first: "2024-12/25" (classic), "202412/25" (pc layout), "20241225" (PaperIndex).
_FORMS = (
    (re.compile(r"(?<!\d)\d{4}-\d{2}/\d{2}(?!\d)"), "%Y-%m/%d"),
    (re.compile(r"(?<!\d)\d{6}/\d{2}(?!\d)"), "%Y%m/%d"),
    (re.compile(r"(?<!\d)\d{8}(?!\d)"), "%Y%m%d"),
)


@dataclass(frozen=True, slots=True)
class IssueUrl:
    """A page URL of one issue, split around its date so other days can be addressed."""

    prefix: str
    suffix: str
    fmt: str
    day: date

    def for_date(self, day: date) -> str:
        return f"{self.prefix}{day.strftime(self.fmt)}{self.suffix}"


def issue_url(url: str) -> IssueUrl | None:
    """The date in ``url``'s path (the last one), or None when the URL carries no date."""
    for pattern, fmt in _FORMS:
        found = list(pattern.finditer(url))
        if not found:
            continue
        match = found[-1]
        try:
            day = datetime.strptime(match.group(0), fmt).date()
        except ValueError:
            continue
        return IssueUrl(url[: match.start()], url[match.end() :], fmt, day)
    return None


def days_to_fetch(latest: date, last_fetched: date | None, catchup_days: int) -> list[date]:
    """Issue days to walk, oldest first.

    First run: only the latest issue. Later: the last one fetched again (cheap: known
    articles are skipped, unchanged pages answer 304) and every day after it, but no
    further back than ``catchup_days`` before the latest.
    """
    if last_fetched is None or last_fetched >= latest:
        return [latest]
    start = max(last_fetched, latest - timedelta(days=catchup_days))
    return [start + timedelta(days=n) for n in range((latest - start).days + 1)]
