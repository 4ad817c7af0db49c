"""Publication dates as Chinese sites print them, read as China time and stored as UTC."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# Sites print local wall-clock time; that is China time whatever the reader's zone.
SITE_TZ = ZoneInfo("Asia/Shanghai")

_DATE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?P<H>\d{1,2})[:：时](?P<M>\d{2})(?:[:：分](?P<S>\d{2}))?)?"
)


def parse_site_date(text: str | None) -> datetime | None:
    """The first date in ``text`` (``2024-05-20 10:30``, ``2024年5月20日``) as aware UTC."""
    if not text:
        return None
    match = _DATE.search(text)
    if not match:
        return None
    parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
    try:
        local = datetime(
            parts["y"],
            parts["m"],
            parts["d"],
            parts.get("H", 0),
            parts.get("M", 0),
            parts.get("S", 0),
            tzinfo=SITE_TZ,
        )
    except ValueError:
        return None
    return local.astimezone(UTC)


def from_struct_time(value: time.struct_time | None) -> datetime | None:
    """feedparser's parsed dates are UTC struct_times."""
    if value is None:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None
