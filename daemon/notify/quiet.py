"""Quiet hours of an instant channel (``"22:00-07:00"``, local time, may span midnight)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        first, second = text.replace(" ", "").split("-")
        return cls(time.fromisoformat(_pad(first)), time.fromisoformat(_pad(second)))

    def active(self, local: datetime) -> bool:
        """True when ``local`` (aware, in the daemon's time zone) is inside the window."""
        now = local.time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def end_after(self, local: datetime) -> datetime:
        """The first end of the window after ``local`` (same time zone)."""
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        return end if end > local else end + timedelta(days=1)


def _pad(value: str) -> str:
    hours, minutes = value.split(":")
    return f"{int(hours):02d}:{minutes}"
