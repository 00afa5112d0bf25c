"""The run ledger: one row per run in stocks.pipeline_runs and one row per audit rule in
stocks.audit_results, built from the run log and published as partitioned Parquet, so
Athena, Grafana and `tickerlake query` read run history with SQL.

Partitioned by run_month ('YYYY-MM'): a month of daily runs is one small file, and
recording a run rewrites only its month. Recording the same run again replaces its rows
(the newest record of a run wins), so a run recorded at failure and again on a retry
leaves one row.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from glue_jobs.adapters.catalog import Column, TableDef
from glue_jobs.common import lake_layout
from workflows import graph

PIPELINE_RUNS_TABLE = "pipeline_runs"
AUDIT_RESULTS_TABLE = "audit_results"
RUN_MONTH = Column("run_month", "string")
STAGE_NAMES = tuple(s.name for s in graph.STAGES)

_COUNT_COLUMNS = ("symbols_planned", "symbols_fetched", "symbols_failed", "symbols_carried", "calls_used",
                  "calls_allowance", "raw_rows", "published_rows", "quarantined_rows", "duplicates_dropped")

PIPELINE_RUNS_COLUMNS = [
    Column("run_id", "string"),
    Column("started_at", "timestamp"),  # UTC
    Column("finished_at", "timestamp"),  # UTC; null while a run is still going
    Column("status", "string"),  # succeeded | failed | blocked | running
    Column("as_of", "date"),  # the session the run loaded up to
    Column("seconds", "double"),
    *[Column(f"seconds_{name}", "double") for name in STAGE_NAMES],
    *[Column(name, "bigint") for name in _COUNT_COLUMNS],
    # raw rows = published + quarantined + duplicates dropped; null when not all of
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
        database=lake_layout.DATABASE, name=PIPELINE_RUNS_TABLE,
        location=lake_layout.table_prefix(PIPELINE_RUNS_TABLE), format="parquet",
        columns=list(PIPELINE_RUNS_COLUMNS), partition_keys=[RUN_MONTH],
        properties={"classification": "parquet"},
    )


def audit_results_table() -> TableDef:
    return TableDef(
        database=lake_layout.DATABASE, name=AUDIT_RESULTS_TABLE,
        location=lake_layout.table_prefix(AUDIT_RESULTS_TABLE), format="parquet",
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
    # Recorded from inside the last stage: the run's outcome so far is its outcome.
    statuses = [s.get("status") for s in (doc.get("stages") or {}).values()]
    if "failed" in statuses:
        return "failed"
    if "blocked" in statuses:
        return "blocked"
    if statuses and all(s in ("succeeded", "running", "skipped") for s in statuses):
        return "succeeded"
    return "running"


def run_row(doc: dict) -> dict[str, Any]:
    """The stocks.pipeline_runs row for a run log document (runs/<run_id>.json)."""
    stages = doc.get("stages") or {}
    totals = doc.get("totals") or {}
    ingest = (stages.get("ingest") or {}).get("counts") or {}
    settings = doc.get("settings") or {}
    started = _utc(doc.get("started_at"))
    finished = _utc(doc.get("finished_at"))
    seconds = _float(doc.get("seconds"))
    if seconds is None and started and finished:
        seconds = (finished - started).total_seconds()
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
        row[f"seconds_{name}"] = _float((stages.get(name) or {}).get("seconds"))
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
    # glue_jobs.audit reports each rule as audit_rules.outcome(): rule, kind, success,
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


# -- publishing (through Storage, Catalog and Engine, so it runs on DuckDB and Athena) --------


def _parquet_bytes(rows: list[dict[str, Any]], columns: list[Column]) -> bytes:
    import io

    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(rows_table(rows, columns), buffer, compression="zstd")
    return buffer.getvalue()


def _ensure_table(catalog, table: TableDef) -> None:
    current = catalog.get_table(table.database, table.name)
    if current is None:
        catalog.create_table(table)
    elif [c.name for c in current.columns] != [c.name for c in table.columns]:
        # new ledger columns: the definition follows the code; partitions stay registered
        catalog.create_table(table, replace=True)


def _publish_run(ctx, table: TableDef, rows: list[dict[str, Any]], month: str, run_id: str) -> str:
    """Replace the run's rows in the table's month partition the way publish does for prices
    (fresh locations from glue_jobs.merge_plan): stage the rows as Parquet, write the merged
    month to a fresh location, switch the partition to it. Returns the new location."""
    from glue_jobs import merge_plan, sql_files
    from glue_jobs.adapters.catalog import Partition

    _ensure_table(ctx.catalog, table)
    staged = TableDef(
        database=table.database, name=f"{lake_layout.TEMP_TABLE_PREFIX}ledger_{table.name}",
        location=lake_layout.temp_prefix(f"ledger_{table.name}", run_id), format="parquet",
        columns=list(table.columns), properties={"classification": "parquet", "wap_run_id": run_id},
    )
    ctx.storage.delete(ctx.storage.list_keys(staged.location))
    ctx.storage.put_bytes(staged.location + "part-00000.parquet", _parquet_bytes(rows, table.columns))
    ctx.catalog.create_table(staged, replace=True)
    try:
        sql = sql_files.render("ledger/merge_run.sql", {
            "columns": [sql_files.Identifier(c.name) for c in table.columns],
            "table": sql_files.Identifier(table.qualified),
            "staged": sql_files.Identifier(staged.qualified),
            "run_month": month,
            "run_id": run_id,
        })
        current = {p.values[RUN_MONTH.name]: p.location
                   for p in ctx.catalog.list_partitions(table.database, table.name)}
        month_prefix = f"{lake_layout.table_prefix(table.name)}{RUN_MONTH.name}={month}/"
        occupied = {k.rsplit("/", 1)[0] + "/" for k in ctx.storage.list_keys(month_prefix)}
        (write,) = merge_plan.plan_writes(table.name, RUN_MONTH.name, [month], current, run_id, occupied)
        # A month of runs is a few kilobytes: rewriting it on every record is cheaper than
        # comparing versions, and the newest record of a run should win anyway.
        ctx.engine.write_parquet(sql, write.target)
        ctx.catalog.switch_partitions(table.database, table.name, [Partition(dict(write.values), write.target)])
        _drop_old_versions(ctx.storage, month_prefix, keep={write.target, write.current})
        return write.target
    finally:
        ctx.catalog.drop_table(staged.database, staged.name)
        ctx.storage.delete(ctx.storage.list_keys(staged.location))


def _drop_old_versions(storage, month_prefix: str, keep: set) -> None:
    """Delete a month's versions older than the one just replaced, which stays for queries
    that started before the switch: a ledger month holds at most two versions."""
    stale = [k for k in storage.list_keys(month_prefix) if k.rsplit("/", 1)[0] + "/" not in keep]
    storage.delete(stale)


def record_run(ctx, doc: dict | None = None) -> dict[str, Any]:
    """Publish the run's row to stocks.pipeline_runs and its audit rules to
    stocks.audit_results. `doc` is the run log (read from the lake when not given).
    Recording a run again replaces its rows."""
    if doc is None:
        from glue_jobs.run_log import RunLog

        doc = RunLog.load(ctx.storage, ctx.run_id).doc
    run = run_row(doc)
    run_id = str(run["run_id"])
    month = run_month(run["started_at"], run_id)
    _publish_run(ctx, pipeline_runs_table(), [run], month, run_id)
    audits = audit_rows(doc)
    if audits:
        _publish_run(ctx, audit_results_table(), audits, month, run_id)
    return {"ledger_run_rows": 1, "ledger_audit_rows": len(audits), "ledger_month": month}
