"""NYSE sessions: weekdays that are not exchange holidays (from the `holidays` package).

Used by the synthetic source, the audit's trading-day rule and the default as-of date.
Early closes count as sessions; their bars are complete after the early close, and we
conservatively treat the regular 16:00 close as the completion time.
"""
from __future__ import annotations

import bisect
import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo

import holidays

NEW_YORK = ZoneInfo("America/New_York")
CLOSE_TIME = dt.time(16, 0)


@cache
def _nyse_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.financial_holidays("NYSE", years=year).keys())


def is_session(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _nyse_holidays(day.year)


@cache
def _sessions_of_year(year: int) -> tuple[dt.date, ...]:
    first = dt.date(year, 1, 1)
    days = (first + dt.timedelta(days=n) for n in range((dt.date(year + 1, 1, 1) - first).days))
    return tuple(d for d in days if is_session(d))


def _year_slices(start: dt.date, end: dt.date):
    """(the year's sessions, first index, end index) for each year from start to end."""
    for year in range(start.year, end.year + 1):
        days = _sessions_of_year(year)
        low = bisect.bisect_left(days, start) if year == start.year else 0
        high = bisect.bisect_right(days, end) if year == end.year else len(days)
        yield days, low, high


def sessions_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every session from start to end, both included."""
    out: list[dt.date] = []
    for days, low, high in _year_slices(start, end):
        out.extend(days[low:high])
    return out


def count_sessions(start: dt.date, end: dt.date) -> int:
    """len(sessions_between(start, end)), without listing them: per-symbol checks over 20
    years of 5,000 symbols call it 5,000 times."""
    return sum(max(0, high - low) for _, low, high in _year_slices(start, end))


def previous_session(day: dt.date) -> dt.date:
    """The last session strictly before `day`."""
    day -= dt.timedelta(days=1)
    while not is_session(day):
        day -= dt.timedelta(days=1)
    return day


def last_sessions(end: dt.date, count: int) -> list[dt.date]:
    """The `count` sessions ending at `end` (included if it is a session), oldest first."""
    out: list[dt.date] = []
    day = end if is_session(end) else previous_session(end)
    while len(out) < count:
        out.append(day)
        day = previous_session(day)
    return out[::-1]


def latest_completed_session(now: dt.datetime | None = None) -> dt.date:
    """The newest session whose regular close in New York has passed at `now` (UTC if naive)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    local = now.astimezone(NEW_YORK)
    today = local.date()
    if is_session(today) and local.time() >= CLOSE_TIME:
        return today
    return previous_session(today)
