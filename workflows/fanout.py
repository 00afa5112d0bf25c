"""`tickerlake ingest --fan-out` on a local lake: the fan-out planner, N worker threads on the
lake's SQLite queue (<lake>/queues/ingest.sqlite) and token bucket, and, when a worker finds the
day drained, the WAP (crawl, drop temp, write temp, audit, publish, serve, after publish) once,
in process, under the same run id, as the Glue workflow does on AWS.

The whole fan-out holds the lake lock, as `tickerlake run` does: a lake another run holds is
refused before anything is planned or landed (exit 5), and no other run writes the ingest state
while the drain does. The lock is handed over to the WAP, which takes it again under the run's id."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from glue_jobs.lake.context import new_run_id
from glue_jobs.lake.errors import ConfigError, NothingFetched
from glue_jobs.lake.lock import LakeLock
from glue_jobs.ports.token_bucket import Limits
from ingestion.fanout import records
from ingestion.fanout.drain import Finished, finish_if_drained
from ingestion.fanout.in_process import InProcessResult, run_workers
from ingestion.fanout.planner import plan_day
from ingestion.fanout.worker import Handled, Worker
from ingestion.sources import build_planner, build_source
from workflows import graph
from workflows.runner import build_context, open_lake, run_pipeline, settle_source
from workflows.settings import Settings

INGEST_QUEUE = "ingest"
MAX_WORKERS = 32


@dataclass
class FanOutOutcome:
    run_id: str
    plan: records.Plan
    result: InProcessResult
    finished: Finished | None


def key_limits(settings: Settings) -> Limits:
    """The key's limits as the single-run ingest applies them (flags, env, the source's defaults)."""
    planner = build_planner(settings.source, calls_per_minute=settings.calls_per_minute,
                            calls_per_day=settings.calls_per_day)
    return Limits(planner.calls_per_minute, planner.calls_per_day, planner.min_interval_s)


def run_local_fan_out(settings: Settings, *, workers: int, say: Callable[[str], None]) -> FanOutOutcome:
    if not 1 <= workers <= MAX_WORKERS:
        raise ConfigError(f"--workers {workers}: give 1 to {MAX_WORKERS}")
    runtime = open_lake(settings, create=True)
    if runtime.kind != "local":
        raise ConfigError("--fan-out runs in process on a local lake; on AWS the stack's planner and worker "
                          "Lambdas run it (IngestMode=fan-out, infra/README.md)")
    run_id = new_run_id()
    lock = LakeLock(runtime.storage, run_id).acquire()
    try:
        return _fan_out_holding(settings, runtime, run_id, lock, workers=workers, say=say)
    finally:
        lock.release()  # a no-op once the WAP took it over and let it go


def _fan_out_holding(settings: Settings, runtime, run_id: str, lock: LakeLock, *, workers: int,
                     say: Callable[[str], None]) -> FanOutOutcome:
    settle_source(settings, runtime, ["ingest"], run_id)
    storage, limits = runtime.storage, key_limits(settings)
    with runtime.queue_factory(INGEST_QUEUE) as queue:
        plan, sent = plan_day(storage, queue, run_id=run_id, as_of=settings.as_of, source=settings.source,
                              symbols=settings.symbols, start=settings.start)
    say(f"fan-out run {plan.run_id}: {len(plan.symbols)} symbols planned ({len(plan.carried)} carried from "
        f"earlier runs), {sent} enqueued; {workers} workers sharing {_describe(limits)}")
    stages = [s.name for s in graph.STAGES]
    wap = [name for name in stages if name != "ingest"]

    def open_worker() -> Worker:
        queue = runtime.queue_factory(INGEST_QUEUE)
        source = build_source(settings.source, seed=settings.seed, faults=settings.faults or None,
                              datatype=settings.datatype)
        return Worker(storage, queue, queue.dead_letter_queue(), runtime.token_bucket(settings.source, limits),
                      source_for=lambda name: source)

    def start_wap(finished: Finished) -> None:
        say(f"fan-out run {finished.run_id} drained: {finished.counts['symbols_fetched']} fetched, "
            f"{finished.counts['symbols_dead_lettered']} dead-lettered; starting the WAP")
        for problem in finished.problems:
            say(f"      ! {problem}")
        if finished.status == "nothing_fetched":
            raise NothingFetched("nothing usable was fetched by the fan-out run " + finished.run_id)
        ctx = build_context(settings, finished.run_id)
        ctx.say = say
        lock.release()  # the WAP takes the lake lock itself, under the run's id
        run_pipeline(ctx, wap, one_job_of_a_workflow=True)

    def finish(worker: Worker) -> Finished | None:
        state = worker.bucket.state()
        return finish_if_drained(storage, worker.queue, plan.run_id, start_wap=start_wap,
                                 calls_by_day={state.day: state.used} if state.day else {}, stages=stages,
                                 settings={"runtime": "local", "source": settings.source, "workers": workers},
                                 take_lake_lock=False)  # held by this whole fan-out

    width = len(str(len(plan.symbols)))

    def progress(handled: Handled, settled: int, total: int) -> None:
        if handled.outcome is not None or handled.action != "skipped":
            what = handled.outcome or f"{handled.action} in {handled.delay_s} s ({handled.reason})"
            say(f"      {settled:>{width}}/{total} {handled.symbol or handled.message_id}: {what}")

    result = run_workers(storage, plan, open_worker=open_worker, workers=workers, finish=finish,
                         sleep=time.sleep, progress=progress)
    if result.stalled:
        raise NothingFetched(f"fan-out run {plan.run_id} stopped before it drained: {result.stalled}; "
                             "`tickerlake ingest --fan-out` again re-enqueues what is not settled")
    return FanOutOutcome(plan.run_id, plan, result, result.finished)


def _describe(limits: Limits) -> str:
    parts = [f"{limits.calls_per_minute} calls a minute" if limits.calls_per_minute else "no per-minute limit",
             f"{limits.calls_per_day} a day" if limits.calls_per_day else "no daily limit"]
    return " and ".join(parts)
