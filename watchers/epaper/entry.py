"""Entry URLs: a page of one dated issue, copied from the browser, stands for the paper.

``…/layout/202612/02/node_01.html`` fetched as configured would be the same issue
forever. Every platform's page URLs are date-templated, so such a URL is read as
"the first page of the newest issue": today's date is put in, stepping back a day at a
time while that issue is not out yet.
"""

from __future__ import annotations

from datetime import date, datetime

from watchers.dates import SITE_TZ
from watchers.epaper.detect import PLATFORMS
from watchers.epaper.issues import IssueUrl, issue_url


def dated_issue(url: str) -> IssueUrl | None:
    """The date template of ``url`` when it is one issue's page of a known platform."""
    if not any(platform.matches(url, "") for platform in PLATFORMS):
        return None
    return issue_url(url)


def today() -> date:
    """Issue dates are China's calendar days, wherever the daemon runs."""
    return datetime.now(SITE_TZ).date()


def newest_issue_url(url: str) -> str:
    """What a run opens first for the configured ``url``."""
    dated = dated_issue(url)
    return dated.for_date(today()) if dated else url


def entry_note(url: str) -> str | None:
    """One line telling the user a dated URL was turned into the paper's entry, or None."""
    dated = dated_issue(url)
    if dated is None:
        return None
    shape = dated.fmt.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")
    template = f"{dated.prefix}{shape}{dated.suffix}"
    return (
        f"{url} is the issue of {dated.day}; following the newest issue instead: "
        f"{template} with today's date, stepping back to the latest one out"
    )
