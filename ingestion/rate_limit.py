"""When the next call may go: the key's per-minute window, its daily quota and a minimum
spacing between calls (the free key's burst limit), on a clock the caller passes in.

Pure: no sleeping, no I/O. The ingest loop asks wait_time(now), sleeps that long with
its own (injectable) sleep, then record(now)s the call.

The quota day: Alpha Vantage does not document when the daily count resets. We count
per UTC day; a run near the boundary at worst under-uses the quota (it carries symbols
one run early), it never exceeds what we recorded for a day.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import deque
from typing import Callable

# Returned waits are padded by this much so a call made exactly at the returned time falls
# outside the previous window even after float rounding on the other side.
_MARGIN_S = 1e-3


class QuotaSpent(RuntimeError):
    """The daily quota is used up: nothing more may be called today."""


def utc_day(now: float) -> str:
    return dt.datetime.fromtimestamp(now, tz=dt.timezone.utc).date().isoformat()


class RatePlanner:
    def __init__(
        self,
        calls_per_minute: int | None,
        calls_per_day: int | None,
        min_interval_s: float = 0.0,
        used_today: int = 0,
        day: str | None = None,
        *,
        window_s: float = 60.0,
        day_of: Callable[[float], str] = utc_day,
    ):
        """None for a limit means unlimited. `used_today` calls were already made on quota day `day`."""
        for name, value in (("calls_per_minute", calls_per_minute), ("calls_per_day", calls_per_day)):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 or None, got {value}")
        if min_interval_s < 0:
            raise ValueError(f"min_interval_s must be >= 0, got {min_interval_s}")
        self.calls_per_minute = calls_per_minute
        self.calls_per_day = calls_per_day
        self.min_interval_s = float(min_interval_s)
        self.window_s = window_s
        self._day_of = day_of
        self._day = day
        self._used = int(used_today)
        self._spent = False  # the server said the day's quota is gone, whatever our count says
        self._recent: deque[float] = deque()
        self._last: float | None = None
        self._blocked_until = -math.inf
        self.calls_by_day: dict[str, int] = {day: self._used} if day else {}

    def _roll(self, now: float) -> None:
        today = self._day_of(now)
        if self._day is None:  # used_today was given without its day: it is today's
            self._day = today
            self.calls_by_day[today] = max(self.calls_by_day.get(today, 0), self._used)
            self._used = self.calls_by_day[today]
        elif today != self._day:
            self._day = today
            self._used = self.calls_by_day.get(today, 0)
            self._spent = False

    def quota_day(self, now: float) -> str:
        """The quota day `now` falls on."""
        return self._day_of(now)

    @property
    def day(self) -> str | None:
        return self._day

    def used(self, now: float) -> int:
        """Calls counted on now's quota day (the whole quota once the server said it is spent)."""
        self._roll(now)
        return self._used

    def remaining(self, now: float) -> float:
        """Calls left on now's quota day (inf when unlimited)."""
        self._roll(now)
        if self._spent:
            return 0
        return math.inf if self.calls_per_day is None else max(0, self.calls_per_day - self._used)

    def absorb_usage(self, day: str, calls: int) -> None:
        """Count calls another run already made on quota day `day` (from the lake's state)."""
        self.calls_by_day[day] = max(self.calls_by_day.get(day, 0), int(calls))
        if day == self._day:
            self._used = self.calls_by_day[day]

    def wait_time(self, now: float) -> float:
        """Seconds until a call may go: 0 now, inf when the daily quota is spent."""
        if self.remaining(now) <= 0:
            return math.inf
        wait = self._blocked_until - now
        if self._last is not None and self.min_interval_s:
            wait = max(wait, self._last + self.min_interval_s - now)
        if self.calls_per_minute is not None:
            while self._recent and self._recent[0] <= now - self.window_s:
                self._recent.popleft()
            if len(self._recent) >= self.calls_per_minute:
                wait = max(wait, self._recent[-self.calls_per_minute] + self.window_s - now)
        return wait + _MARGIN_S if wait > 0 else 0.0

    def record(self, now: float) -> None:
        """A call went out at `now`."""
        self._roll(now)
        self._used += 1
        self.calls_by_day[self._day] = self._used
        if self.calls_per_minute is not None:
            self._recent.append(now)
        self._last = now if self._last is None else max(self._last, now)

    def back_off(self, now: float, seconds: float) -> None:
        """No call before now + seconds (the server said we went too fast)."""
        self._blocked_until = max(self._blocked_until, now + max(0.0, seconds))

    def exhaust_day(self, now: float) -> None:
        """The server said the day's quota is gone: no call until the next quota day. The day's
        count is raised to the quota so the lake's state tells later runs the same (a Lambda
        retry then makes no call). Raising calls_per_day, e.g. after an upgrade, lifts it."""
        self._roll(now)
        self._spent = True
        if self.calls_per_day is not None and self._used < self.calls_per_day:
            self._used = self.calls_per_day
            self.calls_by_day[self._day] = self._used
