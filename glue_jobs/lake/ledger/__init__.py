"""The run ledger: one row per run in stocks.pipeline_runs and one row per audit rule in
stocks.audit_results, built from the run log (rows.py, pure) and published as partitioned
Parquet (publish.py), so Athena, Grafana and `tickerlake query` read run history with SQL.

    from glue_jobs import ledger
    ledger.record_run(ctx)          # after a run (or from after_publish: ledger/stage.py)
"""
from __future__ import annotations

from glue_jobs.lake.ledger.record import record_run
from glue_jobs.lake.ledger.rows import (
    AUDIT_RESULTS_COLUMNS,
    AUDIT_RESULTS_TABLE,
    PIPELINE_RUNS_COLUMNS,
    PIPELINE_RUNS_TABLE,
    RUN_MONTH,
    STAGE_NAMES,
    arrow_schema,
    audit_results_table,
    audit_rows,
    pipeline_runs_table,
    rows_table,
    run_month,
    run_row,
)

__all__ = [
    "AUDIT_RESULTS_COLUMNS", "AUDIT_RESULTS_TABLE", "PIPELINE_RUNS_COLUMNS", "PIPELINE_RUNS_TABLE", "RUN_MONTH",
    "STAGE_NAMES", "arrow_schema", "audit_results_table", "audit_rows", "pipeline_runs_table", "record_run",
    "rows_table", "run_month", "run_row",
]
