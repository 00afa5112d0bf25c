"""What an operator can do to an ingest run, and the record of it.

A bad ingest run (a body in a changed format, a vendor glitch quarantining half the rows)
stays pending until a WAP publishes it, so it blocks every later pipeline run at the audit.
Setting it aside takes it out of the queue: its bodies stay in raw (the record), a marker at
layout.set_aside_marker_key says who set it aside and why, and no WAP picks it up again.
Requeueing undoes that, or undoes the "published" marker of a run whose publish was rolled
back, so the next WAP processes it again.

Every action is appended to the run's history at history_key(run_id), which `tickerlake
ingest-runs` style tooling, or a person, can read; all of it happens under the lake lock.

    tickerlake set-aside --ingest-run R --reason "vendor sent cents for AAPL"
    tickerlake requeue --ingest-run R
"""
from __future__ import annotations

from glue_jobs.lake import ingest_queue, layout
from glue_jobs.lake.context import new_run_id
from glue_jobs.lake.errors import ConfigError
from glue_jobs.lake.ingest_history import append_event, find, now_text
from glue_jobs.lake.lock import LakeLock
from glue_jobs.ports.storage import Storage, put_json


def set_aside(storage: Storage, ingest_run_id: str, reason: str, *, by: str | None = None) -> dict:
    """Take an ingest run out of the queue, with a reason; returns the marker written."""
    reason = (reason or "").strip()
    if not reason:
        raise ConfigError("set-aside needs --reason: say why the ingest run is set aside (it is recorded)")
    by = by or new_run_id()
    with LakeLock(storage, by):
        ref = find(storage, ingest_run_id)
        if ingest_run_id in ingest_queue.published_run_ids(storage):
            raise ConfigError(
                f"ingest run {ingest_run_id} is already published; to take its rows out of prod, roll back "
                f"the pipeline run that published it (tickerlake rollback --run RUN_ID; see tickerlake runs)"
            )
        marker = {"ingest_run_id": ingest_run_id, "ingest_date": ref.ingest_date, "reason": reason,
                  "by": by, "at": now_text(), "manifest_key": ref.manifest_key}
        key = layout.set_aside_marker_key(ref.ingest_date, ingest_run_id)
        put_json(storage, key, marker)
        append_event(storage, ingest_run_id, {"action": "set_aside", "reason": reason, "by": by})
    return dict(marker, marker_key=key)


def requeue(storage: Storage, ingest_run_id: str, *, by: str | None = None) -> dict:
    """Make an ingest run pending again (undo a set-aside, or the "published" marker of a run
    whose publish was rolled back); the next WAP processes it."""
    by = by or new_run_id()
    with LakeLock(storage, by):
        ref = find(storage, ingest_run_id)
        keys = [layout.set_aside_marker_key(ref.ingest_date, ingest_run_id),
                layout.published_marker_key(ref.ingest_date, ingest_run_id)]
        removed = [k for k in keys if storage.exists(k)]
        if not removed:
            return {"ingest_run_id": ingest_run_id, "removed": [], "status": "already pending"}
        storage.delete(removed)
        append_event(storage, ingest_run_id, {"action": "requeued", "removed": removed, "by": by})
    return {"ingest_run_id": ingest_run_id, "removed": removed, "status": "pending"}
