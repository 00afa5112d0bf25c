"""A ledger written before the serve stage existed (its Parquet files have no seconds_serve
column) still reads, and a run recorded now into the same month keeps the older rows."""
from __future__ import annotations

import copy

from glue_jobs.lake import ledger
from glue_jobs.lake.ledger import rows as ledger_rows
from glue_jobs.runtime import local_context
from tests.support.demo_lake import run_log_docs


def test_ledger_written_before_the_serve_stage_still_reads_and_takes_new_runs(tmp_path, monkeypatch):
    ctx = local_context(tmp_path / "lake", run_id="unused")
    old_doc, new_doc = run_log_docs()[0], copy.deepcopy(run_log_docs()[0])
    new_doc["run_id"] = old_doc["run_id"][:-6] + "zzzzzz"
    new_doc["stages"]["serve"] = {"status": "succeeded", "seconds": 0.5}
    before = [c for c in ledger_rows.PIPELINE_RUNS_COLUMNS if c.name != "seconds_serve"]
    with monkeypatch.context() as m:  # the ledger as the code before the stage wrote it
        m.setattr(ledger_rows, "PIPELINE_RUNS_COLUMNS", before)
        ledger.record_run(ctx, old_doc)
    assert ctx.engine.query("select count(*) from stocks.pipeline_runs").column(0)[0].as_py() == 1

    ledger.record_run(ctx, new_doc)

    rows = ctx.engine.query("select run_id, seconds_serve from stocks.pipeline_runs order by run_id").to_pylist()
    assert rows == sorted([{"run_id": old_doc["run_id"], "seconds_serve": None},
                           {"run_id": new_doc["run_id"], "seconds_serve": 0.5}], key=lambda r: r["run_id"])
