"""The token bucket's arithmetic, apart from where the bucket is stored: given the stored state,
the limits and the time, grant or say how long to wait, and return the state to write back.

The bucket holds one token, refilled every max(60 / calls_per_minute, min_interval_s) seconds
(the generic cell-rate algorithm: `next_at` is when the next token is there). A bigger bucket
would let a burst after an idle minute plus the refill reach nearly twice the allowance inside
one 60 s window, and Alpha Vantage counts any minute: one token keeps every 60 s window at or
under calls_per_minute, and still uses the whole allowance (75 a minute = a grant every 0.8 s).

The quota day is the UTC day, as in ingestion/rate_limit.py. Pure: no clock, no I/O.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

from glue_jobs.ports.token_bucket import (
    BACK_OFF,
    DAILY_QUOTA,
    GRANTED,
    PER_MINUTE,
    BucketState,
    Decision,
    Limits,
)

# Added to every spacing: k grants spaced by exactly 60/k could land in one 60 s window after
# float rounding (0.8 * 75 = 59.99999...).
_SPACING_MARGIN_S = 1e-6


def quota_day(now: float) -> str:
    return dt.datetime.fromtimestamp(now, tz=dt.timezone.utc).date().isoformat()


def next_quota_day_at(now: float) -> float:
    """When the quota day after now's begins (UTC midnight)."""
    day = dt.datetime.fromtimestamp(now, tz=dt.timezone.utc).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(0), dt.timezone.utc).timestamp()


def spacing_s(limits: Limits) -> float:
    """Seconds between two grants."""
    per_minute = limits.window_s / limits.calls_per_minute if limits.calls_per_minute else 0.0
    spacing = max(per_minute, limits.min_interval_s)
    return spacing + _SPACING_MARGIN_S if spacing > 0 else 0.0


def rolled(state: BucketState, now: float) -> BucketState:
    """The state with its daily count moved to now's quota day."""
    today = quota_day(now)
    if state.day == today:
        return state
    return replace(state, day=today, used=0, spent=False)


def decide(state: BucketState, limits: Limits, now: float) -> Decision:
    """Grant a token at `now` or say how long to wait. The returned state is what to write back
    (with its version bumped) when granted; a refusal writes nothing."""
    current = rolled(state, now)
    if current.spent or (limits.calls_per_day is not None and current.used >= limits.calls_per_day):
        return Decision(False, max(next_quota_day_at(now) - now, 0.0) or 1e-3, DAILY_QUOTA, now, current)
    if current.next_at > now:
        reason = BACK_OFF if current.next_at - now > spacing_s(limits) else PER_MINUTE
        return Decision(False, current.next_at - now, reason, now, current)
    granted = replace(current, next_at=now + spacing_s(limits), used=current.used + 1, version=state.version + 1)
    return Decision(True, 0.0, GRANTED, now, granted)


def backed_off(state: BucketState, now: float, seconds: float) -> BucketState:
    """No grant before now + seconds (a limit answer from the server)."""
    target = now + max(0.0, seconds)
    if state.next_at >= target:
        return state
    return replace(state, next_at=target, version=state.version + 1)


def exhausted(state: BucketState, limits: Limits, now: float) -> BucketState:
    """The server said the day's quota is spent: nothing more on now's quota day."""
    current = rolled(state, now)
    used = max(current.used, limits.calls_per_day or 0)
    return replace(current, spent=True, used=used, version=state.version + 1)


def grants_in_window(times: list[float], window_s: float) -> int:
    """The most grants any half-open window [t, t + window_s) holds (a check for tests and the
    simulation: it must never exceed calls_per_minute)."""
    ordered = sorted(times)
    best = start = 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - window_s:
            start += 1
        best = max(best, end - start + 1)
    return best
