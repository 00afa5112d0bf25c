"""Which polling interval a key can sustain for a watchlist over a session (pure).

The producer makes one call every `interval / len(symbols)` seconds, round robin over the
watchlist, from the session's open (so every symbol is fetched once per interval, and a
restarted producer keeps the same schedule). That spacing must respect, at once:

- the key's minimum spacing between calls (the free key's burst limit);
- its calls per minute: at spacing d, a 60 s window holds 60 / d calls;
- its calls per day: a session of S seconds holds ceil(S / d) calls, which must fit in what is
  left of the day's quota once the calls already made on it (the daily ingestion shares the
  key) are taken off.

The tightest interval is the largest of the three bounds; asked for it, the producer spends the
binding allowance whole (the last call of the day's quota, or every call of each minute).
"""
from __future__ import annotations

import math
from dataclasses import dataclass


class IntervalRefused(ValueError):
    """The interval asked for is shorter than the key can sustain; names the one it can."""

    def __init__(self, message: str, tightest_s: float):
        super().__init__(message)
        self.tightest_s = tightest_s


@dataclass(frozen=True)
class Limits:
    calls_per_minute: int | None  # None: unlimited
    calls_per_day: int | None
    min_spacing_s: float = 0.0
    used_today: int = 0  # calls already spent on the quota day
    used_by: str = "earlier calls"  # who spent them, for the refusal (the daily ingestion)


@dataclass(frozen=True)
class Plan:
    interval_s: float  # each symbol once per this many seconds
    spacing_s: float  # one call every this many seconds
    calls: int  # calls the session holds at that spacing
    binding: str  # which limit decided the tightest interval: "minute", "day", "spacing" or "none"


def tightest_interval(symbols: int, limits: Limits, session_s: float) -> Plan:
    """The shortest interval the limits sustain for `symbols` over a session of `session_s`."""
    if symbols < 1:
        raise ValueError("a watchlist has at least one symbol")
    # on a tie the key's own allowance is named: the free key's spacing is derived from it
    bounds: dict[str, float] = {}
    if limits.calls_per_minute is not None:
        bounds["minute"] = 60.0 / limits.calls_per_minute
    if limits.calls_per_day is not None:
        left = limits.calls_per_day - limits.used_today
        if left < 1:
            raise IntervalRefused(f"the day's quota of {limits.calls_per_day} calls is spent ({limits.used_today} "
                                  f"made today by {limits.used_by}): no quote can be fetched before the next "
                                  "quota day (00:00 UTC)", math.inf)
        # ceil(S / d) <= left  <=>  d >= S / left
        bounds["day"] = session_s / left
    bounds.update(spacing=limits.min_spacing_s, none=0.0)
    binding = max(bounds, key=lambda k: bounds[k])
    spacing = bounds[binding]
    return Plan(spacing * symbols, spacing, _calls(session_s, spacing), binding)


def check_interval(requested_s: float, symbols: int, limits: Limits, session_s: float) -> Plan:
    """The plan for `requested_s`, or IntervalRefused naming the shortest sustainable interval."""
    tight = tightest_interval(symbols, limits, session_s)
    # a relative tolerance, so the tightest interval printed (rounded up) is always accepted
    if requested_s < tight.interval_s * (1 - 1e-9):
        shown = _round_up(tight.interval_s)
        why = {"minute": f"{limits.calls_per_minute} calls a minute",
               "day": f"{(limits.calls_per_day or 0) - limits.used_today} calls left today"
                      + (f" ({limits.calls_per_day} a day less {limits.used_today} made by {limits.used_by})"
                         if limits.used_today else "")
                      + f" over a {session_s / 3600:g} h session",
               "spacing": f"{limits.min_spacing_s:g} s between calls"}.get(tight.binding, "")
        raise IntervalRefused(
            f"--interval {requested_s:g} s for {symbols} symbol(s) needs a call every {requested_s / symbols:.3g} s, "
            f"more than the key sustains ({why}): the shortest interval it sustains is {shown:g} s "
            f"(--interval {shown:g}), or watch fewer symbols, or raise --calls-per-minute / --calls-per-day "
            "for a premium key", tight.interval_s)
    spacing = requested_s / symbols
    return Plan(requested_s, spacing, _calls(session_s, spacing), tight.binding)


def _calls(session_s: float, spacing_s: float) -> int:
    if spacing_s <= 0:
        return 0 if session_s <= 0 else 2**62
    return math.ceil(session_s / spacing_s - 1e-9)


def _round_up(seconds: float) -> float:
    """Up to the next hundredth of a second: a printed interval is one the key sustains."""
    return math.ceil(seconds * 100 - 1e-6) / 100
