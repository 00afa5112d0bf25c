"""Regular NYSE hours: open 9:30-16:00 New York time (either side of a DST change), early
closes at 13:00, holidays and weekends closed, and the next session named."""
from __future__ import annotations

import datetime as dt

from glue_jobs.lake.session_hours import latest_session, next_session, open_session, session_of

UTC = dt.timezone.utc


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_regular_hours_in_winter_and_summer_time():
    assert open_session(at("2026-11-30 14:29:59")) is None
    assert open_session(at("2026-11-30 14:30:00")).day == dt.date(2026, 11, 30)  # 9:30 EST
    assert open_session(at("2026-11-30 20:59:59")) is not None
    assert open_session(at("2026-11-30 21:00:00")) is None  # 16:00 EST
    assert open_session(at("2026-07-01 13:30:00")) is not None  # 9:30 EDT
    assert open_session(at("2026-07-01 20:00:00")) is None


def test_the_day_after_thanksgiving_christmas_eve_and_july_3rd_close_at_one():
    for day, close_utc in (("2026-11-27", "18:00"), ("2026-12-24", "18:00"), ("2025-07-03", "17:00")):
        session = session_of(dt.date.fromisoformat(day))
        assert session.early_close and session.close_utc.strftime("%H:%M") == close_utc
        assert session.seconds == 3.5 * 3600
    assert not session_of(dt.date(2026, 11, 30)).early_close


def test_holidays_and_weekends_are_closed_and_the_next_open_is_named():
    assert session_of(dt.date(2026, 11, 26)) is None  # Thanksgiving
    assert session_of(dt.date(2026, 12, 25)) is None
    assert open_session(at("2026-11-28 15:00:00")) is None  # a Saturday
    assert next_session(at("2026-11-28 15:00:00")).open_utc == at("2026-11-30 14:30:00")
    assert next_session(at("2026-12-24 19:00:00")).open_utc == at("2026-12-28 14:30:00")  # after Christmas
    assert next_session(at("2026-11-30 15:00:00")).day == dt.date(2026, 11, 30)  # open now: this one


def test_the_synthetic_day_is_the_latest_session_that_opened():
    assert latest_session(at("2026-11-28 15:00:00")).day == dt.date(2026, 11, 27)
    assert latest_session(at("2026-11-30 14:00:00")).day == dt.date(2026, 11, 27)  # before Monday's open
    assert latest_session(at("2026-11-30 22:00:00")).day == dt.date(2026, 11, 30)
