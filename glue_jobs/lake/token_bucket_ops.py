"""The token bucket's operations in terms of one atomic read-change-write, which each adapter
provides its own way (a locked SQLite transaction; a DynamoDB put conditional on the version
read): what a grant, a back-off and a spent day change is the same on both."""
from __future__ import annotations

from collections.abc import Callable

from glue_jobs.lake import token_bucket_math as tb
from glue_jobs.ports.token_bucket import BucketState, Decision, Limits


class AtomicBucket:
    limits: Limits

    def _read(self) -> BucketState:
        raise NotImplementedError

    def _update(self, change: Callable[[BucketState, float], tuple[BucketState, Decision | None]]) -> Decision | None:
        """Apply `change` to the stored state atomically; returns the decision it made."""
        raise NotImplementedError

    def acquire(self) -> Decision:
        def change(state: BucketState, now: float) -> tuple[BucketState, Decision]:
            decision = tb.decide(state, self.limits, now)
            return (decision.state if decision.granted else state), decision

        decision = self._update(change)
        assert decision is not None
        return decision

    def back_off(self, seconds: float) -> None:
        self._update(lambda state, now: (tb.backed_off(state, now, seconds), None))

    def exhaust_day(self) -> None:
        self._update(lambda state, now: (tb.exhausted(state, self.limits, now), None))

    def state(self) -> BucketState:
        return self._read()
