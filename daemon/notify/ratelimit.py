"""Per-channel pacing, so a burst of alerts stays under what a bot accepts.

Apprise's own throttle sleeps 5.5 s per plugin instance whatever the service; it
is switched off (see channels.py) and this limiter paces each channel instead.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque

_PERIODS = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0, "hour": 3600.0}


class RateLimiter:
    """At most ``count`` sends in any ``period`` seconds (a sliding window)."""

    def __init__(self, count: int, period: float) -> None:
        self.count = max(1, count)
        self.period = period
        self.sent: deque[float] = deque()
        self.lock = asyncio.Lock()

    @classmethod
    def parse(cls, text: str | None) -> RateLimiter | None:
        """``"20/min"`` → a limiter; None → no limit."""
        if not text:
            return None
        found = re.fullmatch(r"(\d+)/(s|sec|min|h|hour)", text.strip())
        if not found:
            raise ValueError(f'"{text}" is not a rate (try "20/min")')
        return cls(int(found.group(1)), _PERIODS[found.group(2)])

    async def wait(self) -> None:
        """Return when one more send fits the window, and count it."""
        async with self.lock:
            while True:
                now = time.monotonic()
                while self.sent and self.sent[0] <= now - self.period:
                    self.sent.popleft()
                if len(self.sent) < self.count:
                    self.sent.append(now)
                    return
                await asyncio.sleep(self.sent[0] + self.period - now)
