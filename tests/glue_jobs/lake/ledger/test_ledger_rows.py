"""The ledger's rows, built from run logs written by the real RunLog."""
from __future__ import annotations

import datetime as dt

import pytest

from glue_jobs.adapters.local.storage import LocalStorage
from glue_jobs.lake import ledger
from glue_jobs.lake.errors import AuditBlocked
from glue_jobs.lake.run_log import RunLog

RUN_ID = "20261120T220001Z-abc123"


@pytest.fixture()
def storage(tmp_path):
    return LocalStorage(tmp_path)


def _run(storage, *, fail: Exception | None = None, finish: bool = True) -> dict:
    log = RunLog.start(storage, run_id=RUN_ID, as_of="2026-11-20", stages=list(ledger.STAGE_NAMES),
                       settings={"source": "alphavantage", "calls_per_day": 25})
    results = {
        "ingest": {"symbols_planned": 10, "symbols_fetched": 8, "symbols_failed": 1, "symbols_carried": 2,
                   "api_calls": 9},
        "write_temp": {"raw_rows": 912, "duplicates_dropped": 2, "unchanged_rows": 100},
        "audit": {"quarantined_rows": 10, "rules": [
            {"rule": "prices_positive", "kind": "row", "success": False, "failing_rows": 10,
             "threshold": 0, "observed": 10},
            {"rule": "quarantine_share", "kind": "batch", "success": True, "failing_rows": 0,
             "threshold": "<= 0.05", "observed": 0.012315},
            {"rule": "row_count_within_bounds", "kind": "batch", "success": True, "threshold": [1, 100000],
             "observed": 812},
        ]},
        "publish": {"published_rows": 800},
    }
    for name in ledger.STAGE_NAMES:
        log.stage_started(name)
        if fail is not None and name == "audit":
            log.stage_failed(name, fail)
            break
        log.stage_finished(name, results.get(name, {}))
    if finish:
        log.finish()
    log.save()
    return RunLog.load(storage, RUN_ID).doc


def test_a_run_becomes_one_row_with_its_counts_and_durations(storage):
    row = ledger.run_row(_run(storage))
    assert row["run_id"] == RUN_ID and row["status"] == "succeeded"
    assert row["as_of"] == dt.date(2026, 11, 20)
    assert isinstance(row["started_at"], dt.datetime) and row["started_at"].tzinfo is None
    assert row["finished_at"] >= row["started_at"] and row["seconds"] >= 0
    assert all(row[f"seconds_{s}"] is not None for s in ledger.STAGE_NAMES)
    assert (row["symbols_planned"], row["symbols_fetched"], row["symbols_failed"], row["symbols_carried"]) == (10, 8, 1, 2)
    assert (row["calls_used"], row["calls_allowance"]) == (9, 25)
    assert (row["raw_rows"], row["published_rows"], row["unchanged_rows"], row["quarantined_rows"],
            row["duplicates_dropped"]) == (912, 800, 100, 10, 2)
    assert row["reconciled"] is True and row["failed_stage"] is None and row["source"] == "alphavantage"
    assert set(row) == {c.name for c in ledger.PIPELINE_RUNS_COLUMNS}
    assert ledger.run_month(row["started_at"], RUN_ID) == f"{row['started_at']:%Y-%m}"


def test_a_blocked_audit_names_the_stage_and_leaves_reconciliation_open(storage):
    row = ledger.run_row(_run(storage, fail=AuditBlocked("quarantine share 0.4 above 0.05")))
    assert row["status"] == "blocked" and row["failed_stage"] == "audit"
    assert "quarantine share" in row["error"]
    assert row["reconciled"] is None and row["seconds_publish"] is None


def test_a_run_recorded_from_its_last_stage_counts_as_succeeded(storage):
    assert ledger.run_row(_run(storage, finish=False))["status"] == "succeeded"


def test_one_audit_row_per_rule_with_threshold_and_observed_as_text(storage):
    rows = ledger.audit_rows(_run(storage))
    by_rule = {r["rule"]: r for r in rows}
    assert set(by_rule) == {"prices_positive", "quarantine_share", "row_count_within_bounds"}
    assert by_rule["prices_positive"]["success"] is False and by_rule["prices_positive"]["failing_rows"] == 10
    assert by_rule["quarantine_share"]["observed"] == "0.012315"
    assert by_rule["row_count_within_bounds"]["threshold"] == "1..100000"
    assert by_rule["row_count_within_bounds"]["failing_rows"] is None
    assert all(set(r) == {c.name for c in ledger.AUDIT_RESULTS_COLUMNS} for r in rows)


def test_no_audit_no_audit_rows(storage):
    doc = _run(storage)
    doc["stages"].pop("audit")
    assert ledger.audit_rows(doc) == []


def test_rows_fit_the_declared_parquet_schema(storage):
    doc = _run(storage)
    table = ledger.rows_table([ledger.run_row(doc)], ledger.PIPELINE_RUNS_COLUMNS)
    assert table.num_rows == 1 and table.schema == ledger.arrow_schema(ledger.PIPELINE_RUNS_COLUMNS)


def test_recorded_from_inside_the_last_stage_the_run_ends_now(storage):
    doc = _run(storage, finish=False)
    doc["stages"]["after_publish"] = {"status": "running", "started_at": "2026-11-20T22:00:30+00:00"}
    doc["started_at"] = "2026-11-20T22:00:00+00:00"
    row = ledger.run_row(doc, now=dt.datetime(2026, 11, 20, 22, 0, 40, tzinfo=dt.timezone.utc))
    assert row["status"] == "succeeded"
    assert row["finished_at"] == dt.datetime(2026, 11, 20, 22, 0, 40)
    assert row["seconds"] == 40.0 and row["seconds_after_publish"] == 10.0


def test_a_run_still_running_before_publish_stays_running(storage):
    doc = _run(storage, finish=False)
    for name in ("publish", "after_publish"):
        doc["stages"][name] = {"status": "pending"}
    doc["status"] = "running"
    assert ledger.run_row(doc)["status"] == "running"
    doc["stages"]["publish"] = {"status": "succeeded", "seconds": 1.0}
    assert ledger.run_row(doc)["status"] == "succeeded"
