from __future__ import annotations

import datetime as dt
import math

import pytest

from ingestion.rate_limit import RatePlanner, utc_day

MIDNIGHT = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc).timestamp()
DAY = 86_400.0


def simulate(planner: RatePlanner, start: float, until: float, jitter: float = 0.0) -> list[float]:
    """Call as fast as the planner allows from start to until; a day with no quota left is
    skipped to the next UTC midnight. Returns the call times."""
    now, calls = start, []
    step = 0
    while now < until:
        wait = planner.wait_time(now)
        if math.isinf(wait):
            now = (math.floor(now / DAY) + 1) * DAY
            continue
        if wait > 0:
            now += wait
            continue
        planner.record(now)
        calls.append(now)
        step += 1
        now += jitter * (step % 3)  # callers are not perfectly regular
    return calls


def assert_within_limits(calls, per_minute, per_day, spacing):
    for i in range(len(calls) - per_minute):
        assert calls[i + per_minute] - calls[i] >= 60.0, f"more than {per_minute} calls within a minute at {i}"
    days: dict[str, int] = {}
    for t in calls:
        days[utc_day(t)] = days.get(utc_day(t), 0) + 1
    if per_day is not None:
        assert max(days.values()) <= per_day
    assert all(b - a >= spacing for a, b in zip(calls, calls[1:]))
    return days


@pytest.mark.parametrize("jitter", [0.0, 0.37])
def test_free_key_never_exceeds_either_limit_over_three_days(jitter):
    planner = RatePlanner(5, 25, 1.2)
    calls = simulate(planner, MIDNIGHT + 22 * 3600, MIDNIGHT + 3 * DAY + 22 * 3600, jitter)
    days = assert_within_limits(calls, 5, 25, 1.2)
    # the quota is used, not wasted: every full day gets its 25 calls
    assert days["2026-11-21"] == 25 and days["2026-11-22"] == 25


def test_premium_key_stays_under_its_per_minute_rate_for_an_hour():
    planner = RatePlanner(75, None, 0.0)
    calls = simulate(planner, MIDNIGHT, MIDNIGHT + 3600, jitter=0.05)
    assert_within_limits(calls, 75, None, 0.0)
    assert len(calls) >= 75 * 59  # and it is not needlessly slow


def test_minimum_spacing_holds_between_every_call():
    planner = RatePlanner(None, None, 1.5)
    calls = simulate(planner, MIDNIGHT, MIDNIGHT + 60)
    assert_within_limits(calls, 1000, None, 1.5)
    assert len(calls) >= 39  # 60 s at one call per 1.5 s


def test_first_call_goes_at_once_and_a_spent_day_waits_forever():
    planner = RatePlanner(5, 2, 0.0)
    assert planner.wait_time(MIDNIGHT) == 0
    planner.record(MIDNIGHT)
    planner.record(MIDNIGHT + 1)
    assert math.isinf(planner.wait_time(MIDNIGHT + 2))
    assert planner.wait_time(MIDNIGHT + DAY) == 0  # a new quota day


def test_calls_made_earlier_today_count():
    planner = RatePlanner(5, 25, 0.0, used_today=24, day="2026-11-20")
    assert planner.wait_time(MIDNIGHT + 10) == 0
    planner.record(MIDNIGHT + 10)
    assert math.isinf(planner.wait_time(MIDNIGHT + 100))
    assert planner.calls_by_day == {"2026-11-20": 25}


def test_used_today_without_a_day_means_the_first_day_seen():
    planner = RatePlanner(5, 3, 0.0, used_today=3)
    assert math.isinf(planner.wait_time(MIDNIGHT))


def test_usage_absorbed_from_the_lake_state_counts():
    planner = RatePlanner(5, 25, 0.0)
    planner.absorb_usage(utc_day(MIDNIGHT), 25)
    assert math.isinf(planner.wait_time(MIDNIGHT + 5))
    assert planner.remaining(MIDNIGHT + DAY) == 25


def test_back_off_delays_the_next_call():
    planner = RatePlanner(5, 25, 1.0)
    planner.record(MIDNIGHT)
    planner.back_off(MIDNIGHT, 60)
    assert planner.wait_time(MIDNIGHT + 10) == pytest.approx(50, abs=0.01)
    assert planner.wait_time(MIDNIGHT + 60.01) == 0


def test_a_daily_cap_answer_stops_calls_until_the_next_quota_day():
    planner = RatePlanner(5, 25, 0.0)
    planner.record(MIDNIGHT + 5)
    planner.exhaust_day(MIDNIGHT + 6)
    assert math.isinf(planner.wait_time(MIDNIGHT + 3600))
    assert planner.calls_by_day == {"2026-11-20": 25}  # what the lake's state will remember
    assert planner.wait_time(MIDNIGHT + DAY + 1) == 0


def test_the_per_minute_wait_is_exactly_until_the_oldest_call_leaves_the_window():
    planner = RatePlanner(2, None, 0.0)
    planner.record(MIDNIGHT)
    planner.record(MIDNIGHT + 10)
    assert planner.wait_time(MIDNIGHT + 20) == pytest.approx(40, abs=0.01)


@pytest.mark.parametrize("args, message", [
    ((0, 25), "calls_per_minute must be at least 1 or None, got 0"),
    ((5, 0), "calls_per_day must be at least 1 or None, got 0"),
    ((-1, None), "calls_per_minute must be at least 1 or None, got -1"),
])
def test_impossible_limits_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        RatePlanner(*args)


def test_a_higher_quota_lifts_a_day_an_earlier_run_found_spent():
    earlier = RatePlanner(5, 25, 0.0)
    earlier.exhaust_day(MIDNIGHT + 5)
    upgraded = RatePlanner(75, 1200, 0.0)
    upgraded.absorb_usage(utc_day(MIDNIGHT), earlier.calls_by_day[utc_day(MIDNIGHT)])
    assert upgraded.wait_time(MIDNIGHT + 10) == 0 and upgraded.remaining(MIDNIGHT + 10) == 1175


def test_a_premium_rate_spreads_calls_evenly_instead_of_keeping_the_free_burst_spacing():
    from ingestion.sources import build_planner

    free = build_planner("alphavantage", env={})
    premium = build_planner("alphavantage", env={}, calls_per_minute=75, calls_per_day=100_000)
    assert free.min_interval_s == 1.2 and free.calls_per_minute == 5
    assert premium.min_interval_s == pytest.approx(0.8)
    now, made = 0.0, 0
    while now < 600:
        wait = premium.wait_time(now)
        if wait:
            now += wait
            continue
        premium.record(now)
        made += 1
    assert made >= 0.98 * 75 * 10
