"""The ledger's tables and their rows, built from a run log document: pure, no I/O.

Partitioned by run_month ('YYYY-MM'): a month of daily runs is one small file, and
recording a run rewrites only its month."""
from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from glue_jobs.lake import layout
from glue_jobs.lake.stage_names import STAGE_NAMES
from glue_jobs.ports.catalog import Column, TableDef

PIPELINE_RUNS_TABLE = "pipeline_runs"
AUDIT_RESULTS_TABLE = "audit_results"
RUN_MONTH = Column("run_month", "string")

_COUNT_COLUMNS = ("symbols_planned", "symbols_fetched", "symbols_failed", "symbols_carried", "calls_used",
                  "calls_allowance", "raw_rows", "published_rows", "quarantined_rows", "duplicates_dropped",
                  "unchanged_rows")

PIPELINE_RUNS_COLUMNS = [
    Column("run_id", "string"),
    Column("started_at", "timestamp"),  # UTC
    Column("finished_at", "timestamp"),  # UTC; null while a run is still going
    Column("status", "string"),  # succeeded | failed | blocked | running
    Column("as_of", "date"),  # the session the run loaded up to
    Column("seconds", "double"),
    *[Column(f"seconds_{name}", "double") for name in STAGE_NAMES],
    *[Column(name, "bigint") for name in _COUNT_COLUMNS],
    # raw rows = published + unchanged + quarantined + duplicates dropped; null when not all of
    # write_temp, audit and publish ran
    Column("reconciled", "boolean"),
    Column("failed_stage", "string"),
    Column("error", "string"),
    Column("source", "string"),
]

AUDIT_RESULTS_COLUMNS = [
    Column("run_id", "string"),
    Column("started_at", "timestamp"),
    Column("as_of", "date"),
    Column("rule", "string"),
    Column("kind", "string"),  # row (failing rows are quarantined) | batch (failing blocks the publish)
    Column("success", "boolean"),
    Column("failing_rows", "bigint"),
    Column("threshold", "string"),  # as configured, e.g. "<= 0.05" or "1..100000"
    Column("observed", "string"),  # what the run measured, in the same terms
    Column("example", "string"),  # a failing row's reason, or why a batch rule failed
]


def pipeline_runs_table() -> TableDef:
    return TableDef(
        database=layout.DATABASE, name=PIPELINE_RUNS_TABLE,
        location=layout.table_prefix(PIPELINE_RUNS_TABLE), format="parquet",
        columns=list(PIPELINE_RUNS_COLUMNS), partition_keys=[RUN_MONTH],
        properties={"classification": "parquet"},
    )


def audit_results_table() -> TableDef:
    return TableDef(
        database=layout.DATABASE, name=AUDIT_RESULTS_TABLE,
        location=layout.table_prefix(AUDIT_RESULTS_TABLE), format="parquet",
        columns=list(AUDIT_RESULTS_COLUMNS), partition_keys=[RUN_MONTH],
        properties={"classification": "parquet"},
    )


# -- rows from a run log (pure) --------------------------------------------------------------


def _utc(value: Any) -> dt.datetime | None:
    """An ISO timestamp from the run log as a naive UTC datetime (Athena's `timestamp`)."""
    if not value:
        return None
    if isinstance(value, dt.datetime):
        stamp = value
    else:
        text = str(value).replace("Z", "+00:00")
        try:
            stamp = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return stamp


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else int(number)


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def run_month(started_at: dt.datetime | None, run_id: str) -> str:
    """The partition of a run: its start month, or the month its id starts with."""
    if started_at is not None:
        return f"{started_at:%Y-%m}"
    return f"{run_id[:4]}-{run_id[4:6]}"


def _status(doc: dict) -> str:
    status = doc.get("status") or "running"
    if status != "running":
        return status
    # Recorded from inside the last stage (after_publish), before the runner closes the log:
    # a run that published and failed nowhere has succeeded.
    stages = doc.get("stages") or {}
    statuses = [s.get("status") for s in stages.values()]
    if "failed" in statuses:
        return "failed"
    if "blocked" in statuses:
        return "blocked"
    if (stages.get("publish") or {}).get("status") == "succeeded":
        return "succeeded"
    return "running"


def _elapsed(start: Any, end: dt.datetime | None) -> float | None:
    begun = _utc(start)
    return round((end - begun).total_seconds(), 3) if begun and end else None


def run_row(doc: dict, now: dt.datetime | None = None) -> dict[str, Any]:
    """The stocks.pipeline_runs row for a run log document (runs/<run_id>.json). `now`
    (UTC) closes what is still running: a run recorded from inside its last stage ends now."""
    stages = doc.get("stages") or {}
    totals = doc.get("totals") or {}
    ingest = (stages.get("ingest") or {}).get("counts") or {}
    settings = doc.get("settings") or {}
    now = _utc(now)
    started = _utc(doc.get("started_at"))
    finished = _utc(doc.get("finished_at"))
    running = (doc.get("status") or "running") == "running"
    if finished is None and running:
        finished = now
    seconds = _float(doc.get("seconds"))
    if seconds is None:
        seconds = _elapsed(started, finished)
    failed = [(name, s) for name, s in stages.items() if s.get("status") in ("failed", "blocked")]
    row: dict[str, Any] = {
        "run_id": doc.get("run_id"),
        "started_at": started,
        "finished_at": finished,
        "status": _status(doc),
        "as_of": _date(doc.get("as_of")),
        "seconds": seconds,
    }
    for name in STAGE_NAMES:
        stage = stages.get(name) or {}
        stage_seconds = _float(stage.get("seconds"))
        if stage_seconds is None and stage.get("status") == "running":
            stage_seconds = _elapsed(stage.get("started_at"), now)
        row[f"seconds_{name}"] = stage_seconds
    sources = {
        "symbols_planned": ingest.get("symbols_planned"),
        "symbols_fetched": totals.get("symbols_fetched", ingest.get("symbols_fetched")),
        "symbols_failed": totals.get("symbols_failed", ingest.get("symbols_failed")),
        "symbols_carried": totals.get("symbols_carried", ingest.get("symbols_carried")),
        "calls_used": totals.get("calls_used", ingest.get("api_calls")),
        "calls_allowance": settings.get("calls_per_day"),
        "raw_rows": totals.get("raw_rows"),
        "published_rows": totals.get("published_rows"),
        "quarantined_rows": totals.get("quarantined_rows"),
        "duplicates_dropped": totals.get("duplicates_dropped"),
        # a run recorded before unchanged rows were counted published them again: 0
        "unchanged_rows": totals.get("unchanged_rows", 0 if totals.get("raw_rows") is not None else None),
    }
    row.update({name: _int(value) for name, value in sources.items()})
    reconciled = totals.get("reconciled")
    row["reconciled"] = reconciled if isinstance(reconciled, bool) else None
    row["failed_stage"] = failed[0][0] if failed else None
    row["error"] = (str(failed[0][1].get("error"))[:2000] if failed and failed[0][1].get("error") else None)
    row["source"] = settings.get("source")
    return row


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return f"{value[0]:g}..{value[1]:g}"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def audit_rows(doc: dict) -> list[dict[str, Any]]:
    """The stocks.audit_results rows for a run log: one per audit rule the run evaluated
    (none when the audit did not run)."""
    audit = (doc.get("stages") or {}).get("audit") or {}
    # glue_jobs.audit.stage reports each rule as audit_rules.outcome(): rule, kind, success,
    # failing_rows, threshold, observed, example
    entries = [e for e in (audit.get("details") or {}).get("rules") or [] if isinstance(e, dict)]
    started = _utc(doc.get("started_at"))
    rows = []
    for entry in entries:
        name = entry.get("rule")
        if not name:
            continue
        failing = _int(entry.get("failing_rows"))
        success = entry.get("success")
        if not isinstance(success, bool):
            success = failing == 0 if failing is not None else None
        rows.append({
            "run_id": doc.get("run_id"),
            "started_at": started,
            "as_of": _date(doc.get("as_of")),
            "rule": str(name),
            "kind": str(entry.get("kind") or "row"),
            "success": success,
            "failing_rows": failing,
            "threshold": _text(entry.get("threshold")),
            "observed": _text(entry.get("observed")),
            "example": _text(entry.get("example")),
        })
    return rows


def arrow_schema(columns: list[Column]):
    """The Arrow schema Parquet files of these columns are written with. Timestamps in
    milliseconds: what Athena's Parquet reader takes without surprises."""
    import pyarrow as pa

    types = {"string": pa.string(), "timestamp": pa.timestamp("ms"), "date": pa.date32(),
             "double": pa.float64(), "bigint": pa.int64(), "int": pa.int32(), "boolean": pa.bool_()}
    return pa.schema([pa.field(c.name, types[c.type]) for c in columns])


def rows_table(rows: list[dict[str, Any]], columns: list[Column]):
    """Rows as an Arrow table with exactly the ledger's columns and types."""
    import pyarrow as pa

    schema = arrow_schema(columns)
    return pa.Table.from_pylist([{c.name: r.get(c.name) for c in columns} for r in rows], schema=schema)
