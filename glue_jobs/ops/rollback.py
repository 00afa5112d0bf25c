"""`tickerlake rollback --run RUN_ID`: put the partitions a pipeline run published (in
stocks.daily_prices and its quarantine) back to the versions they had before the run.

Nothing is rewritten or deleted: publish never overwrites a version, so rolling back is one
catalog switch per table back to the previous locations (glue_jobs/ops/rollback_plan.py decides
which). A partition the run created goes back to an empty version, written first, so each
table changes in a single switch call: atomically on the local catalog, per partition on Glue.

The rollback is a run of its own: runs/<rollback_run_id>.json records what moved where (and
the ledger gets its row), the rolled-back run's log says by whom, and each ingest run it had
published gets a "rolled back" event in its history. Those ingest runs stay marked published,
so a plain rerun does not silently publish the same rows again; `tickerlake requeue
--ingest-run ID` makes one pending again once its data is fixed or trusted.
"""
from __future__ import annotations

import json
import logging

from glue_jobs.lake import (
    ingest_history,
    layout,
    merge_plan,
    migrate,
    parquet,
    publish_record,
    published_manifest,
    symbol_years,
    tables,
)
from glue_jobs.lake.context import RunContext
from glue_jobs.lake.errors import ConfigError, PipelineError
from glue_jobs.lake.lock import LakeLock
from glue_jobs.lake.run_log import RunLog
from glue_jobs.ops import rollback_plan
from glue_jobs.ports.catalog import Partition
from glue_jobs.ports.storage import NotFound, Storage

log = logging.getLogger(__name__)

_TABLES = {t.name: t for t in (tables.daily_prices(), tables.daily_prices_quarantine())}


class RollbackRefused(PipelineError):
    """A later run changed a partition the run published (or a previous version is gone)."""


# -- reading the record ----------------------------------------------------------------------------


def _run_docs(storage: Storage) -> dict[str, dict]:
    docs = {}
    for key in storage.list_keys(layout.RUNS_PREFIX):
        if key.endswith(".json"):
            try:
                doc = json.loads(storage.get_bytes(key))
            except (ValueError, NotFound):
                log.warning("rollback: run log %s is unreadable; its switches are not considered", key)
                continue
            docs[str(doc.get("run_id") or key.rsplit("/", 1)[-1][:-5])] = doc
    return docs


def _current(ctx: RunContext) -> dict[tuple[str, str], str | None]:
    out: dict[tuple[str, str], str | None] = {}
    for name in _TABLES:
        if ctx.catalog.get_table(layout.DATABASE, name) is None:
            continue
        for p in ctx.catalog.list_partitions(layout.DATABASE, name):
            out[(name, p.values["trade_year"])] = p.location
    return out


def plan(ctx: RunContext, run_id: str, *, force: bool = False, rollback_run_id: str | None = None):
    """(the plan, the rolled-back run's log) for rolling back run_id; raises ConfigError when
    there is no such run or it published nothing."""
    docs = _run_docs(ctx.storage)
    doc = docs.get(run_id)
    if doc is None:
        newest = ", ".join(sorted(docs, reverse=True)[:5]) or "none"
        raise ConfigError(f"no run {run_id!r} in {ctx.storage.root} (no runs/{run_id}.json); the newest runs: {newest}")
    changes = [c for d in docs.values() for c in rollback_plan.changes_in(d)]
    stamp = rollback_run_id or ctx.run_id

    def empty_location(table: str, partition: str) -> str:
        return layout.partition_version_prefix(table, {"trade_year": partition}, f"{stamp}-empty")

    result = rollback_plan.plan_rollback(run_id, changes, _current(ctx), force=force, empty_location=empty_location)
    if not result.actions and not result.already and not result.conflicts:
        status = doc.get("status")
        raise ConfigError(f"run {run_id} published no partition of stocks.daily_prices or its quarantine "
                          f"(its status: {status}); there is nothing to roll back")
    return result, doc


def _check_targets(ctx: RunContext, result: rollback_plan.RollbackPlan) -> None:
    gone = [a for a in result.actions if a.to and not a.to.endswith("-empty/") and not ctx.storage.list_keys(a.to)]
    if gone:
        lines = [f"rollback of run {result.run_id} refused: the previous version of "
                 f"{len(gone)} partition(s) is no longer in the lake:"]
        lines += [f"  - stocks.{a.table} trade_year={a.partition}: {a.to} is empty" for a in gone]
        lines.append("  The janitor removes versions once they are out of the catalog for the retention "
                     "period; nothing was changed. To rebuild from raw instead, requeue the ingest runs "
                     "(tickerlake requeue --ingest-run ID) and run tickerlake wap.")
        raise RollbackRefused("\n".join(lines))
    older = [a for a in result.actions if a.table == layout.PUBLISHED_TABLE and a.to
             and migrate.written_before_rename(ctx.storage, a.to)]
    if older:
        lines = [f"rollback of run {result.run_id} refused: the previous version of {len(older)} partition(s) "
                 f"was written before the ingest run was named {migrate.NEW}, and stocks.daily_prices now "
                 f"reads {migrate.NEW}:"]
        lines += [f"  - stocks.{a.table} trade_year={a.partition}: {a.to}" for a in older]
        lines.append("  Nothing was changed. To rebuild from raw instead, requeue the ingest runs "
                     "(tickerlake requeue --ingest-run ID) and run tickerlake wap.")
        raise RollbackRefused("\n".join(lines))


def _apply(ctx: RunContext, result: rollback_plan.RollbackPlan) -> None:
    for name, table in _TABLES.items():
        actions = [a for a in result.actions if a.table == name]
        if not actions:
            continue
        for a in actions:
            if a.to and a.to.endswith("-empty/") and not ctx.storage.list_keys(a.to):
                empty = parquet.schema_of(table.columns).empty_table()
                parquet.write_table(ctx.storage, f"{a.to}part-00000.parquet", empty)
        switch = [Partition({"trade_year": a.partition}, a.to) for a in actions]
        for group in merge_plan.chunked(switch, merge_plan.max_partitions(ctx.settings)):
            ctx.catalog.switch_partitions(layout.DATABASE, name, group)


def _announce(ctx: RunContext, result: rollback_plan.RollbackPlan) -> str | None:
    """The rollback's published manifest, under its own run id (a higher version than the run it
    undoes), so the serving table takes the rolled-back rows and drops the keys the run added."""
    switched = {a.partition: (a.to, a.current) for a in result.actions
                if a.table == layout.PUBLISHED_TABLE and a.to}
    if not switched:
        return None
    return publish_record.write_published_manifest(ctx.storage, published_manifest.build(ctx.run_id, switched))


# -- the command ---------------------------------------------------------------------------------


def run(ctx: RunContext, run_id: str, *, force: bool = False, dry_run: bool = False) -> dict:
    """Roll back run_id's publish. ctx.run_id is the rollback's own run id. Raises
    RollbackRefused (naming the later run) when a later run republished a partition, unless
    force. With dry_run, only says what would move."""
    if dry_run:
        result, _ = plan(ctx, run_id, force=force)
        return _summary(result, run_id, dry_run=True, ingest=[])
    with LakeLock(ctx.storage, ctx.run_id):
        run_log = RunLog.start(ctx.storage, run_id=ctx.run_id, as_of=ctx.as_of.isoformat(), stages=["rollback"],
                               settings={"command": "rollback", "rolled_back_run": run_id, "force": force})
        run_log.stage_started("rollback")
        run_log.save()
        try:
            result, doc = plan(ctx, run_id, force=force)
            if result.blocked:
                raise RollbackRefused(rollback_plan.refusal(result))
            _check_targets(ctx, result)
            _apply(ctx, result)
            manifest = _announce(ctx, result)
        except Exception as exc:
            run_log.stage_failed("rollback", exc)
            run_log.finish()
            run_log.save()
            raise
        ingest = [r.get("run_id") for r in doc.get("ingest_runs") or [] if r.get("run_id")]
        summary = _summary(result, run_id, dry_run=False, ingest=ingest)
        summary["published_manifest"] = manifest
        summary.update(_resummarize(ctx))
        run_log.stage_finished("rollback", summary)
        run_log.finish()
        run_log.save()
        if result.actions:
            rolled = RunLog.load(ctx.storage, run_id)
            rolled.set("rolled_back", {"by": ctx.run_id, "at": run_log.get("finished_at"), "forced": force})
            rolled.save()
            ingest_history.record(ctx.storage, ingest, {"action": "rolled_back", "pipeline_run": run_id,
                                                     "by": ctx.run_id})
    _record_in_ledger(ctx, run_log)
    return summary


def _summary(result: rollback_plan.RollbackPlan, run_id: str, *, dry_run: bool, ingest: list[str]) -> dict:
    actions = [{"table": a.table, "partition": a.partition, "from": a.current, "to": a.to,
                **({"forced_over": a.forced_over} if a.forced_over else {})} for a in result.actions]
    return {
        "rolled_back_run": run_id,
        "dry_run": dry_run,
        "partitions_switched": len(actions),
        "partitions_already_back": len(result.already),
        "actions": actions,
        "already": [{"table": t, "partition": p} for t, p in result.already],
        "conflicts": [{"table": c.table, "partition": c.partition, "current": c.current,
                       "changed_by": c.changed_by, "changed_how": c.changed_how} for c in result.conflicts],
        "ingest_runs_still_marked_published": ingest,
        "requeue": [f"tickerlake requeue --ingest-run {i}" for i in ingest],
        "refusal": rollback_plan.refusal(result) if result.blocked else None,
    }


def _resummarize(ctx: RunContext) -> dict:
    """stocks.symbol_years back in step with the years just switched (under the rollback's lock).
    The prices are rolled back either way: a summary that cannot be written now is a warning, and
    the next after publish brings it."""
    if ctx.engine is None:
        return {"symbol_years_behind": "no engine here: the next after publish brings it"}
    try:
        return symbol_years.sync(ctx)
    except Exception as exc:
        log.warning("rollback %s: stocks.symbol_years is behind stocks.daily_prices until the next after "
                    "publish: %s: %s", ctx.run_id, type(exc).__name__, exc)
        return {"symbol_years_behind": f"{type(exc).__name__}: {str(exc)[:300]}"}


def _record_in_ledger(ctx: RunContext, run_log: RunLog) -> None:
    if ctx.engine is None:
        return
    try:
        from glue_jobs.lake import ledger

        ledger.record_run(ctx, run_log.doc)
    except Exception as exc:  # the rollback happened; a ledger failure must not hide that
        log.warning("rollback %s is not in stocks.pipeline_runs: %s: %s", ctx.run_id, type(exc).__name__, exc)


def describe(summary: dict) -> list[str]:
    """Lines for people."""
    verb = "would put back" if summary["dry_run"] else "put back"
    lines = [f"rollback of run {summary['rolled_back_run']}: {verb} {summary['partitions_switched']} partition(s)"
             + (f", {summary['partitions_already_back']} already back" if summary["partitions_already_back"] else "")]
    if summary.get("refusal"):
        return [summary["refusal"]]
    for a in summary["actions"]:
        to = a["to"] if not (a["to"] or "").endswith("-empty/") else f"an empty version ({a['to']}): new in that run"
        forced = f"  [forced over run {a['forced_over']}]" if a.get("forced_over") else ""
        lines.append(f"  - stocks.{a['table']} trade_year={a['partition']}: {a['from']} -> {to}{forced}")
    if summary.get("symbol_years_behind"):
        lines.append(f"  stocks.symbol_years (the dashboard's summary of each symbol's years) is behind until the "
                     f"next after publish or `tickerlake doctor --repair`: {summary['symbol_years_behind']}")
    if summary["ingest_runs_still_marked_published"] and not summary["dry_run"]:
        lines.append("  The ingest runs it published stay marked published (a plain rerun will not publish them "
                     "again). To publish one again:")
        lines += [f"    {c}" for c in summary["requeue"]]
    return lines

