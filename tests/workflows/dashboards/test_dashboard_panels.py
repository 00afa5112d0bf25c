from __future__ import annotations

import pytest
import sqlglot
import yaml

from glue_jobs.lake.errors import ConfigError
from workflows.dashboards import constants
from workflows.dashboards.macros import TimeRange, expand
from workflows.dashboards.panels import PANEL_TYPES, load_spec, parse_spec, sql_root

REQUIRED_PANELS = {
    "price_sma", "top_movers", "return_heatmap", "volatility_20d", "high_low_52w", "freshness",
    "run_durations", "recent_runs", "audit_failures", "audit_latest", "quarantined_rows", "quota_use",
}


def test_the_issue_asks_for_these_panels_and_all_are_defined():
    spec = load_spec()
    assert REQUIRED_PANELS <= {p.id for p in spec.panels}
    assert {p.type for p in spec.panels} == set(PANEL_TYPES)


def test_price_panel_follows_the_symbol_selection_and_time_picker():
    panel = load_spec().panel("price_sma")
    assert panel.repeat == "symbol"
    assert set(panel.y) == {"close", "sma_20", "sma_50", "sma_200"} and panel.y2 == ("volume",)
    assert "${symbol:singlequote}" in panel.sql and "$__dateFilter(trade_date)" in panel.sql


def test_every_panel_query_is_valid_athena_sql_once_macros_are_expanded():
    spec = load_spec()
    time_range = TimeRange.for_dates(__import__("datetime").date(2026, 1, 2), __import__("datetime").date(2026, 3, 4))
    for panel in spec.panels:
        sql = expand(panel.sql, time_range, {"symbol": ["AAPL", "MSFT"], **constants.values(env={})})
        assert "$" not in sql, panel.id
        parsed = sqlglot.parse_one(sql, read="trino")
        assert parsed is not None, panel.id


def _doc():
    return yaml.safe_load((sql_root() / "panels" / "panels.yml").read_text())


def _reader(name, where):
    return "select 1"


@pytest.mark.parametrize("change, message", [
    (lambda d: d["panels"][0].update(type="pie"), r"panel price_sma: type 'pie' is not one of"),
    (lambda d: d["panels"][0].update(unit="furlongs"), r"panel price_sma: unit 'furlongs'"),
    (lambda d: d["panels"][0].update(repeat="sector"), r"panel price_sma: repeat 'sector' is not a variable"),
    (lambda d: d["panels"][1].update(id="price_sma"), r"panel price_sma: id is used twice"),
    (lambda d: d["panels"][0].pop("x"), r"panel price_sma: a timeseries panel needs x and y"),
    (lambda d: d["panels"][0].update(width=30), r"panel price_sma: width must be 1..24"),
    (lambda d: d["panels"][0].update(value_colors={"up": "pink"}), r"value_colors uses pink"),
    (lambda d: d.update(panels=[]), r"no panels defined"),
])
def test_mistakes_in_the_definitions_name_the_panel(change, message):
    doc = _doc()
    change(doc)
    with pytest.raises(ConfigError, match=message):
        parse_spec(doc, _reader)


def test_a_missing_sql_file_is_named(tmp_path):
    (tmp_path / "panels").mkdir()
    (tmp_path / "panels" / "panels.yml").write_text(yaml.safe_dump(
        {"panels": [{"id": "p", "title": "P", "type": "table", "sql": "nope.sql"}]}))
    from workflows.dashboards.panels import load_spec as load

    with pytest.raises(ConfigError, match=r"panel p: sql file .*nope.sql does not exist"):
        load(tmp_path)
