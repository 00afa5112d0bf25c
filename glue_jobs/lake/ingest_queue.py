"""Which ingest runs a pipeline run's WAP processes: those with a manifest and no
"published" marker yet, oldest first.

The choice is made once per pipeline run (by the first stage that asks) and kept in the run
log, so every later stage, possibly a separate Glue job, works on the same runs even if
another ingest lands meanwhile; after_publish then marks exactly those runs published.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field

from glue_jobs.lake import layout
from glue_jobs.ports.storage import AlreadyExists, NotFound, Storage, put_json

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fetch:
    """One symbol's data body in an ingest run."""

    symbol: str
    raw_key: str | None  # the CSV body the raw table reads
    rows: int | None  # data rows the ingest counted
    fetched_at: str  # 'YYYY-MM-DD HH:MM:SS.ffffff' UTC
    forming_date: str | None  # a bar that was still forming when fetched


@dataclass(frozen=True)
class IngestRun:
    run_id: str
    ingest_date: str
    manifest_key: str
    fetches: tuple[Fetch, ...] = field(default_factory=tuple)

    @property
    def expected_rows(self) -> int:
        return sum(f.rows or 0 for f in self.fetches)


# -- pure --------------------------------------------------------------------------------------


def manifest_refs(keys: list[str]) -> list[tuple[str, str, str]]:
    """(ingest_date, run_id, key) of each manifest key."""
    out = []
    for key in keys:
        if not key.endswith(".json"):
            continue
        parts = layout.parse_hive_key(key[: -len(".json")])
        if "ingest_date" in parts and "run_id" in parts:
            out.append((parts["ingest_date"], parts["run_id"], key))
    return out


def select_pending(manifests: list[tuple[str, str, str]], published_run_ids: set[str]) -> list[tuple[str, str, str]]:
    """Manifests whose run is not published, oldest ingest date (then run id) first."""
    return sorted(m for m in manifests if m[1] not in published_run_ids)


def utc_text(value: str | None, run_id: str) -> str:
    """An ISO time as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, which both engines cast to a
    timestamp. Without one, the run's start (its id begins 20261120T220001Z) stands in."""
    moment = None
    if value:
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            log.warning("ingest run %s: fetched_at %r is not an ISO time; using the run's start", run_id, value)
    if moment is None:
        try:
            moment = dt.datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
        except ValueError:
            moment = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def fetches_from_manifest(doc: dict, run_id: str) -> tuple[Fetch, ...]:
    """The data bodies a manifest lists. Read loosely: `symbols` as a mapping or a list of
    records; a record counts when it has a CSV body (csv_key for a JSON answer, else raw_key)."""
    symbols = doc.get("symbols") or {}
    records = list(symbols.values()) if isinstance(symbols, dict) else list(symbols)
    out = []
    for rec in records:
        if not isinstance(rec, dict) or not rec.get("symbol"):
            continue
        key = rec.get("csv_key") or rec.get("raw_key")
        if not key or not str(key).endswith(".csv"):
            continue
        if rec.get("status") not in (None, "fetched"):
            continue
        rows = rec.get("rows")
        out.append(
            Fetch(
                symbol=str(rec["symbol"]),
                raw_key=str(key),
                rows=int(rows) if isinstance(rows, (int, float)) else None,
                fetched_at=utc_text(rec.get("fetched_at"), run_id),
                forming_date=rec.get("forming_date") or None,
            )
        )
    return tuple(sorted(out, key=lambda f: f.symbol))


def from_dicts(docs: list[dict]) -> list[IngestRun]:
    return [
        IngestRun(
            run_id=d["run_id"],
            ingest_date=d["ingest_date"],
            manifest_key=d["manifest_key"],
            fetches=tuple(Fetch(**f) for f in d.get("fetches", [])),
        )
        for d in docs
    ]


# -- storage -----------------------------------------------------------------------------------


def published_run_ids(storage: Storage) -> set[str]:
    return {ref[1] for ref in manifest_refs(storage.list_keys(layout.PUBLISHED_MARKER_PREFIX))}


# (manifest location, digest of its bytes) -> the run it describes: every stage of a run asks
# for the same manifests, each listing thousands of fetches
_read_cache: dict[tuple[str, bytes], IngestRun] = {}
_READ_CACHE_SIZE = 64


def read_ingest_run(storage: Storage, ingest_date: str, run_id: str, key: str) -> IngestRun:
    raw = storage.get_bytes(key)
    cache_key = (storage.uri(key), hashlib.sha1(raw).digest())
    cached = _read_cache.get(cache_key)
    if cached is not None and (cached.run_id, cached.ingest_date) == (run_id, ingest_date):
        return cached
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"manifest {storage.uri(key)} is not JSON ({exc}); restore it from a backup (`tickerlake doctor` lists damaged manifests): without it the ingest run cannot be published") from exc
    run = IngestRun(run_id, ingest_date, key, fetches_from_manifest(doc, run_id))
    if len(_read_cache) >= _READ_CACHE_SIZE:
        _read_cache.clear()
    _read_cache[cache_key] = run
    return run


def set_aside_run_ids(storage: Storage) -> set[str]:
    """Ingest runs an operator set aside (glue_jobs.lake.ingest_history): they stay in raw, unprocessed."""
    return {ref[1] for ref in manifest_refs(storage.list_keys(layout.SET_ASIDE_PREFIX))}


def pending_ingest_runs(storage: Storage) -> list[IngestRun]:
    """Every ingest run with a manifest that no WAP has published yet and nobody set aside,
    oldest first."""
    done = published_run_ids(storage) | set_aside_run_ids(storage)
    refs = select_pending(manifest_refs(storage.list_keys(layout.MANIFEST_PREFIX)), done)
    return [read_ingest_run(storage, *ref) for ref in refs]


def raw_partitions_of(runs: list[IngestRun]) -> dict[str, set[str]]:
    """Pure: the raw table's partition values these runs landed under (a catalog `where`),
    so a stage asks for its own partitions, not every body ever crawled."""
    return {"ingest_date": {r.ingest_date for r in runs}, "ingest_run_id": {r.run_id for r in runs}}


def raw_sql_params(runs: list[IngestRun]) -> dict[str, list[str]]:
    """Pure: the parameters of the SQL that reads these runs' raw rows (wap/write_temp/write_temp.sql,
    wap/audit/raw_counts.sql); the dates let the engines prune by the first partition key."""
    return {"ingest_dates": sorted({r.ingest_date for r in runs}), "ingest_run_ids": [r.run_id for r in runs]}


def choose_ingest_runs(storage: Storage, run_id: str) -> list[IngestRun]:
    """The ingest runs pipeline run `run_id` processes. The first call of a run chooses them (the
    pending ones) and records the choice in its run log; every later call, from any stage or
    Glue job of that run, reads the same choice back, so a run landing meanwhile waits for the
    next run."""
    from glue_jobs.lake.run_log import RunLog

    run_log = RunLog.load_or_new(storage, run_id)
    chosen = run_log.get("ingest_runs")
    if chosen is not None:
        if any("fetches" in c for c in chosen):  # a log written before the fetches moved out
            return from_dicts(chosen)
        try:
            return [read_ingest_run(storage, c["ingest_date"], c["run_id"], c["manifest_key"]) for c in chosen]
        except NotFound as exc:
            raise NotFound(f"run {run_id} processes ingest runs whose manifest is gone ({exc}); restore the "
                           f"manifest, or start a new run (it picks the pending ingest runs again)") from exc
    runs = pending_ingest_runs(storage)
    # The choice, not the fetches: a manifest never changes once written, and a run log that
    # listed 5,000 fetches was rewritten at every stage step.
    run_log.set("ingest_runs", [{"run_id": r.run_id, "ingest_date": r.ingest_date, "manifest_key": r.manifest_key}
                                for r in runs])
    run_log.save()
    return runs


def mark_published(storage: Storage, runs: list[IngestRun], *, by_run_id: str, note: str = "published") -> int:
    """Mark ingest runs as done so no later WAP reprocesses them; returns how many were new.
    Create-only: a marker already there (a re-run) is left as it is."""
    marked = 0
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    for run in runs:
        key = layout.published_marker_key(run.ingest_date, run.run_id)
        try:
            put_json(storage, key, {"ingest_run_id": run.run_id, "by_run_id": by_run_id, "at": now, "note": note},
                     create_only=True)
            marked += 1
        except AlreadyExists:
            continue
    return marked
