"""The intraday panel: the newest session's quotes per symbol with anomalies marked, on the
local page and in Grafana; a lake whose history is still empty shows "no data" and is not a
`--check` problem, while a lake without the table at all still is."""
from __future__ import annotations

import json
import re

import pyarrow as pa
import yaml

from glue_jobs.after.alerts.config import AlertConfig
from glue_jobs.intraday.history import ensure_table
from glue_jobs.runtime import open_runtime
from tests.support.demo_lake import AS_OF, build_demo_engine, intraday_rows
from workflows.dashboards import check_panels, load_spec, render_dashboard
from workflows.dashboards.grafana import build_dashboard, dashboard_path
from workflows.dashboards.panels import sql_root
from workflows.dashboards.render import resolve_selection, run_panel


def _rows(engine, symbols=None):
    spec = load_spec()
    selection = resolve_selection(engine, spec, symbols=symbols, today=AS_OF)
    data = run_panel(engine, spec.panel("intraday_quotes"), selection)
    assert data.error is None, data.error
    return data.rows


def test_quotes_of_the_newest_session_with_only_the_moves_beyond_5_percent_marked(tmp_path):
    engine = build_demo_engine(tmp_path / "demo")
    rows = _rows(engine, symbols=["AAPL", "IBM"])
    assert {r["symbol"] for r in rows} == {"AAPL", "IBM"} and len(rows) == 60
    marked = [r for r in rows if r["anomaly"] is not None]
    # AAPL rises 0.3 % a minute: 5.1 % from its 17th quote on; IBM never passes 5 %
    assert {r["symbol"] for r in marked} == {"AAPL"} and len(marked) == 30 - 16
    assert all(r["anomaly"] == r["price"] for r in marked)


def test_an_older_session_in_the_range_is_not_drawn(tmp_path):
    engine = build_demo_engine(tmp_path / "demo")
    older = [dict(r, latest_trading_day="2026-11-19", dt="2026-11-19", event_time_ms=r["event_time_ms"] - 86_400_000)
             for r in intraday_rows()]
    engine.register("intraday_quotes", pa.Table.from_pylist(intraday_rows() + older))
    rows = _rows(engine, symbols=["IBM"])
    assert len(rows) == 30 and {r["quote_time"].date() for r in rows} == {AS_OF}


def test_a_changed_alerts_threshold_moves_the_marked_anomalies(tmp_path, monkeypatch):
    engine = build_demo_engine(tmp_path / "demo")
    alerts = tmp_path / "alerts.yml"
    alerts.write_text("daily_move: {percent: 8}\n")
    monkeypatch.setenv("TICKERLAKE_ALERTS_FILE", str(alerts))
    marked = [r for r in _rows(engine, symbols=["AAPL", "IBM"]) if r["anomaly"] is not None]
    # AAPL is 0.3 % a minute up: beyond 8 % from its 27th quote on (8.1 %)
    assert {r["symbol"] for r in marked} == {"AAPL"} and len(marked) == 30 - 26
    alerts.write_text("daily_move: {percent: 0.25}\n")
    marked = [r for r in _rows(engine, symbols=["AAPL"]) if r["anomaly"] is not None]
    assert len(marked) == 30  # 0.3 % from the first quote on


def test_the_grafana_dashboard_marks_with_the_shipped_alerts_threshold():
    board = build_dashboard(load_spec())
    (constant,) = [v for v in board["templating"]["list"] if v["name"] == "anomaly_percent"]
    shipped = yaml.safe_load((sql_root() / "alerts" / "alerts.yml").read_text()) or {}
    default = (shipped.get("daily_move") or {}).get("percent", AlertConfig().daily_move_percent)
    assert constant["type"] == "constant" and float(constant["query"]) == float(default)
    panel = next(p for p in board["panels"] if p.get("title") == "Quotes of the session")
    assert "> ${anomaly_percent:raw} then" in panel["targets"][0]["rawSQL"]


def test_the_committed_grafana_dashboard_carries_the_threshold():
    committed = json.loads(dashboard_path().read_text())
    assert committed["templating"] == build_dashboard(load_spec())["templating"]


def test_anomalies_are_red_points_in_grafana():
    board = build_dashboard(load_spec())
    panel = next(p for p in board["panels"] if p.get("title") == "Quotes of the session")
    (override,) = [o for o in panel["fieldConfig"]["overrides"] if o["matcher"]["options"] == "^anomaly.*"]
    props = {p["id"]: p["value"] for p in override["properties"]}
    assert props["custom.drawStyle"] == "points" and props["custom.showPoints"] == "always"


def test_the_local_page_draws_anomalies_as_marks_not_a_line(tmp_path):
    engine = build_demo_engine(tmp_path / "demo")
    html = render_dashboard(engine, tmp_path / "index.html", symbols=["AAPL"], as_of=AS_OF).read_text()
    body = re.search(r'<section class="panel" data-panel-id="intraday_quotes".*?</section>', html, re.S).group(0)
    assert len(re.findall(r"<circle[^>]*><title>AAPL anomaly</title>", body)) == 30 - 16
    assert len(re.findall(r"<polyline[^>]*><title>AAPL price</title>", body)) == 1


def test_an_empty_history_is_no_data_not_a_problem_but_a_missing_table_is(tmp_path):
    lake = tmp_path / "lake"
    runtime = open_runtime(str(lake), create=True)
    engine = build_demo_engine(tmp_path / "demo")
    engine.catalog.drop_table("stocks", "intraday_quotes")
    problems = {p.panel_id: str(p) for p in check_panels(engine)}
    assert "query failed" in problems["intraday_quotes"]

    ensure_table(runtime.catalog)
    ensure_table(runtime.catalog)  # twice: still one table, no error
    assert runtime.engine.query("select count(*) as n from stocks.intraday_quotes").to_pylist() == [{"n": 0}]
    engine.register("intraday_quotes", pa.Table.from_pylist(intraday_rows()).slice(0, 0))
    assert "intraday_quotes" not in {p.panel_id for p in check_panels(engine)}
