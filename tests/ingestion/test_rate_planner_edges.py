"""The rate planner's edges that mutation testing found unguarded: defaults, the smallest
limits, the UTC quota day whatever the machine's zone, a spent day, usage absorbed from the lake."""
from __future__ import annotations

import datetime as dt
import math
import time

import pytest

from ingestion.rate_limit import RatePlanner, utc_day

T = dt.datetime(2024, 3, 8, 15, 0, tzinfo=dt.timezone.utc).timestamp()
DAY = 86_400


def test_without_limits_calls_go_back_to_back():
    planner = RatePlanner(None, None)
    planner.record(T)
    assert planner.wait_time(T) == 0.0
    assert planner.remaining(T) == math.inf


def test_one_call_a_minute_and_one_a_day_are_valid_limits():
    planner = RatePlanner(1, 1)
    assert planner.wait_time(T) == 0.0
    planner.record(T)
    assert planner.wait_time(T + 1) == math.inf  # the day's one call is made


def test_the_quota_day_is_utcs_whatever_the_machines_zone(monkeypatch):
    if not hasattr(time, "tzset"):
        pytest.skip("no tzset")
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        late = dt.datetime(2024, 3, 9, 1, 0, tzinfo=dt.timezone.utc).timestamp()  # 20:00 on the 8th in New York
        assert utc_day(late) == "2024-03-09"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_a_fresh_planner_has_used_nothing_today():
    planner = RatePlanner(5, 10)
    assert planner.used(T) == 0 and planner.remaining(T) == 10


def test_a_spent_day_blocks_even_without_a_daily_limit_until_the_next_day():
    planner = RatePlanner(5, None)
    planner.exhaust_day(T)
    assert planner.remaining(T) == 0 and planner.wait_time(T + 60) == math.inf
    assert planner.wait_time(T + DAY) == 0.0


def test_a_spent_day_is_recorded_as_the_whole_quota():
    planner = RatePlanner(5, 25)
    planner.record(T)
    planner.exhaust_day(T + 1)
    assert planner.calls_by_day == {"2024-03-08": 25}
    assert planner.used(T + 2) == 25


def test_usage_absorbed_from_the_lake_never_lowers_a_days_count():
    planner = RatePlanner(5, 25, day="2024-03-08")
    planner.absorb_usage("2024-03-08", 7)
    planner.absorb_usage("2024-03-08", 3)
    assert planner.used(T) == 7 and planner.remaining(T) == 18
    planner.absorb_usage("2024-03-09", 4)  # another day's count waits for that day
    assert planner.used(T) == 7 and planner.used(T + DAY) == 4


NOV20 = dt.datetime(2026, 11, 20, 12, tzinfo=dt.timezone.utc).timestamp()


def test_usage_given_for_an_earlier_day_does_not_count_today():
    planner = RatePlanner(None, 25, used_today=20, day="2026-11-19")
    assert planner.day == "2026-11-19" and planner.calls_by_day == {"2026-11-19": 20}
    assert planner.remaining(NOV20) == 25 and planner.used(NOV20) == 0
    assert planner.day == "2026-11-20" and planner.quota_day(NOV20) == "2026-11-20"
    assert planner.calls_by_day == {"2026-11-19": 20}


def test_a_new_quota_day_is_the_planners_day_from_its_first_call():
    planner = RatePlanner(None, 25, used_today=3, day="2026-11-19")
    planner.record(NOV20)
    assert planner.day == "2026-11-20" and planner.calls_by_day == {"2026-11-19": 3, "2026-11-20": 1}


def test_a_day_absorbed_with_no_calls_counts_none():
    planner = RatePlanner(None, 25)
    planner.absorb_usage("2026-11-20", 0)
    assert planner.used(NOV20) == 0 and planner.remaining(NOV20) == 25


def test_a_short_back_off_is_as_short_as_the_server_asked():
    planner = RatePlanner(None, None)
    planner.back_off(NOV20, 0.2)
    assert planner.wait_time(NOV20) == pytest.approx(0.2, abs=0.01)
    planner.back_off(NOV20, -5)  # a negative wait from a confused header never shortens it
    assert planner.wait_time(NOV20) == pytest.approx(0.2, abs=0.01)


def test_a_call_recorded_late_does_not_move_the_spacing_back():
    planner = RatePlanner(None, None, min_interval_s=10)
    planner.record(NOV20 + 100)
    planner.record(NOV20 + 90)  # another worker's call, reported after ours
    assert planner.wait_time(NOV20 + 95) == pytest.approx(15, abs=0.01)


def test_at_exactly_the_spacing_a_call_may_go_at_once():
    planner = RatePlanner(None, None, min_interval_s=10)
    planner.record(NOV20)
    assert planner.wait_time(NOV20 + 10) == 0.0
    assert planner.wait_time(NOV20 + 9) > 1.0


def test_a_negative_spacing_is_refused_with_its_value():
    with pytest.raises(ValueError, match=r"^min_interval_s must be >= 0, got -1$"):
        RatePlanner(None, None, min_interval_s=-1)
