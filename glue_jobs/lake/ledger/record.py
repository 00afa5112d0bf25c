"""Publishing the ledger through Storage, Catalog and Engine, so the same calls run on the
local lake (DuckDB) and on S3 (Glue, Athena). Recording a run again replaces its rows (the
newest record of a run wins): a run recorded by after_publish and again when the runner
finishes, or at a failure and again on a retry, leaves one row."""
from __future__ import annotations

import datetime as dt
from typing import Any

from glue_jobs.lake import failpoints, layout
from glue_jobs.lake.ledger.rows import (
    RUN_MONTH,
    audit_results_table,
    audit_rows,
    pipeline_runs_table,
    rows_table,
    run_month,
    run_row,
)
from glue_jobs.ports.catalog import Column, TableDef


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
    (fresh locations from glue_jobs.lake.merge_plan): stage the rows as Parquet, write the merged
    month to a fresh location, switch the partition to it. Returns the new location."""
    from glue_jobs.lake import merge_plan, sql_files
    from glue_jobs.ports.catalog import Partition

    _ensure_table(ctx.catalog, table)
    staged = TableDef(
        database=table.database, name=f"{layout.TEMP_TABLE_PREFIX}ledger_{table.name}",
        location=layout.temp_prefix(f"ledger_{table.name}", run_id), format="parquet",
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
        month_prefix = f"{layout.table_prefix(table.name)}{RUN_MONTH.name}={month}/"
        occupied = {k.rsplit("/", 1)[0] + "/" for k in ctx.storage.list_keys(month_prefix)}
        (write,) = merge_plan.plan_writes(table.name, RUN_MONTH.name, [month], current, run_id, occupied)
        # A month of runs is a few kilobytes: rewriting it on every record is cheaper than
        # comparing versions, and the newest record of a run should win anyway.
        ctx.engine.write_parquet(sql, write.target)
        failpoints.hit("ledger.after_data_write", table.name)
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
        from glue_jobs.lake.run_log import RunLog

        doc = RunLog.load(ctx.storage, ctx.run_id).doc
    run = run_row(doc, now=dt.datetime.now(dt.timezone.utc))
    run_id = str(run["run_id"])
    month = run_month(run["started_at"], run_id)
    _publish_run(ctx, pipeline_runs_table(), [run], month, run_id)
    audits = audit_rows(doc)
    if audits:
        _publish_run(ctx, audit_results_table(), audits, month, run_id)
    return {"ledger_run_rows": 1, "ledger_audit_rows": len(audits), "ledger_month": month}
