"""The ingest stage as the local runner runs it: build the source and the rate planner from
settings, fetch with progress on the terminal, and hand back the counts for the run log."""
from __future__ import annotations

from typing import Callable

from glue_jobs.lake.context import RunContext
from glue_jobs.lake.ingest_queue import pending_ingest_runs
from ingestion.run_ingest import ingest
from ingestion.sources import build_planner, build_source
from workflows.settings import Settings


def run_ingest_step(ctx: RunContext, settings: Settings, say: Callable[[str], None]) -> dict:
    source = build_source(settings.source, seed=settings.seed, faults=settings.faults or None,
                          datatype=settings.datatype)
    planner = build_planner(
        settings.source, calls_per_minute=settings.calls_per_minute, calls_per_day=settings.calls_per_day
    )
    total_width = len(str(len(settings.symbols)))

    def progress(done: int, total: int, symbol: str, status: str) -> None:
        # Every symbol on a slow real source; every 10% on a fast synthetic one.
        if settings.source != "synthetic" or total <= 20 or done == total or done % max(1, total // 10) == 0:
            say(f"      {done:>{total_width}}/{total} {symbol}: {status}")

    result = ingest(
        ctx.storage,
        run_id=ctx.run_id,
        as_of=ctx.as_of,
        symbols=settings.symbols,
        source=source,
        planner=planner,
        progress=progress,
        start=settings.start,
    )
    for problem in result.problems:
        say(f"      ! {problem}")
    counts: dict = dict(result.counts)
    counts["status"] = result.status
    counts["manifest_key"] = result.manifest_key
    counts["problems"] = list(result.problems)
    counts["carried"] = list(result.carried)
    # Raw data still waiting to be published (this run's or an earlier one's): with some, the
    # WAP has work even when this ingest fetched nothing.
    counts["pending_runs"] = sum(1 for run in pending_ingest_runs(ctx.storage) if run.fetches)
    return counts
