"""What an operator can do to an ingest run, and the record of it.

A bad ingest run (a body in a changed format, a vendor glitch quarantining half the rows)
stays pending until a WAP publishes it, so it blocks every later pipeline run at the audit.
Setting it aside takes it out of the queue: its bodies stay in raw (the record), a marker at
lake_layout.set_aside_marker_key says who set it aside and why, and no WAP picks it up again.
Requeueing undoes that, or undoes the "published" marker of a run whose publish was rolled
back, so the next WAP processes it again.

Every action is appended to the run's history at history_key(run_id), which `tickerlake
ingest-runs` style tooling, or a person, can read; all of it happens under the lake lock.

    tickerlake set-aside --ingest-run R --reason "vendor sent cents for AAPL"
    tickerlake requeue --ingest-run R
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from glue_jobs import pending
from glue_jobs.adapters.storage import NotFound, Storage, put_json
from glue_jobs.common import lake_layout
from glue_jobs.common.lake_lock import LakeLock
from glue_jobs.common.run_context import new_run_id
from glue_jobs.errors import ConfigError

HISTORY_PREFIX = "maintenance/ingest_runs/"


def history_key(ingest_run_id: str) -> str:
    return f"{HISTORY_PREFIX}run_id={ingest_run_id}.json"


@dataclass(frozen=True)
class IngestRunRef:
    run_id: str
    ingest_date: str
    manifest_key: str


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# -- reading -----------------------------------------------------------------------------------


def find(storage: Storage, ingest_run_id: str) -> IngestRunRef:
    """The ingest run with this id, or ConfigError listing the ones that exist."""
    refs = pending.manifest_refs(storage.list_keys(lake_layout.MANIFEST_PREFIX))
    for ingest_date, run_id, key in refs:
        if run_id == ingest_run_id:
            return IngestRunRef(run_id, ingest_date, key)
    known = ", ".join(r[1] for r in sorted(refs)[-5:]) or "none"
    raise ConfigError(f"no ingest run {ingest_run_id!r} in {storage.root} (no manifest under "
                      f"{lake_layout.MANIFEST_PREFIX}); the newest are: {known}")


set_aside_run_ids = pending.set_aside_run_ids


def history(storage: Storage, ingest_run_id: str) -> list[dict]:
    try:
        doc = json.loads(storage.get_bytes(history_key(ingest_run_id)))
    except NotFound:
        return []
    return list(doc.get("events") or [])


def _append(storage: Storage, ingest_run_id: str, event: dict) -> None:
    events = history(storage, ingest_run_id) + [dict(event, at=_now())]
    put_json(storage, history_key(ingest_run_id), {"ingest_run_id": ingest_run_id, "events": events})


def record(storage: Storage, ingest_run_ids: list[str], event: dict) -> None:
    """Append one event (e.g. a rollback of the pipeline run that published them) to each run's history."""
    for run_id in ingest_run_ids:
        _append(storage, run_id, event)


# -- actions -----------------------------------------------------------------------------------


def set_aside(storage: Storage, ingest_run_id: str, reason: str, *, by: str | None = None) -> dict:
    """Take an ingest run out of the queue, with a reason; returns the marker written."""
    reason = (reason or "").strip()
    if not reason:
        raise ConfigError("set-aside needs --reason: say why the ingest run is set aside (it is recorded)")
    by = by or new_run_id()
    with LakeLock(storage, by):
        ref = find(storage, ingest_run_id)
        if ingest_run_id in pending.published_run_ids(storage):
            raise ConfigError(
                f"ingest run {ingest_run_id} is already published; to take its rows out of prod, roll back "
                f"the pipeline run that published it (tickerlake rollback --run RUN_ID; see tickerlake runs)"
            )
        marker = {"ingest_run_id": ingest_run_id, "ingest_date": ref.ingest_date, "reason": reason,
                  "by": by, "at": _now(), "manifest_key": ref.manifest_key}
        key = lake_layout.set_aside_marker_key(ref.ingest_date, ingest_run_id)
        put_json(storage, key, marker)
        _append(storage, ingest_run_id, {"action": "set_aside", "reason": reason, "by": by})
    return dict(marker, marker_key=key)


def requeue(storage: Storage, ingest_run_id: str, *, by: str | None = None) -> dict:
    """Make an ingest run pending again (undo a set-aside, or the "published" marker of a run
    whose publish was rolled back); the next WAP processes it."""
    by = by or new_run_id()
    with LakeLock(storage, by):
        ref = find(storage, ingest_run_id)
        keys = [lake_layout.set_aside_marker_key(ref.ingest_date, ingest_run_id),
                lake_layout.published_marker_key(ref.ingest_date, ingest_run_id)]
        removed = [k for k in keys if storage.exists(k)]
        if not removed:
            return {"ingest_run_id": ingest_run_id, "removed": [], "status": "already pending"}
        storage.delete(removed)
        _append(storage, ingest_run_id, {"action": "requeued", "removed": removed, "by": by})
    return {"ingest_run_id": ingest_run_id, "removed": removed, "status": "pending"}


# -- the audit's blocked message ---------------------------------------------------------------


def offenders(failed: list[dict], *, drifted_runs: dict[str, int], quarantined_by_run: dict[str, int],
              rows_by_run: dict[str, tuple[int, int]]) -> dict[str, str]:
    """Pure: which ingest runs made which batch rule fail, each with what it did.
    `rows_by_run` maps an ingest run to (rows read, rows its manifest lists)."""
    out: dict[str, list[str]] = {}
    names = {o["rule"] for o in failed}
    if "schema_as_expected" in names:
        for run_id, bodies in drifted_runs.items():
            out.setdefault(run_id, []).append(f"{bodies} body(ies) with another header")
    if "quarantine_share_below_threshold" in names:
        for run_id, n in sorted(quarantined_by_run.items(), key=lambda kv: -kv[1]):
            read = rows_by_run.get(run_id, (0, 0))[0]
            share = f" of {read}" if read else ""
            out.setdefault(run_id, []).append(f"{n}{share} rows quarantined")
    if "row_count_within_bounds" in names:
        for run_id, (read, expected) in sorted(rows_by_run.items()):
            if read < expected:
                out.setdefault(run_id, []).append(f"{read} rows read, its manifest lists {expected}")
    return {run_id: "; ".join(why) for run_id, why in out.items()}


def blocked_hint(offending: dict[str, str], ingest_dates: dict[str, str]) -> str:
    """Pure: the lines the audit adds to its blocked message, naming the ingest runs behind
    the block and the command that takes one out of the queue."""
    if not offending:
        return ""
    lines = ["  The ingest run(s) behind this block (they stay pending, so every later run blocks too):"]
    for run_id, why in offending.items():
        day = ingest_dates.get(run_id)
        lines.append(f"    - {run_id}" + (f" (ingest date {day})" if day else "") + f": {why}")
    first = next(iter(offending))
    lines.append(
        "  If one of them is bad, set it aside (it stays in raw and is recorded, no WAP processes it again), "
        f"then run the WAP again:\n    tickerlake set-aside --ingest-run {first} --reason \"<why>\" && tickerlake wap"
    )
    return "\n".join(lines)


def blocked_hint_for(ctx, runs: list[pending.IngestRun], failed: list[dict]) -> str:
    """The blocked-message lines for a failing audit of `runs` (see blocked_hint). Best effort:
    the block itself must be reported even if this cannot be worked out."""
    try:
        return blocked_hint(_offending(ctx, runs, failed), {r.run_id: r.ingest_date for r in runs})
    except Exception as exc:  # never hide the audit's own verdict behind a hint's failure
        ids = ", ".join(r.run_id for r in runs)
        return (f"  (could not attribute the block to an ingest run: {type(exc).__name__}: {exc}.) "
                f"This run processed ingest run(s) {ids}; a bad one can be set aside with "
                f"tickerlake set-aside --ingest-run RUN_ID --reason \"<why>\"")


def _offending(ctx, runs: list[pending.IngestRun], failed: list[dict]) -> dict[str, str]:
    from glue_jobs import lake_parquet, sql_files, table_defs

    drifted: dict[str, int] = {}
    if ctx.catalog.get_table(lake_layout.DATABASE, lake_layout.RAW_TABLE) is not None:
        for p in ctx.catalog.list_partitions(lake_layout.DATABASE, lake_layout.RAW_TABLE,
                                             where=pending.raw_partitions_of(runs)):
            run_id = p.values.get("run_id")
            if p.columns is not None:
                drifted[run_id] = drifted.get(run_id, 0) + 1
    quarantined: dict[str, int] = {}
    held = lake_parquet.read_table(ctx.storage, table_defs.temp_quarantine(ctx.run_id).location, ["ingest_run_id"])
    if held is not None:
        for run_id in held.column("ingest_run_id").to_pylist():
            quarantined[run_id] = quarantined.get(run_id, 0) + 1
    read: dict[str, int] = {}
    if runs:
        counts = ctx.engine.query(sql_files.render("write_temp_counts.sql", pending.raw_sql_params(runs)))
        for row in counts.to_pylist():
            read[row["run_id"]] = read.get(row["run_id"], 0) + int(row["raw_rows"])
    rows = {r.run_id: (read.get(r.run_id, 0), r.expected_rows) for r in runs}
    return offenders(failed, drifted_runs=drifted, quarantined_by_run=quarantined, rows_by_run=rows)
