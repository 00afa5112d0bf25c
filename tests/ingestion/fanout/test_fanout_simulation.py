"""The fan-out simulation at a small scale: the invariants the 5,000-symbol figure rests on."""
from __future__ import annotations

import pytest

from ingestion.fanout.retry_plan import DEAD_LETTERED, FETCHED
from ingestion.fanout.simulate import Setup, simulate


@pytest.mark.parametrize("setup", [
    Setup(symbols=400, calls_per_minute=75, concurrency=5, batch_size=10, flaky=30, broken=4),
    Setup(symbols=150, calls_per_minute=5, concurrency=3, batch_size=1, timeout_s=180, seed=3),
])
def test_fan_out_keeps_the_key_limit_and_the_timeout_and_settles_every_symbol(setup):
    out = simulate(setup)
    assert out.max_calls_in_any_minute() <= setup.calls_per_minute
    assert out.max_invocation_s <= setup.timeout_s
    assert set(out.settled) == set(range(setup.symbols))
    dead = {s for s, o in out.settled.items() if o == DEAD_LETTERED}
    assert dead == set(range(setup.flaky, setup.flaky + setup.broken))
    assert all(out.settled[s] == FETCHED for s in range(setup.flaky))  # a first-receive 502 is retried, not lost


def test_an_oversubscribed_fan_out_gives_messages_back_instead_of_sleeping_past_its_timeout():
    # too many workers for the key and a short timeout: token waits outgrow what an invocation
    # has left; messages go back to the queue, and what went back 5 times is dead-lettered by the
    # redrive policy (which is why the stack keeps MaximumConcurrency small)
    setup = Setup(symbols=300, calls_per_minute=30, concurrency=40, batch_size=10, timeout_s=120, fetch_budget_s=60)
    out = simulate(setup)
    assert out.returned > 0
    assert out.max_invocation_s <= setup.timeout_s
    assert out.max_calls_in_any_minute() <= setup.calls_per_minute
    assert set(out.settled) == set(range(setup.symbols))
    assert any(o == DEAD_LETTERED for o in out.settled.values())


def test_the_makespan_is_the_key_allowance_not_the_worker_count():
    out = simulate(Setup(symbols=750, calls_per_minute=75, concurrency=5))
    # 750 calls at 75 a minute: the last one goes 9 min 59 s after the first
    assert 9.9 * 60 <= out.makespan_s <= 10.1 * 60
    assert out.mean_calls_per_minute() == pytest.approx(75, rel=0.01)
