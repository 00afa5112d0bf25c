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
