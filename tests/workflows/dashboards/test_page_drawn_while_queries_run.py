"""The page draws each panel while the next panels' queries run in a worker thread, and the
heatmap works out a value's colour and text once: neither may change what the page shows."""
from __future__ import annotations

import datetime as dt
import re
import threading

from tests.support.dashboard_specs import spec_with_sql
from tests.support.demo_lake import build_demo_engine
from workflows.dashboards import charts, load_spec, render_dashboard
from workflows.dashboards.page import PageContext, render_page
from workflows.dashboards.render import resolve_selection, run_panel


def _without_clock(html: str) -> str:
    return re.sub(r"generated: <b>[^<]*</b>", "generated: <b>-</b>", html)


def test_the_page_is_the_one_drawn_from_each_panel_queried_in_turn(demo_engine, tmp_path):
    spec = load_spec()
    html = render_dashboard(demo_engine, tmp_path / "p.html", symbols=["AAPL", "IBM"]).read_text()
    selection = resolve_selection(demo_engine, spec, symbols=["AAPL", "IBM"])
    in_turn = [run_panel(demo_engine, panel, selection) for panel in spec.panels]
    ctx = PageContext(time_from=f"{selection.time_range.start:%Y-%m-%d}",
                      time_to=f"{selection.time_range.end:%Y-%m-%d}", variables=selection.variables,
                      generated_at="-", source="local lake")
    assert _without_clock(html) == _without_clock(render_page(spec, in_turn, ctx))
    # and every panel is there, in panels.yml's order
    assert re.findall(r'<section class="panel" data-panel-id="(\w+)"', html) == [p.id for p in spec.panels]


def test_a_failing_query_among_others_answered_in_a_worker_stays_with_its_panel(tmp_path):
    engine = build_demo_engine(tmp_path / "lake")
    spec = spec_with_sql(load_spec(), "price_sma", "select * from stocks.moving_averages_dropped")
    html = render_dashboard(engine, tmp_path / "p.html", as_of=dt.date(2026, 11, 20), spec=spec).read_text()
    panels = dict(re.findall(r'data-panel-id="(\w+)"(.*?)</section>', html, re.S))
    assert 'class="error"' in panels["price_sma"] and "price_sma.sql" in panels["price_sma"]
    errors = [pid for pid, body in panels.items() if 'class="error"' in body]
    assert errors == ["price_sma"]
    assert "<svg" in panels["volatility_20d"] and "<svg" in panels["return_heatmap"]


def test_heatmap_cells_sharing_a_value_each_name_their_own_symbol_and_date():
    rows = [{"d": dt.date(2024, 1, 2), "s": "AAA", "v": 1.5}, {"d": dt.date(2024, 1, 2), "s": "BBB", "v": 1.5},
            {"d": dt.date(2024, 1, 3), "s": "AAA", "v": 0.0}, {"d": dt.date(2024, 1, 3), "s": "BBB", "v": -0.0},
            {"d": dt.date(2024, 1, 4), "s": "AAA", "v": -2.0}]
    svg, _ = charts.heatmap_svg(rows, x="d", value="v", series="s", unit="percent")
    cells = re.findall(r'fill="(#[0-9a-f]{6})"><title>([^<]*)</title>', svg)
    tips = {tip: fill for fill, tip in cells}
    assert tips["AAA 2024-01-02: 1.50%"] == tips["BBB 2024-01-02: 1.50%"]
    # a zero keeps its sign as the query gave it, one cell does not take another's text
    assert "AAA 2024-01-03: 0.00%" in tips and "BBB 2024-01-03: -0.00%" in tips
    assert tips["AAA 2024-01-04: -2.00%"] != tips["AAA 2024-01-02: 1.50%"]
    assert tips["BBB 2024-01-04: —"] == charts.NEUTRAL  # no bar that day: the neutral cell


def test_two_panel_queries_are_answered_at_once_on_engines_of_their_own(tmp_path, monkeypatch):
    """The local engine answers one query at a time; the page asks a sibling engine for the
    next panel while the first is busy. Two queries must meet inside their engines (a
    barrier of two), which cannot happen when they queue for one engine."""
    from glue_jobs.adapters.local.duckdb_engine import DuckDBEngine

    engine = build_demo_engine(tmp_path / "lake")
    meet = threading.Barrier(2, timeout=20)
    answered_by: list[int] = []
    lock = threading.Lock()
    original = DuckDBEngine.query

    def query(self, sql):
        with lock:
            first_two = "sql/panels/" in sql and len(answered_by) < 2
            if first_two:
                answered_by.append(id(self))
        if first_two:
            meet.wait()  # the second query must arrive while the first waits inside its engine
        return original(self, sql)

    monkeypatch.setattr(DuckDBEngine, "query", query)
    html = render_dashboard(engine, tmp_path / "p.html", symbols=["AAPL", "IBM"]).read_text()
    assert not meet.broken and len(set(answered_by)) == 2  # two engines, at the same time
    assert 'class="error"' not in html
    monkeypatch.setattr(DuckDBEngine, "query", original)
    one_at_a_time = render_dashboard(engine, tmp_path / "q.html", symbols=["AAPL", "IBM"]).read_text()
    assert _without_clock(html) == _without_clock(one_at_a_time)


def test_a_panel_is_drawn_when_its_query_answers_not_after_the_slower_ones_before_it(tmp_path, monkeypatch):
    """The page's first panel's query is held until the heatmap, further down the page, has been
    drawn: drawn in page order, the heatmap would wait for it instead (the 52-week panel's query,
    the page's longest, held back every panel after it). The page is the same either way."""
    from glue_jobs.adapters.local.duckdb_engine import DuckDBEngine
    from workflows.dashboards import render

    engine = build_demo_engine(tmp_path / "lake")
    heatmap_drawn = threading.Event()
    drawn: list[str] = []
    original_query, original_html = DuckDBEngine.query, render.panel_html

    def query(self, sql):
        if "sql/panels/price_sma.sql" in sql:
            heatmap_drawn.wait(timeout=10)
        return original_query(self, sql)

    def panel_html(data, ctx):
        html = original_html(data, ctx)
        drawn.append(data.panel.id)
        if data.panel.id == "return_heatmap":
            heatmap_drawn.set()
        return html

    monkeypatch.setattr(DuckDBEngine, "query", query)
    monkeypatch.setattr(render, "panel_html", panel_html)
    html = render_dashboard(engine, tmp_path / "p.html", symbols=["AAPL", "IBM"]).read_text()
    assert drawn.index("return_heatmap") < drawn.index("price_sma")
    assert sorted(drawn) == sorted(p.id for p in load_spec().panels)
    monkeypatch.setattr(DuckDBEngine, "query", original_query)
    in_page_order = render_dashboard(engine, tmp_path / "q.html", symbols=["AAPL", "IBM"]).read_text()
    assert _without_clock(html) == _without_clock(in_page_order)
    assert re.findall(r'<section class="panel" data-panel-id="(\w+)"', html) == [p.id for p in load_spec().panels]
