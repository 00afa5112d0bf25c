"""The token bucket's arithmetic without any store: grants, waits, the per-minute and per-day
limits, back-offs and the quota day's roll."""
from __future__ import annotations

import datetime as dt
import heapq
import random

import pytest

from glue_jobs.lake import token_bucket_math as tb
from glue_jobs.ports.token_bucket import BACK_OFF, DAILY_QUOTA, PER_MINUTE, BucketState, Limits

NOON = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.timezone.utc).timestamp()


def _run(limits: Limits, start: float, seconds: float, callers: int, seed: int = 1) -> list[float]:
    """Callers that ask, sleep the wait they are given (or a fetch's time after a grant) and ask
    again, for `seconds`: the times of the grants."""
    rng = random.Random(seed)
    state, grants = BucketState(), []
    asks = [(start + rng.uniform(0, 1), n) for n in range(callers)]
    heapq.heapify(asks)
    while asks[0][0] < start + seconds:
        at, caller = heapq.heappop(asks)
        decision = tb.decide(state, limits, at)
        if decision.granted:
            state = decision.state
            grants.append(at)
            heapq.heappush(asks, (at + rng.uniform(0.2, 3.0), caller))
        else:
            assert decision.wait_s > 0
            heapq.heappush(asks, (at + decision.wait_s, caller))
    return grants


def test_a_fresh_bucket_grants_at_once_and_the_next_token_waits_the_spacing():
    limits = Limits(75, None)
    first = tb.decide(BucketState(), limits, NOON)
    assert first.granted and first.wait_s == 0 and first.state.used == 1
    second = tb.decide(first.state, limits, NOON + 0.5)
    assert not second.granted and second.reason == PER_MINUTE
    assert second.wait_s == pytest.approx(0.3, abs=1e-3)
    assert tb.decide(first.state, limits, NOON + second.wait_s + 0.5).granted


def test_no_60_s_window_ever_holds_more_than_calls_per_minute_and_the_allowance_is_used():
    limits = Limits(75, None)
    grants = _run(limits, NOON, 600, callers=20)
    assert tb.grants_in_window(grants, 60.0) == 75
    assert len(grants) >= 75 * 10 - 2  # the whole allowance, not a cautious fraction of it


def test_min_interval_wins_over_a_looser_per_minute_spacing():
    limits = Limits(5, None, min_interval_s=15.0)
    grants = _run(limits, NOON, 120, callers=5)
    assert min(b - a for a, b in zip(grants, grants[1:])) >= 15.0


def test_the_daily_quota_stops_grants_until_the_next_utc_day():
    limits = Limits(None, 3)
    state = BucketState()
    for n in range(3):
        decision = tb.decide(state, limits, NOON + n)
        assert decision.granted
        state = decision.state
    refused = tb.decide(state, limits, NOON + 10)
    assert not refused.granted and refused.reason == DAILY_QUOTA
    assert refused.wait_s == pytest.approx(12 * 3600 - 10)
    assert tb.decide(state, limits, NOON + refused.wait_s + 10).granted  # a new quota day


def test_exhaust_day_refuses_whatever_the_count_says_and_lifts_the_next_day():
    limits = Limits(75, 100_000)
    state = tb.exhausted(tb.decide(BucketState(), limits, NOON).state, limits, NOON + 1)
    assert tb.decide(state, limits, NOON + 100).reason == DAILY_QUOTA
    assert tb.decide(state, limits, NOON + 13 * 3600).granted


def test_back_off_holds_every_grant_and_says_so():
    limits = Limits(75, None)
    state = tb.backed_off(BucketState(), NOON, 60)
    refused = tb.decide(state, limits, NOON + 1)
    assert (refused.granted, refused.reason) == (False, BACK_OFF)
    assert refused.wait_s == pytest.approx(59)
    assert tb.backed_off(state, NOON, 10) == state  # a shorter back-off does not shorten a longer one


def test_a_refusal_leaves_the_version_so_only_grants_and_back_offs_write():
    limits = Limits(1, None)
    granted = tb.decide(BucketState(), limits, NOON).state
    assert granted.version == 1
    assert tb.decide(granted, limits, NOON + 1).state.version == 1


def test_grants_in_window_counts_half_open_windows():
    assert tb.grants_in_window([0, 59.999, 60], 60) == 2
    assert tb.grants_in_window([0, 30, 59.9, 60, 61], 60) == 4
    assert tb.grants_in_window([], 60) == 0
