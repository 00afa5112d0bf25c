"""When a history day is over (glue_jobs.intraday.compact_window): GRACE after its NYSE session
closes, early closes and summer time included; a day without a session only at UTC midnight."""
from __future__ import annotations

import datetime as dt

import pytest

from glue_jobs.intraday.compact_window import GRACE, first_open_day


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("now, first_open", [
    # Monday 2026-11-30, winter time: the session closes 16:00 EST = 21:00 UTC
    (utc(2026, 11, 30, 0, 0), "2026-11-30"),
    (utc(2026, 11, 30, 15, 0), "2026-11-30"),  # during the session
    (utc(2026, 11, 30, 21, 0), "2026-11-30"),  # at the close: the last quotes are still on their way
    (utc(2026, 11, 30, 21, 14, 59), "2026-11-30"),
    (utc(2026, 11, 30, 21, 15), "2026-12-01"),  # GRACE after the close
    (utc(2026, 11, 30, 21, 30), "2026-12-01"),  # the stack's schedule
    # summer time: 16:00 EDT = 20:00 UTC
    (utc(2026, 6, 15, 20, 10), "2026-06-15"),
    (utc(2026, 6, 15, 20, 15), "2026-06-16"),
    # the day after Thanksgiving closes at 13:00 EST = 18:00 UTC
    (utc(2026, 11, 27, 18, 15), "2026-11-28"),
    (utc(2026, 11, 27, 18, 14), "2026-11-27"),
    # ...and a normal day at that hour is still open
    (utc(2026, 11, 24, 18, 15), "2026-11-24"),
    # Christmas and a Saturday: no session, the day is over at UTC midnight only
    (utc(2026, 12, 25, 21, 30), "2026-12-25"),
    (utc(2026, 11, 28, 23, 59), "2026-11-28"),
])
def test_a_day_is_over_only_after_its_session_has_closed(now, first_open):
    assert first_open_day(now) == first_open


def test_the_grace_is_a_few_minutes_and_a_naive_time_is_utc():
    assert dt.timedelta(minutes=5) <= GRACE <= dt.timedelta(minutes=30)
    assert first_open_day(dt.datetime(2026, 11, 30, 21, 30)) == "2026-12-01"
    # the same instant given in New York's time
    new_york = utc(2026, 11, 30, 21, 30).astimezone(dt.timezone(dt.timedelta(hours=-5)))
    assert first_open_day(new_york) == "2026-12-01"
