"""What a worker does with one fetch's answer, and whether it may wait for a token: pure.

    data                                  settled: fetched (the message is deleted)
    invalid_symbol, empty_series, unexpected
                                          settled: failed for good (as the single-run ingest)
    daily_cap, bad_key, premium           settled: carried to the next day's plan first (every
                                          call today would get the same answer)
    rate_limit                            back to the queue after the server's window (the whole
                                          bucket backs off too); a burst answer after a few seconds
    html, truncated, server_error, deadline, too_large
                                          back to the queue after 30 s, 60 s, 120 s, ... (jittered)
A message that has been received MAX_RECEIVE_COUNT times and fails again goes to the dead-letter
queue and is named in the run log (and carried to the next day, as a transient failure is).
"""
from __future__ import annotations

from dataclasses import dataclass

from glue_jobs.ports.queue import MAX_RECEIVE_COUNT
from ingestion import source_api as kinds

FETCHED, FAILED, CARRIED, DEAD_LETTERED = "fetched", "failed", "carried", "dead_lettered"
SETTLED = (FETCHED, FAILED, CARRIED, DEAD_LETTERED)
RETRY, SETTLE = "retry", "settle"

PER_MINUTE_WAIT_S = 60.0
BURST_WAIT_S = 5.0
TRANSIENT_BASE_S = 30.0
TRANSIENT_MAX_S = 900.0  # SQS's longest DelaySeconds; a visibility timeout could go longer, we need not
_FOR_GOOD = (kinds.INVALID_SYMBOL, kinds.EMPTY_SERIES, kinds.UNEXPECTED)
_CARRY = (kinds.DAILY_CAP, kinds.BAD_KEY, kinds.PREMIUM)


@dataclass(frozen=True)
class Step:
    action: str  # RETRY (visible again after delay_s) or SETTLE (with outcome)
    outcome: str | None = None  # FETCHED | FAILED | CARRIED | DEAD_LETTERED when settled
    delay_s: int = 0
    back_off_s: float = 0.0  # hold the shared bucket this long (a limit answer)
    reason: str = ""


def after_answer(kind: str, detail: str, receive_count: int, *, jitter: float = 0.5,
                 max_receive_count: int = MAX_RECEIVE_COUNT) -> Step:
    """The next step for a message after its fetch answered `kind` on its `receive_count`-th
    receive. `jitter` in [0, 1) spreads the retries of many symbols (0.5: none)."""
    if kind == kinds.DATA:
        return Step(SETTLE, FETCHED)
    if kind in _FOR_GOOD:
        return Step(SETTLE, FAILED, reason=kind)
    if kind in _CARRY:
        return Step(SETTLE, CARRIED, reason=kind)
    back_off = 0.0
    if kind == kinds.RATE_LIMIT:
        per_minute = "burst" not in detail  # a 429 or the per-minute text: the window
        delay = back_off = PER_MINUTE_WAIT_S if per_minute else BURST_WAIT_S
    else:
        delay = min(TRANSIENT_MAX_S, TRANSIENT_BASE_S * 2 ** max(0, receive_count - 1))
        delay *= 0.8 + 0.4 * jitter
    if receive_count >= max_receive_count:
        return Step(SETTLE, DEAD_LETTERED, back_off_s=back_off,
                    reason=f"{kind} on each of {receive_count} receives; the last: {detail or kind}")
    return Step(RETRY, delay_s=max(1, int(round(delay))), back_off_s=back_off, reason=f"{kind} ({detail or 'no detail'})")


def accepts_wait(wait_s: float, remaining_s: float, fetch_budget_s: float, margin_s: float = 5.0) -> bool:
    """May a worker with `remaining_s` before its timeout wait `wait_s` for a token and still
    fetch (at most `fetch_budget_s`) and record the result? If not, it returns the message."""
    return wait_s + fetch_budget_s + margin_s <= remaining_s
