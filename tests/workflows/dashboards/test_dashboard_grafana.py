from __future__ import annotations

import json
from pathlib import Path

import yaml

from workflows.dashboards.grafana import PLUGIN_ID, build_dashboard, dashboard_path, render_json
from workflows.dashboards.panels import load_spec

REPO = Path(__file__).resolve().parents[3]
PROVISIONING = REPO / "infra" / "grafana" / "provisioning"


def test_committed_dashboard_json_is_the_generated_one():
    committed = dashboard_path().read_text(encoding="utf-8")
    assert committed == render_json(), (
        "infra/grafana/dashboards/tickerlake.json is out of date with sql/panels: "
        "run .venv/bin/python -m workflows.dashboards.grafana --write"
    )


def test_every_panel_is_in_grafana_with_its_sql_and_the_athena_datasource():
    spec = load_spec()
    model = json.loads(dashboard_path().read_text(encoding="utf-8"))
    panels = [p for p in model["panels"] if p["type"] != "row" and p["datasource"]["type"] == PLUGIN_ID]
    assert len(panels) == len(spec.panels)
    by_sql = {p["targets"][0]["rawSQL"]: p for p in panels}
    for panel in spec.panels:
        grafana = by_sql[panel.sql.strip()]
        assert grafana["datasource"] == {"type": PLUGIN_ID, "uid": spec.datasource_uid}
        assert panel.id in grafana["description"]
        # time series frames for charts over time, tables for the rest
        assert grafana["targets"][0]["format"] == (0 if panel.type in ("timeseries", "heatmap") else 1)


def test_panels_never_overlap_on_the_grid():
    cells = set()
    for panel in build_dashboard(load_spec())["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, panel["title"]
                cells.add((x, y))


def test_symbol_variable_is_a_multi_select_fed_by_a_query():
    model = build_dashboard(load_spec())
    (variable,) = [v for v in model["templating"]["list"] if v["name"] == "symbol"]
    assert variable["type"] == "query" and variable["multi"] and variable["includeAll"]
    assert "from stocks.symbol_years" in variable["query"]["rawSQL"]
    repeated = [p for p in model["panels"] if p.get("repeat") == "symbol"]
    assert repeated and all("$symbol" in p["title"] for p in repeated)


def test_datasource_provisioning_reads_its_settings_from_the_environment():
    doc = yaml.safe_load((PROVISIONING / "datasources" / "athena.yaml").read_text())
    (ds,) = doc["datasources"]
    assert ds["type"] == PLUGIN_ID and ds["uid"] == load_spec().datasource_uid
    settings = ds["jsonData"]
    for key in ("defaultRegion", "catalog", "database", "workgroup"):
        assert settings[key].startswith("${TICKERLAKE_"), key
    assert "secureJsonData" not in ds


def test_dashboard_provider_points_at_a_folder_of_generated_files():
    doc = yaml.safe_load((PROVISIONING / "dashboards" / "provider.yaml").read_text())
    (provider,) = doc["providers"]
    assert provider["type"] == "file" and provider["allowUiUpdates"] is False
    assert provider["options"]["path"]


def test_long_rows_are_pivoted_for_bar_charts_split_by_a_series():
    spec = load_spec()
    model = build_dashboard(spec)
    by_sql = {p["targets"][0]["rawSQL"]: p for p in model["panels"] if p["type"] != "row" and p["datasource"]["type"] == PLUGIN_ID}
    for panel in spec.panels:
        grafana = by_sql[panel.sql.strip()]
        if panel.type == "bar" and panel.series:
            (step,) = grafana["transformations"]
            assert step["id"] == "groupingToMatrix"
            assert (step["options"]["rowField"], step["options"]["columnField"]) == (panel.x, panel.series)
        else:
            assert "transformations" not in grafana


def test_the_consumer_lag_panel_reads_cloudwatch_for_the_stack_s_stream_and_queue():
    """Athena cannot see the consumer's position: the lag panel reads the CloudWatch metric of
    each transport, for the resources the template names after the stack."""
    from cfnlint.decode import decode

    from workflows.dashboards import grafana_cloudwatch as cw

    model = build_dashboard(load_spec())
    rows = [p for p in model["panels"] if p["type"] == "row"]
    (lag,) = [p for p in model["panels"] if p["title"] == "Stream consumer lag"]
    intraday = next(r for r in rows if r["title"] == "Intraday")
    after = [r for r in rows if r["gridPos"]["y"] > intraday["gridPos"]["y"]]
    assert lag["gridPos"]["y"] > intraday["gridPos"]["y"]
    assert not after or lag["gridPos"]["y"] < min(r["gridPos"]["y"] for r in after)  # in the Intraday row
    targets = {(t["namespace"], t["metricName"]): t for t in lag["targets"]}
    assert set(targets) == {("AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds"),
                            ("AWS/SQS", "ApproximateAgeOfOldestMessage")}
    assert all(t["datasource"] == lag["datasource"] == cw.DATASOURCE and t["statistic"] == "Maximum"
               for t in lag["targets"])
    # the dimension names the resource as the template names it, ${AWS::StackName} as ${stack}
    parsed, errors = decode(str(REPO / "infra" / "template.yaml"))
    assert not errors
    resources = parsed["Resources"]
    names = {"StreamName": resources["QuoteStream"]["Properties"]["Name"]["Fn::Sub"],
             "QueueName": resources["QuoteQueue"]["Properties"]["QueueName"]["Fn::Sub"]}
    for t in lag["targets"]:
        ((dimension, values),) = t["dimensions"].items()
        assert values == [names[dimension].replace("${AWS::StackName}", "${stack}")]
    (stack,) = [v for v in model["templating"]["list"] if v["name"] == "stack"]
    assert stack["type"] == "textbox" and stack["query"] == "tickerlake"
    units = {o["matcher"]["options"]: o["properties"][0]["value"] for o in lag["fieldConfig"]["overrides"]}
    assert units == {targets[("AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds")]["refId"]: "ms",
                     targets[("AWS/SQS", "ApproximateAgeOfOldestMessage")]["refId"]: "s"}


def test_cloudwatch_provisioning_matches_the_panel_and_reads_the_region_from_the_environment():
    from workflows.dashboards import grafana_cloudwatch as cw

    doc = yaml.safe_load((PROVISIONING / "datasources" / "cloudwatch.yaml").read_text())
    (ds,) = doc["datasources"]
    assert {"type": ds["type"], "uid": ds["uid"]} == cw.DATASOURCE
    assert ds["jsonData"] == {"authType": "default", "defaultRegion": "${TICKERLAKE_AWS_REGION}"}
    assert "secureJsonData" not in ds and ds["isDefault"] is False
