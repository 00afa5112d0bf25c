"""The run and audit panels' values against the run logs of the runs that made them: two runs
of the pipeline (synthetic source, one symbol with bad rows, so rows are quarantined), read
through the production engine. Each panel column must carry the run-log field it is named for;
published, quarantined and raw rows all differ, and so do duplicates dropped (IBM repeats rows),
symbols carried, fetched and failed, so a panel that reads a neighbour fails."""
from __future__ import annotations

import json
import time

import pytest

from glue_jobs.lake import layout
from glue_jobs.runtime import build_local
from workflows.dashboards.panels import load_spec
from workflows.dashboards.render import resolve_selection, run_panel
from workflows.runner import run_stages
from workflows.settings import build_settings


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    path = tmp_path_factory.mktemp("runs") / "lake"
    settings = build_settings(lake=str(path), date="2026-11-20", symbols="AAPL,MSFT,IBM",
                              faults="bad_rows:MSFT,duplicates:IBM", env={})
    outcomes = []
    for _ in range(2):
        # run logs keep started_at to the second, and the panels order and group runs by it:
        # two runs in one second would tie, which a user's runs (minutes apart) never do
        time.sleep(1.05 - time.time() % 1)
        outcomes.append(run_stages(settings, say=lambda _line: None))
    storage, _, engine, _ = build_local(path)
    logs = [json.loads(storage.get_bytes(layout.run_log_key(o.run_id))) for o in outcomes]
    spec = load_spec()
    selection = resolve_selection(engine, spec, symbols=["AAPL", "MSFT"])

    def rows(panel_id):
        data = run_panel(engine, spec.panel(panel_id), selection)
        assert data.error is None, data.error
        return data.rows

    return logs, rows


def test_the_lake_has_distinct_counts_to_tell_columns_apart(lake):
    logs, _ = lake
    totals = logs[0]["totals"]
    assert len({totals["raw_rows"], totals["published_rows"], totals["quarantined_rows"]}) == 3
    assert totals["quarantined_rows"] > 0
    # the run panels' neighbouring counts differ too, so reading one as the other fails
    assert totals["duplicates_dropped"] > 0 and totals["duplicates_dropped"] != totals["symbols_carried"]
    assert len({totals["symbols_fetched"], totals["symbols_failed"], totals["duplicates_dropped"]}) == 3


def test_last_run_is_the_newest_runs_outcome(lake):
    logs, rows = lake
    newest = logs[-1]
    [row] = rows("last_run")
    assert row["status"] == newest["status"]
    assert row["published_rows"] == newest["totals"]["published_rows"]
    assert row["quarantined_rows"] == newest["totals"]["quarantined_rows"]
    assert row["symbols_failed"] == newest["totals"]["symbols_failed"]
    assert row["seconds"] == pytest.approx(newest["seconds"], abs=0.01)


def test_recent_runs_lists_each_run_newest_first_with_its_totals(lake):
    logs, rows = lake
    got = rows("recent_runs")
    assert [r["run_id"] for r in got] == [d["run_id"] for d in reversed(logs)]
    for row, doc in zip(got, reversed(logs)):
        totals = doc["totals"]
        for column in ("raw_rows", "published_rows", "quarantined_rows", "duplicates_dropped",
                       "symbols_fetched", "symbols_failed", "symbols_carried"):
            assert row[column] == totals[column], column
        assert row["reconciled"] == totals["reconciled"] and row["status"] == doc["status"]
        assert str(row["as_of"]) == doc["as_of"]


def test_run_durations_are_each_stages_seconds(lake):
    logs, rows = lake
    got = rows("run_durations")
    assert [r["run_id"] for r in got] == [d["run_id"] for d in logs]
    for row, doc in zip(got, logs):
        for stage in ("ingest", "crawl", "drop_temp", "write_temp", "audit", "publish", "after_publish"):
            assert row[f"seconds_{stage}"] == pytest.approx(doc["stages"][stage]["seconds"], abs=0.01), stage


def test_quota_use_sums_the_days_calls(lake):
    logs, rows = lake
    [day] = rows("quota_use")
    assert day["calls_used"] == sum(d["totals"]["calls_used"] for d in logs)


def test_quarantined_rows_per_run_add_up_to_the_runs_quarantine(lake):
    logs, rows = lake
    got = rows("quarantined_rows")
    per_run = {}
    for row in got:
        per_run[row["started_at"]] = per_run.get(row["started_at"], 0) + row["quarantined_rows"]
    assert sorted(per_run.values()) == sorted(d["totals"]["quarantined_rows"] for d in logs)


def _row_rules(doc):
    return {r["rule"]: r for r in doc["stages"]["audit"]["details"]["rules"]}


def test_audit_failures_are_the_row_rules_failing_rows_per_run(lake):
    logs, rows = lake
    got = rows("audit_failures")
    expected = sorted((r["rule"], r["failing_rows"]) for d in logs for r in _row_rules(d).values() if r["kind"] == "row")
    assert sorted((r["rule"], r["failing_rows"]) for r in got) == expected
    assert any(n > 0 for _, n in expected)


def test_audit_latest_is_the_newest_runs_verdict_per_rule(lake):
    logs, rows = lake
    newest = _row_rules(logs[-1])
    got = rows("audit_latest")
    assert {r["rule"] for r in got} == set(newest)
    for row in got:
        rule = newest[row["rule"]]
        assert (row["kind"], row["success"], row["failing_rows"]) == (rule["kind"], rule["success"], rule["failing_rows"])
