from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa

from tests.support.dashboard_specs import spec_with_sql
from tests.support.demo_lake import AS_OF, SYMBOLS, build_demo_engine, ledger_tables, price_rows, run_log_docs
from workflows.dashboards import check_panels, load_spec, render_dashboard
from workflows.dashboards.render import resolve_selection, run_panel


def test_every_panel_query_returns_rows_on_the_demo_lake(demo_engine):
    assert check_panels(demo_engine) == []


def test_default_selection_is_the_whole_lake_and_the_first_symbols(demo_engine):
    spec = load_spec()
    sel = resolve_selection(demo_engine, spec, today=AS_OF)
    first = demo_engine.query("select min(trade_date) from stocks.daily_prices").column(0)[0].as_py()
    assert sel.time_range.start.date() == first and sel.time_range.end.date() == AS_OF
    assert sel.variables["symbol"] == sorted(SYMBOLS)[: spec.variables[0].local_default_count]


def test_panels_follow_the_symbol_selection_and_the_time_range(demo_engine):
    spec = load_spec()
    sel = resolve_selection(demo_engine, spec, symbols=["msft"], sessions=30, today=AS_OF)
    data = run_panel(demo_engine, spec.panel("price_sma"), sel)
    assert {r["symbol"] for r in data.rows} == {"MSFT"}
    assert len(data.rows) == 30 and max(r["trade_date"] for r in data.rows) == AS_OF


def test_a_missing_table_and_an_empty_panel_are_reported_by_panel_name(tmp_path):
    engine = build_demo_engine(tmp_path / "lake", with_runs=False)
    problems = check_panels(engine)
    named = {p.panel_id for p in problems}
    assert {"recent_runs", "run_durations", "quota_use", "audit_latest", "freshness"} <= named
    assert "price_sma" not in named
    text = [str(p) for p in problems if p.panel_id == "recent_runs"][0]
    assert "recent_runs.sql" in text and "query failed" in text and "pipeline_runs" in text

    engine.register("pipeline_runs", ledger_tables(run_log_docs())[0].slice(0, 0))
    problems = {p.panel_id: str(p) for p in check_panels(engine)}
    assert "returned no rows" in problems["recent_runs"] and "recent_runs.sql" in problems["recent_runs"]


def test_an_empty_lake_is_one_clear_problem(tmp_path):
    engine = build_demo_engine(tmp_path / "lake", with_runs=False)
    engine.register("daily_prices", pa.Table.from_pylist(price_rows()).slice(0, 0))
    (problem,) = check_panels(engine)
    assert "run `tickerlake run` first" in str(problem)


def test_page_has_every_panel_with_a_chart_or_table_and_nothing_external(demo_engine, tmp_path):
    out = render_dashboard(demo_engine, tmp_path / "dash" / "index.html", symbols=["AAPL", "IBM"])
    html = out.read_text(encoding="utf-8")
    for panel in load_spec().panels:
        match = re.search(rf'<section class="panel" data-panel-id="{panel.id}".*?</section>', html, re.S)
        assert match, panel.id
        body = match.group(0)
        assert panel.title.split(",")[0] in body
        assert "<svg" in body or "<table" in body or 'class="stat"' in body, panel.id
        assert 'class="error"' not in body and 'class="empty"' not in body, panel.id
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r'(src|href)="https?:', html)
    # the repeated price panel draws one chart per selected symbol
    price = re.search(r'data-panel-id="price_sma".*?</section>', html, re.S).group(0)
    assert price.count("<svg") == 2 and "<h4>AAPL</h4>" in price and "<h4>IBM</h4>" in price


def test_a_failing_panel_shows_its_error_and_the_rest_still_render(tmp_path):
    engine = build_demo_engine(tmp_path / "lake")
    # the view missing from the lake: on whichever engine the page asks
    spec = spec_with_sql(load_spec(), "volatility_20d", "select * from stocks.volatility_20d_dropped")
    html = render_dashboard(engine, tmp_path / "p.html", as_of=dt.date(2026, 11, 20), spec=spec).read_text()
    broken = re.search(r'data-panel-id="volatility_20d".*?</section>', html, re.S).group(0)
    assert 'class="error"' in broken and "volatility_20d.sql" in broken
    assert re.search(r'data-panel-id="price_sma".*?<svg', html, re.S)


def test_numbers_on_the_page_come_from_the_lake(demo_engine, tmp_path):
    html = render_dashboard(demo_engine, tmp_path / "p.html").read_text()
    newest = demo_engine.query(
        "select sum(published_rows) as n from stocks.pipeline_runs where started_at = "
        "(select max(started_at) from stocks.pipeline_runs)").column(0)[0].as_py()
    stat = re.search(r'data-panel-id="last_run".*?</section>', html, re.S).group(0)
    assert f">{newest}<" in stat
    assert isinstance(demo_engine.query("select 1 as x"), pa.Table)
