"""The runner: every stage, whoever starts it (the CLI, a Glue job, a test), runs through
run_pipeline, which walks the stage graph on the lake's adapters holding the lake's lock,
records each stage in the run log (execute_stage) and shows progress as it goes."""
from __future__ import annotations

import gc
import importlib
import logging
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from glue_jobs.lake import failpoints, lake_record
from glue_jobs.lake.context import RunContext, new_run_id, serving_if_opened
from glue_jobs.lake.errors import ConfigError, NothingFetched
from glue_jobs.lake.lock import Holder, LakeLock
from glue_jobs.lake.run_log import RunLog
from glue_jobs.ports.storage import NotFound
from glue_jobs.runtime import Runtime, open_runtime
from workflows import graph, preload
from workflows.settings import Settings

log = logging.getLogger("tickerlake.runner")

Printer = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class RunOutcome:
    run_id: str
    run_log_key: str
    stages: dict[str, dict] = field(default_factory=dict)
    totals: dict = field(default_factory=dict)


def open_lake(settings: Settings, *, create: bool = False) -> Runtime:
    """The runtime of the settings' lake: every command opens its lake here, so that an s3://
    lake gets S3, Glue and Athena (with the settings' workgroup and topic) everywhere."""
    return open_runtime(settings.lake, create=create, workgroup=settings.workgroup, topic_arn=settings.topic_arn)


def lake_flags(settings: Settings) -> str:
    """The flags that point a hinted command at this lake: --lake unless it is the default,
    and on an s3:// lake its Athena workgroup (without it a query there stops with exit 2)."""
    import shlex

    flags = "" if settings.lake == "lake" else f" --lake {shlex.quote(settings.lake)}"
    if settings.lake.startswith("s3://") and settings.workgroup:
        flags += f" --workgroup {shlex.quote(settings.workgroup)}"
    return flags


def settle_source(settings: Settings, runtime: Runtime, names: list[str] | None, run_id: str) -> None:
    """Hold the run to the lake's source (glue_jobs/lake/lake_record.py) before anything is
    written: a run that ingests must use it (or switch on purpose, never to synthetic) and
    records it on a new lake; a command on an existing lake (crawl, wap) takes the source, and
    unless asked for some, every symbol the lake holds, from the lake."""
    ingests = names is None or "ingest" in names
    current = lake_record.read_source(runtime.storage)
    where = runtime.storage.root
    if ingests:
        lake_record.check_source(current, settings.source, switch=settings.switch_source, where=where)
        if current.origin != "record" or current.source != settings.source:
            lake_record.write_source(runtime.storage, settings.source, run_id=run_id, previous=current.source)
        return
    if settings.switch_source:
        raise ConfigError("--switch-source only applies to a run that ingests (tickerlake run or ingest)")
    if current.source is not None:
        if settings.source_given and settings.source != current.source:
            lake_record.check_source(current, settings.source, switch=False, where=where)
        settings.source = current.source
    if not settings.symbols_given:
        settings.symbols = []  # the alerts then look at every symbol the lake holds


def build_context(settings: Settings, run_id: str) -> RunContext:
    from ingestion.sources import build_planner

    runtime = open_lake(settings, create=True)
    # The limits the planner will really apply (flags, env, or the source's defaults), so the
    # run log and the ledger's quota panel show the allowance in force.
    planner = build_planner(settings.source, calls_per_minute=settings.calls_per_minute,
                            calls_per_day=settings.calls_per_day)
    return runtime.context(
        run_id,
        settings.as_of,
        settings={
            "source": settings.source,
            "symbols": list(settings.symbols),
            "start": settings.start.isoformat() if settings.start else None,
            "calls_per_minute": planner.calls_per_minute,
            "calls_per_day": planner.calls_per_day,
            "faults": settings.faults,
            "seed": settings.seed,
            "datatype": settings.datatype,
            "lake_flags": lake_flags(settings),
            **settings.audit,
        },
    )


def run_stages(settings: Settings, names: list[str] | None = None, *, say: Printer = _stderr,
               run_id: str | None = None, recorded: dict[str, Any] | None = None) -> RunOutcome:
    """The CLI's run: the named stages (all by default) on the lake the settings name.
    `recorded` overrides what the run log and the ledger say of the run (a load: source "drop")."""
    run_id = run_id or new_run_id()
    runtime = open_lake(settings, create=True)
    settle_source(settings, runtime, names, run_id)
    if runtime.kind == "local":  # as the stack's template makes it on AWS
        from glue_jobs.intraday.history import ensure_table

        ensure_table(runtime.catalog)
    ctx = build_context(settings, run_id)
    ctx.settings.update(recorded or {})
    ctx.say = say
    symbols = f"{len(settings.symbols)} symbols" if settings.symbols else "the lake's symbols"
    say(f"tickerlake run {ctx.run_id}: as-of {settings.as_of}, {symbols}, "
        f"source {settings.source}, lake {ctx.storage.root}")
    # What is alive now (the modules of pandas, sqlglot, DuckDB: millions of objects) outlives
    # the run: keep it out of the collector's full passes, which otherwise rescanned it several
    # times a run (0.3 s of a 3 s day). Unfrozen after, so that exit still frees it.
    gc.freeze()
    try:
        return run_pipeline(ctx, names)
    finally:
        gc.unfreeze()


def run_pipeline(ctx: RunContext, names: list[str] | tuple[str, ...] | None = None, *,
                 one_job_of_a_workflow: bool = False) -> RunOutcome:
    """Run the named stages (all by default) in graph order on `ctx`, under the lake lock, each
    through execute_stage. The CLI, the Glue jobs and the tests all run stages here.

    A CLI run (the default) owns its run log: it opens it, closes it at the end whatever
    happened, and records the run in the ledger. A Glue job is one stage of a workflow run
    (`one_job_of_a_workflow`): it continues the log the Lambda opened, closes it only when its
    stage fails or is the last one, and leaves the ledger to after_publish's hook."""
    stages = graph.ordered(list(names) if names is not None else None)
    say = ctx.say
    # The lock first: a run refused because another holds the lake leaves no run log behind
    # that would claim to be running forever.
    with LakeLock(ctx.storage, ctx.run_id) as lock:
        if one_job_of_a_workflow:
            run_log = RunLog.load_or_new(ctx.storage, ctx.run_id)
        else:
            run_log = RunLog.start(ctx.storage, run_id=ctx.run_id, as_of=ctx.as_of.isoformat(),
                                   stages=[s.name for s in stages], settings=ctx.settings)
        outcome = RunOutcome(run_id=ctx.run_id, run_log_key=run_log.key)
        if lock.taken_over:
            say(f"  took over a stale lock left by {lock.taken_over.describe()}")
            if not one_job_of_a_workflow:  # a Glue retry takes over its own run's lock
                _close_abandoned(ctx, lock.taken_over, say)
        if one_job_of_a_workflow:
            _record_upstream_crawler(stages[0], run_log)
        stopped = True
        try:
            _walk(stages, ctx, run_log, outcome)
            stopped = False
            _checkpoint_serving_beside(ctx)
        except BaseException as exc:
            # the CLI names the run log only when there is one (a refusal before it has none)
            exc.tickerlake_run_log = ctx.storage.uri(run_log.key)  # type: ignore[attr-defined]
            raise
        finally:
            closes = not one_job_of_a_workflow or stopped or stages[-1].name == graph.STAGES[-1].name
            if closes:
                run_log.finish()
                if stopped and run_log.get("status") == "succeeded":
                    # stopped with no stage recorded as failed (a run log save failed, nothing was
                    # fetched): later stages never ran, so the run did not succeed
                    run_log.set("status", "failed")
                run_log.save()
            outcome.totals = run_log.totals
            if not one_job_of_a_workflow:
                failpoints.hit("runner.before_ledger", ctx.run_id)
                _record_in_ledger(ctx, run_log, say)
    return outcome


def _checkpoint_serving_beside(ctx: RunContext) -> None:
    """The local serving table, if a stage wrote it, copies its WAL into its file in a thread
    while the run closes (the ledger, the dashboard page): its fsyncs inside the serve stage, or
    beside after_publish's durable writes, were waited on there (glue_jobs/adapters/local/
    serving_sqlite.py, BackgroundCheckpoint)."""
    beside = getattr(serving_if_opened(ctx), "checkpoint_beside", None)
    if callable(beside):
        beside()


def execute_stage(stage: graph.Stage, ctx: RunContext, run_log: RunLog) -> dict:
    """Run one stage and record it in the run log: started, then succeeded with its counts, or
    failed/blocked with the error. The one place a stage is run."""
    run_log.stage_started(stage.name)
    try:
        # Not fsynced: a crashed process leaves it written all the same, and a power cut only
        # the previous save, which names the stage before as the last one done (an fsync is
        # 5-10 ms here, up to 0.1 s when the disk is busy, and every stage paid one).
        run_log.save(durable=False)
        failpoints.hit(f"runner.before_{stage.name}", stage.name)
        counts = importlib.import_module(stage.module).run(ctx) or {}
    except BaseException as exc:
        run_log.stage_failed(stage.name, exc)
        run_log.save()
        raise
    run_log.stage_finished(stage.name, counts)
    run_log.save()
    failpoints.hit(f"runner.after_{stage.name}", stage.name)
    return counts


def _record_upstream_crawler(stage: graph.Stage, run_log: RunLog) -> None:
    """On AWS the crawl stage is Glue's crawler, which writes no run log; the job after it started
    only because the crawler SUCCEEDED (the workflow's trigger), so record that for it."""
    upstream = graph.BY_NAME[stage.after] if stage.after else None
    if upstream is None or upstream.aws_kind != "crawler":
        return
    if run_log.doc.get("stages", {}).get(upstream.name, {}).get("status") in (None, "pending"):
        run_log.stage_started(upstream.name)
        run_log.stage_finished(upstream.name, {"ran_as": "Glue crawler (its log is in CloudWatch)"})
        run_log.save()


def _close_abandoned(ctx: RunContext, holder: Holder, say: Printer) -> None:
    """A run whose process died (its lock was just taken over) never closed its run log: mark
    it failed, naming the stage it died in (succeeded if it died after its last stage), so
    `tickerlake runs` and the ledger do not show it running forever. What it published stays;
    what it left half-written is invisible to readers and removed by drop_temp or the janitor."""
    try:
        dead = RunLog.load(ctx.storage, holder.run_id)
    except (NotFound, ValueError, TypeError):
        return
    if dead.get("status") != "running":
        return
    stages = dead.get("stages") or {}
    where = [name for name, stage in stages.items() if stage.get("status") == "running"]
    note = (f"the process (pid {holder.pid} on {holder.host}) died "
            f"{'in stage ' + where[0] if where else 'between stages'}; run {ctx.run_id} took over its lock")
    for name in where:
        dead.stage_failed(name, RuntimeError(note))
    order = dead.get("stage_order") or list(stages)
    finished = all((stages.get(name) or {}).get("status") == "succeeded" for name in order)
    dead.finish()
    # Killed after its last stage (only the log's closing missed): the run did its work.
    dead.set("status", "succeeded" if finished else "failed")
    dead.set("problems", [*(dead.get("problems") or []), note])
    dead.save()
    say(f"  run {holder.run_id} marked {dead.get('status')}: {note}")
    _record_in_ledger(ctx, dead, say)


def _walk(stages: list[graph.Stage], ctx: RunContext, run_log: RunLog, outcome: RunOutcome) -> None:
    say = ctx.say
    if ctx.ge_worker is not None and any(s.name == "audit" for s in stages):
        # GE's import (3 s of CPU) runs in the worker on another core while ingest, crawl and
        # write temp run here
        ctx.ge_worker.start()
    for number, stage in enumerate(stages, start=1):
        if (ctx.ge_worker is None and stage.name != "ingest"
                and any(s.name == "audit" for s in stages[number - 1:])):
            # in place (a context without a worker): GE's import runs in a thread beside crawl
            # and write temp's DuckDB work, not in the audit
            from glue_jobs.audit import warm

            warm.start()
        if stage.name == "write_temp":
            # its typing pass runs on one core inside DuckDB: the later stages' imports (pandas
            # among them) run on the other meanwhile (workflows/preload.py)
            preload.start(s.module for s in stages[number:])
        say(f"[{number}/{len(stages)}] {stage.name} ...")
        started = time.monotonic()
        try:
            counts = execute_stage(stage, ctx, run_log)
        except BaseException as exc:
            verb = "blocked" if run_log.doc["stages"][stage.name].get("status") == "blocked" else "failed"
            say(f"      {stage.name} {verb} ({type(exc).__name__}); the run log records it: {run_log.key}")
            raise
        outcome.stages[stage.name] = counts
        if (stage.name == "audit" and ctx.ge_worker is not None
                and not any(s.name == "audit" for s in stages[number:])):
            ctx.ge_worker.let_go()  # nothing after the audit validates: the worker ends beside publish
        say(f"      done in {time.monotonic() - started:.1f}s  {_brief(counts)}")
        if (stage.name == "ingest" and counts.get("status") == "nothing_fetched"
                and not counts.get("pending_runs")):
            raise NothingFetched(_nothing_fetched_message(counts))


def _record_in_ledger(ctx: RunContext, run_log: RunLog, say: Printer) -> None:
    """Every run gets its ledger row, failed and blocked ones too; the ledger failing must not
    hide the run's own outcome, so it is a warning."""
    try:
        from glue_jobs.lake import ledger

        ledger.record_run(ctx, run_log.doc)
    except Exception as exc:
        # A warning, not a traceback (-v logs it): the run's own outcome stands, and its run log
        # says the ledger misses it: status "<status>, not in ledger" and a problem line.
        log.debug("could not record run %s in the ledger", ctx.run_id, exc_info=True)
        problem = (f"run {ctx.run_id} is not in stocks.pipeline_runs: writing the ledger failed "
                   f"({type(exc).__name__}: {str(exc)[:300]}); its run log {run_log.key} keeps the outcome. "
                   "`tickerlake runs` still lists it; if a ledger file under warehouse/pipeline_runs/ or "
                   "catalog/stocks/ is damaged, `tickerlake doctor --repair` restores it from history")
        say(f"  warning: {problem}")
        try:
            status = run_log.get("status") or "unknown"
            if not str(status).endswith("not in ledger"):
                run_log.set("status", f"{status}, not in ledger")
            run_log.set("problems", [*(run_log.get("problems") or []), problem])
            run_log.save()
        except Exception:  # the run log itself cannot be written: the warning above is all there is
            log.debug("could not mark run %s as not in the ledger", ctx.run_id, exc_info=True)


def _nothing_fetched_message(counts: dict) -> str:
    problems = counts.get("problems") or []
    lines = ["nothing usable was fetched, so there is nothing to publish."]
    lines += [f"  - {p}" for p in problems[:20]]
    if len(problems) > 20:
        lines.append(f"  ... and {len(problems) - 20} more (see the run log)")
    return "\n".join(lines)


def _brief(counts: dict) -> str:
    keep = [(k, v) for k, v in counts.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return "  ".join(f"{k}={v}" for k, v in keep[:8])


def run_wap(ctx: RunContext, stages: tuple[str, ...] | None = None) -> dict[str, dict]:
    """The WAP stages (crawl to after_publish by default) through run_pipeline, as `tickerlake
    wap` runs them; returns each stage's result."""
    names = stages or tuple(s.name for s in graph.STAGES if s.name != "ingest")
    return run_pipeline(ctx, names).stages
