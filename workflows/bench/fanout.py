"""`tickerlake bench --fan-out`: the fan-out's figures on a simulated clock (seconds, not the
67 minutes it simulates): makespan, the longest worker invocation against its timeout, calls
per minute used against the key's allowance, every symbol landed or dead-lettered."""
from __future__ import annotations

from dataclasses import asdict

from ingestion.fanout.retry_plan import DEAD_LETTERED
from ingestion.fanout.simulate import Setup, simulate


def report(setup: Setup) -> tuple[list[str], bool]:
    """The printed lines and whether every invariant held."""
    out = simulate(setup)
    expected_dead = setup.broken
    peak = out.max_calls_in_any_minute()
    dead = sum(o == DEAD_LETTERED for o in out.settled.values())
    settled_all = len(out.settled) == setup.symbols
    within = out.max_invocation_s <= setup.timeout_s
    ok = settled_all and within and peak <= setup.calls_per_minute and dead == expected_dead
    minutes = out.makespan_s / 60
    lines = [
        "fan-out ingestion, simulated (ingestion/fanout/simulate.py): "
        + ", ".join(f"{k}={v}" for k, v in asdict(setup).items()),
        f"  makespan           {minutes:.1f} min for {setup.symbols:,} symbols "
        f"(the key alone allows {setup.symbols / setup.calls_per_minute:.1f} min)",
        f"  longest invocation {out.max_invocation_s:.1f} s of a {setup.timeout_s:.0f} s timeout "
        f"({'within' if within else 'OVER'}); {out.invocations:,} invocations, {out.receives:,} receives, "
        f"{out.returned} messages given back for a late token",
        f"  calls per minute   at most {peak} in any 60 s window (allowance {setup.calls_per_minute}); "
        f"{out.mean_calls_per_minute():.1f} on average",
        f"  symbols            {len(out.settled) - dead:,} landed, {dead} dead-lettered, "
        f"{setup.symbols - len(out.settled)} unsettled",
        f"  verdict            {'PASS' if ok else 'FAIL'}",
    ]
    return lines, ok
