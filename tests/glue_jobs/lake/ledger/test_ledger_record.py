"""Publishing the ledger on the local runtime (DuckDB engine, JSON catalog, lake directory):
the same calls run on Athena and Glue."""
from __future__ import annotations

import copy

import pytest

from glue_jobs.lake import ledger
from glue_jobs.runtime import local_context
from tests.support.demo_lake import run_log_docs


@pytest.fixture()
def ctx(tmp_path):
    return local_context(tmp_path / "lake", run_id="unused")


def _count(ctx, sql: str) -> int:
    return ctx.engine.query(sql).column(0)[0].as_py()


def test_runs_and_audit_rules_become_queryable_tables(ctx):
    docs = run_log_docs()
    for doc in docs:
        counts = ledger.record_run(ctx, doc)
        assert counts["ledger_run_rows"] == 1
    rows = ctx.engine.query(
        "select run_id, status, published_rows, reconciled, seconds_publish, run_month "
        "from stocks.pipeline_runs order by started_at").to_pylist()
    assert [r["run_id"] for r in rows] == [d["run_id"] for d in docs]
    assert [r["status"] for r in rows] == [d["status"] for d in docs]
    assert rows[0]["published_rows"] == docs[0]["totals"]["published_rows"]
    assert rows[0]["run_month"] == docs[0]["started_at"][:7]
    first_run = docs[0]["run_id"]
    rules = _count(ctx, f"select count(*) from stocks.audit_results where run_id = '{first_run}'")
    assert rules == len(docs[0]["stages"]["audit"]["details"]["rules"])


def test_recording_a_run_again_replaces_its_rows(ctx):
    first = run_log_docs()[0]
    ledger.record_run(ctx, first)
    again = copy.deepcopy(first)
    again["status"] = "failed"
    again["stages"]["audit"]["details"]["rules"] = again["stages"]["audit"]["details"]["rules"][:2]
    ledger.record_run(ctx, again)
    assert ctx.engine.query("select status from stocks.pipeline_runs").column(0).to_pylist() == ["failed"]
    assert _count(ctx, "select count(*) from stocks.audit_results") == 2


def test_a_month_keeps_only_its_current_and_previous_version(ctx):
    doc = run_log_docs()[0]
    for _ in range(4):
        ledger.record_run(ctx, doc)
    month = doc["started_at"][:7]
    keys = ctx.storage.list_keys(f"warehouse/pipeline_runs/run_month={month}/")
    versions = {k.split("/v=")[1].split("/")[0] for k in keys}
    assert len(versions) == 2
    assert not ctx.storage.list_keys("tmp/ledger_pipeline_runs/")
    assert "tmp_ledger_pipeline_runs" not in ctx.catalog.list_tables("stocks")
