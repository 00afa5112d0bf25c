"""NYSE sessions: weekdays that are not exchange holidays (from the `holidays` package).

Used by the synthetic source, the audit's trading-day rule and the default as-of date.
Early closes count as sessions; their bars are complete after the early close, and we
conservatively treat the regular 16:00 close as the completion time.
"""
from __future__ import annotations

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


def sessions_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every session from start to end, both included."""
    out = []
    day = start
    one = dt.timedelta(days=1)
    while day <= end:
        if is_session(day):
            out.append(day)
        day += one
    return out


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
