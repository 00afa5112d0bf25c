"""The history of each ingest run: what operators and rollbacks did to it, appended at
history_key(run_id), and how to find a run by its id. Read by `tickerlake set-aside` /
`requeue` (glue_jobs.ops.set_aside) and written by rollbacks.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from glue_jobs.lake import ingest_queue, layout
from glue_jobs.lake.errors import ConfigError
from glue_jobs.ports.storage import NotFound, Storage, put_json

HISTORY_PREFIX = "maintenance/ingest_runs/"


def history_key(ingest_run_id: str) -> str:
    return f"{HISTORY_PREFIX}run_id={ingest_run_id}.json"


@dataclass(frozen=True)
class IngestRunRef:
    run_id: str
    ingest_date: str
    manifest_key: str


def now_text() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


# -- reading -----------------------------------------------------------------------------------


def find(storage: Storage, ingest_run_id: str) -> IngestRunRef:
    """The ingest run with this id, or ConfigError listing the ones that exist."""
    refs = ingest_queue.manifest_refs(storage.list_keys(layout.MANIFEST_PREFIX))
    for ingest_date, run_id, key in refs:
        if run_id == ingest_run_id:
            return IngestRunRef(run_id, ingest_date, key)
    known = ", ".join(r[1] for r in sorted(refs)[-5:]) or "none"
    raise ConfigError(f"no ingest run {ingest_run_id!r} in {storage.root} (no manifest under "
                      f"{layout.MANIFEST_PREFIX}); the newest are: {known}")


set_aside_run_ids = ingest_queue.set_aside_run_ids


def history(storage: Storage, ingest_run_id: str) -> list[dict]:
    try:
        doc = json.loads(storage.get_bytes(history_key(ingest_run_id)))
    except NotFound:
        return []
    return list(doc.get("events") or [])


def append_event(storage: Storage, ingest_run_id: str, event: dict) -> None:
    events = history(storage, ingest_run_id) + [dict(event, at=now_text())]
    put_json(storage, history_key(ingest_run_id), {"ingest_run_id": ingest_run_id, "events": events})


def record(storage: Storage, ingest_run_ids: list[str], event: dict) -> None:
    """Append one event (e.g. a rollback of the pipeline run that published them) to each run's history."""
    for run_id in ingest_run_ids:
        append_event(storage, run_id, event)
