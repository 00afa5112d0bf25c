"""The dashboards against a lake the pipeline itself built (synthetic source, offline): every
panel has data, the ledger has a row per run, and re-running the day alerts nobody twice."""
from __future__ import annotations

import json

import pytest

from glue_jobs.runtime import build_local
from workflows.dashboards import check_panels, render_dashboard
from workflows.runner import run_stages
from workflows.settings import build_settings


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    path = tmp_path_factory.mktemp("pipeline") / "lake"
    # thresholds low enough that the synthetic walk surely moves beyond them
    thresholds = path.parent / "alerts.yml"
    thresholds.write_text("daily_move:\n  percent: 0.1\n")
    settings = build_settings(lake=str(path), date="2026-11-20", symbols="AAPL,MSFT,IBM",
                              faults="bad_rows:MSFT", env={})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TICKERLAKE_ALERTS_FILE", str(thresholds))
        first = run_stages(settings, say=lambda _line: None)
        second = run_stages(settings, say=lambda _line: None)
    return path, first, second


def test_every_panel_has_data_on_a_lake_the_pipeline_built(lake):
    path, _, _ = lake
    _, _, engine, _ = build_local(path)
    assert check_panels(engine) == []
    page = render_dashboard(engine, path / "dashboard" / "index.html")
    assert page.stat().st_size > 10_000


def test_each_run_is_one_ledger_row_and_each_rule_one_audit_row(lake):
    path, first, second = lake
    _, _, engine, _ = build_local(path)
    runs = engine.query("select run_id, status, raw_rows, published_rows, quarantined_rows, reconciled "
                        "from stocks.pipeline_runs order by started_at").to_pylist()
    assert [r["run_id"] for r in runs] == [first.run_id, second.run_id]
    assert runs[0]["status"] == "succeeded" and runs[0]["reconciled"] is True
    assert runs[0]["raw_rows"] == first.totals["raw_rows"]
    assert runs[0]["quarantined_rows"] == first.totals["quarantined_rows"] > 0
    rules = engine.query("select count(*) as n, count(distinct rule) as rules from stocks.audit_results "
                         f"where run_id = '{first.run_id}'").to_pylist()[0]
    assert rules["n"] == rules["rules"] > 0


def test_rerunning_the_day_sent_no_alert_twice(lake):
    path, first, second = lake
    sent_first = first.stages["after_publish"]["hooks"]["glue_jobs.after.alerts.hook"]
    sent_second = second.stages["after_publish"]["hooks"]["glue_jobs.after.alerts.hook"]
    assert sent_first["alerts_sent"] > 0
    assert sent_second["alerts_sent"] == 0
    assert sent_second["alerts_already_sent"] == sent_first["alerts_raised"]
    lines = (path / "alerts" / "alerts.jsonl").read_text().splitlines()
    keys = [json.loads(line)["dedupe_key"] for line in lines]
    assert len(keys) == sent_first["alerts_sent"] == len(set(keys))
