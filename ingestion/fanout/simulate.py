"""Fan-out on a simulated clock, to size it before paying for it: the planner's N symbols on a
queue, an event source that runs at most `concurrency` worker invocations at a time with up to
`batch_size` messages each, the token bucket's own arithmetic (glue_jobs/lake/token_bucket_math.py)
and the worker's own rules (ingestion/fanout/retry_plan.py: how long it may wait for a token
before its timeout, the retry delays, the dead-letter queue after 5 receives). Pure and
deterministic for a seed; no queue, bucket or network is touched.

Fetch times are drawn between fetch_min_s and fetch_max_s; `flaky` symbols answer a 502 on their
first receive, `broken` ones on every receive (they must end in the dead-letter queue). Messages
are delivered oldest-visible first, so a retried message waits behind the first pass, as on a
standard queue under load (SQS's order is best-effort; never sooner). A message given back for a
late token still counts a receive, and the redrive policy dead-letters it after 5, as on SQS.
"""
from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

from glue_jobs.lake import token_bucket_math as tb
from glue_jobs.ports.queue import MAX_RECEIVE_COUNT
from glue_jobs.ports.token_bucket import BucketState, Limits
from ingestion import source_api as kinds
from ingestion.fanout.retry_plan import DEAD_LETTERED, FETCHED, RETRY, accepts_wait, after_answer

START = 1_795_000_000.0  # a weekday, 2026-11-18 (only the quota day depends on it)


@dataclass(frozen=True)
class Setup:
    symbols: int = 5000
    calls_per_minute: int = 75
    calls_per_day: int | None = None
    concurrency: int = 5  # the event source mapping's MaximumConcurrency
    batch_size: int = 10
    timeout_s: float = 300.0  # the worker Lambda's timeout
    fetch_budget_s: float = 90.0  # what a worker keeps for one fetch when deciding to wait
    fetch_min_s: float = 0.3
    fetch_max_s: float = 2.5
    start_overhead_s: float = 0.5  # a warm invocation's start; cold ones are rarer than one per worker
    flaky: int = 0
    broken: int = 0
    seed: int = 7


@dataclass
class Outcome:
    makespan_s: float = 0.0
    invocations: int = 0
    max_invocation_s: float = 0.0
    grants: list[float] = field(default_factory=list)
    settled: dict[int, str] = field(default_factory=dict)  # symbol index -> FETCHED | DEAD_LETTERED
    returned: int = 0  # messages given back because the token would come too late
    receives: int = 0

    def max_calls_in_any_minute(self) -> int:
        return tb.grants_in_window(self.grants, 60.0)

    def mean_calls_per_minute(self) -> float:
        if len(self.grants) < 2:
            return float(len(self.grants))
        return len(self.grants) / ((self.grants[-1] - self.grants[0]) / 60.0)


def simulate(setup: Setup) -> Outcome:
    if setup.fetch_budget_s + 5.0 >= setup.timeout_s:
        raise ValueError(f"a worker timeout of {setup.timeout_s:g} s leaves no room for one fetch "
                         f"({setup.fetch_budget_s:g} s) and the margin: raise the timeout")
    rng = random.Random(setup.seed)
    limits = Limits(setup.calls_per_minute, setup.calls_per_day)
    bucket = BucketState()
    out = Outcome()
    visible: list[tuple[float, int, int]] = [(START, n, 0) for n in range(setup.symbols)]  # (visible at, symbol, receives)
    heapq.heapify(visible)
    flaky = set(range(setup.flaky))
    broken = set(range(setup.flaky, setup.flaky + setup.broken))
    # running invocations: heap of (next event time, invocation id, invocation)
    running: list[tuple[float, int, _Invocation]] = []
    now, next_id = START, 0
    while visible or running:
        # the event source starts invocations while there is room and a visible message
        while len(running) < setup.concurrency and visible and visible[0][0] <= now:
            batch = [heapq.heappop(visible) for _ in range(min(setup.batch_size, len(visible)))
                     if visible and visible[0][0] <= now]
            for _, s, r in batch:
                if r >= MAX_RECEIVE_COUNT:  # the queue's redrive policy: to the dead-letter queue, not delivered
                    out.settled[s] = DEAD_LETTERED
            batch = [b for b in batch if b[2] < MAX_RECEIVE_COUNT]
            if not batch:
                continue
            invocation = _Invocation(now, [(s, r + 1) for _, s, r in batch])
            out.invocations += 1
            out.receives += len(batch)
            heapq.heappush(running, (now + setup.start_overhead_s, next_id, invocation))
            next_id += 1
        if not running:
            if not visible:
                break
            now = max(now, visible[0][0])
            continue
        at, ident, invocation = heapq.heappop(running)
        now = at
        if not invocation.pending:
            out.max_invocation_s = max(out.max_invocation_s, now - invocation.started)
            continue
        symbol, receives = invocation.pending[0]
        remaining = setup.timeout_s - (now - invocation.started)
        decision = tb.decide(bucket, limits, now)
        if not decision.granted:
            if accepts_wait(decision.wait_s, remaining, setup.fetch_budget_s):
                heapq.heappush(running, (now + decision.wait_s, ident, invocation))
                continue
            # the token comes too late for this invocation: this and the rest of its batch go back
            out.returned += len(invocation.pending)
            for s, r in invocation.pending:
                heapq.heappush(visible, (now + decision.wait_s, s, r))
            invocation.pending.clear()
            heapq.heappush(running, (now, ident, invocation))
            continue
        bucket = decision.state
        out.grants.append(now)
        fetched_at = now + rng.uniform(setup.fetch_min_s, setup.fetch_max_s)
        failing = symbol in broken or (symbol in flaky and receives == 1)
        step = after_answer(kinds.SERVER_ERROR if failing else kinds.DATA, "http 502", receives,
                            jitter=rng.random(), max_receive_count=MAX_RECEIVE_COUNT)
        invocation.pending.pop(0)
        if step.action == RETRY:
            heapq.heappush(visible, (fetched_at + step.delay_s, symbol, receives))
        else:
            out.settled[symbol] = FETCHED if step.outcome == FETCHED else DEAD_LETTERED
            out.makespan_s = max(out.makespan_s, fetched_at - START)
        heapq.heappush(running, (fetched_at, ident, invocation))
    return out


@dataclass
class _Invocation:
    started: float
    pending: list[tuple[int, int]]  # (symbol, receive count)
