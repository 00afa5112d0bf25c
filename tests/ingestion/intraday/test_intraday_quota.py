"""The interval a key sustains for a watchlist over a session: the arithmetic, the refusal's
message, and a schedule at the tightest interval checked call by call against the key's limits
(the rate planner, which the ingest already trusts) and against how much of them it uses."""
from __future__ import annotations

import math

import pytest

from ingestion.intraday.producer import Schedule
from ingestion.intraday.quota import IntervalRefused, Limits, check_interval, tightest_interval
from ingestion.rate_limit import RatePlanner

SESSION = 6.5 * 3600  # 9:30 to 16:00
EARLY = 3.5 * 3600  # 9:30 to 13:00
FREE = Limits(calls_per_minute=5, calls_per_day=25, min_spacing_s=1.2)
PREMIUM = Limits(calls_per_minute=75, calls_per_day=100_000, min_spacing_s=0.0)


def test_a_free_key_is_bound_by_its_day_a_premium_key_by_its_minute():
    free = tightest_interval(10, FREE, SESSION)
    assert (free.binding, free.interval_s, free.calls) == ("day", 10 * SESSION / 25, 25)
    premium = tightest_interval(20, PREMIUM, SESSION)
    assert (premium.binding, premium.spacing_s, premium.interval_s) == ("minute", 0.8, 16.0)
    assert tightest_interval(1, Limits(None, None, 1.2), SESSION).binding == "spacing"


def test_an_early_close_leaves_more_of_the_day_per_hour():
    assert tightest_interval(10, FREE, EARLY).interval_s == pytest.approx(10 * EARLY / 25)


def test_used_calls_shrink_what_is_left_of_the_day():
    assert tightest_interval(5, Limits(5, 25, 1.2, used_today=20), SESSION).interval_s == pytest.approx(SESSION)
    with pytest.raises(IntervalRefused, match="quota of 25 calls is spent"):
        tightest_interval(5, Limits(5, 25, 1.2, used_today=25), SESSION)


def test_an_interval_the_key_cannot_sustain_is_refused_naming_the_shortest_it_can():
    with pytest.raises(IntervalRefused) as refused:
        check_interval(60, 10, FREE, SESSION)
    assert "the shortest interval it sustains is 9360 s (--interval 9360)" in str(refused.value)
    assert "25 calls left today over a 6.5 h session" in str(refused.value)
    with pytest.raises(IntervalRefused, match=r"\(75 calls a minute\): the shortest interval it sustains is 16 s"):
        check_interval(15.9, 20, PREMIUM, SESSION)
    assert check_interval(16, 20, PREMIUM, SESSION).spacing_s == 0.8  # the named one is accepted


def test_the_printed_shortest_interval_is_always_accepted():
    for symbols in (1, 3, 7, 13, 50):
        for limits in (FREE, PREMIUM, Limits(30, 500, 0.5)):
            try:
                check_interval(0.01, symbols, limits, SESSION)
            except IntervalRefused as exc:
                shown = float(str(exc).split("(--interval ")[1].split(")")[0])
                assert check_interval(shown, symbols, limits, SESSION).interval_s == shown


@pytest.mark.parametrize("symbols, limits", [(20, PREMIUM), (10, FREE), (4, Limits(30, 1000, 1.0))])
def test_the_tightest_schedule_keeps_within_every_limit_and_uses_at_least_98_percent(symbols, limits):
    plan = tightest_interval(symbols, limits, SESSION)
    schedule = Schedule(tuple(f"S{i}" for i in range(symbols)), plan.spacing_s, 0, int(SESSION * 1000))
    planner = RatePlanner(limits.calls_per_minute, limits.calls_per_day, limits.min_spacing_s,
                          day_of=lambda now: "day")
    times = []
    k = 0
    while schedule.due_ms(k) < schedule.close_ms:
        at = schedule.due_ms(k) / 1000
        assert planner.wait_time(at) <= 1e-3 + 1e-9, f"call {k} at {at} s breaks a limit"
        planner.record(at)
        times.append(at)
        k += 1
    assert len(times) <= (limits.calls_per_day or math.inf)
    if plan.binding == "day":
        assert len(times) >= 0.98 * limits.calls_per_day
    else:  # the busiest minute uses the whole per-minute allowance
        per_window = max(sum(1 for t in times if start <= t < start + 60) for start in times[:500])
        assert per_window >= 0.98 * limits.calls_per_minute
