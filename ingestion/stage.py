"""The ingest stage: build the source and the rate planner from the run's settings, fetch
with progress, and hand back the counts for the run log. The runner calls `run(ctx)` like
every other stage."""
from __future__ import annotations

import datetime as dt

from glue_jobs.lake.context import RunContext
from glue_jobs.lake.ingest_queue import pending_ingest_runs
from ingestion.run_ingest import ingest
from ingestion.sources import build_planner, build_source


def run(ctx: RunContext) -> dict:
    settings = ctx.settings
    source_name = settings.get("source") or "synthetic"
    symbols = list(settings.get("symbols") or [])
    start = dt.date.fromisoformat(settings["start"]) if settings.get("start") else None
    source = build_source(source_name, seed=int(settings.get("seed") or 0), faults=settings.get("faults") or None,
                          datatype=settings.get("datatype") or "csv")
    planner = build_planner(source_name, calls_per_minute=settings.get("calls_per_minute"),
                            calls_per_day=settings.get("calls_per_day"))
    total_width = len(str(len(symbols)))

    def progress(done: int, total: int, symbol: str, status: str) -> None:
        # Every symbol on a slow real source; every 10% on a fast synthetic one.
        if source_name != "synthetic" or total <= 20 or done == total or done % max(1, total // 10) == 0:
            ctx.say(f"      {done:>{total_width}}/{total} {symbol}: {status}")

    result = ingest(
        ctx.storage,
        run_id=ctx.run_id,
        as_of=ctx.as_of,
        symbols=symbols,
        source=source,
        planner=planner,
        progress=progress,
        start=start,
    )
    for problem in result.problems:
        ctx.say(f"      ! {problem}")
    counts: dict = dict(result.counts)
    counts["status"] = result.status
    counts["manifest_key"] = result.manifest_key
    counts["problems"] = list(result.problems)
    counts["carried"] = list(result.carried)
    # Raw data still waiting to be published (this run's or an earlier one's): with some, the
    # WAP has work even when this ingest fetched nothing.
    counts["pending_runs"] = sum(1 for run in pending_ingest_runs(ctx.storage) if run.fetches)
    return counts
