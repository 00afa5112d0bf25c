"""The market-wide panels read only the history they show (not every bar in the lake, as the
analysis views would), and the price panel works out the view's averages in the pass that
reads the volume: on two years of a pipeline-built lake they give exactly what the views give.
The lake-wide panels and the page's variables read each symbol's years (stocks.symbol_years)
instead of every bar: they give exactly what they gave reading every bar
(tests/fixtures/panels_from_every_bar/)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from glue_jobs.runtime import build_local
from workflows.dashboards.macros import TimeRange, expand
from workflows.dashboards.panels import load_spec, sql_root
from workflows.runner import run_stages
from workflows.settings import build_settings

AS_OF = "2024-11-27"
SELECTED = ["S03", "S11", "S24"]  # the price panel's symbols

# What the panels computed from the views before they read bounded history.
FROM_VIEWS = {
    "price_sma": """
        with moving_averages as (
            select symbol, trade_date, close, sma_20, sma_50, sma_200 from stocks.moving_averages
            where symbol in (${symbol:singlequote}) and $__dateFilter(trade_date)
        ),
        prices as (
            select symbol, trade_date, volume from stocks.daily_prices
            where symbol in (${symbol:singlequote}) and $__dateFilter(trade_date)
        )
        select ma.trade_date as trade_date, ma.symbol as symbol, ma.close as close, ma.sma_20 as sma_20,
            ma.sma_50 as sma_50, ma.sma_200 as sma_200, p.volume as volume
        from moving_averages as ma
        inner join prices as p on p.symbol = ma.symbol and p.trade_date = ma.trade_date
        order by trade_date, symbol""",
    "top_movers": """
        with returns as (
            select symbol, trade_date, daily_return from stocks.daily_returns
            where $__dateFilter(trade_date) and daily_return is not null
        ),
        as_of_day as (select max(trade_date) as trade_date from returns)
        select * from (
            select r.symbol as symbol, round(100 * r.daily_return, 2) as return_pct, r.trade_date as trade_date
            from returns as r inner join as_of_day as d on r.trade_date = d.trade_date
            order by abs(r.daily_return) desc limit 20
        ) order by return_pct desc""",
    "high_low_52w": """
        with high_low as (
            select symbol, trade_date, close, high_52w, low_52w from stocks.high_low_52w
            where $__dateFilter(trade_date)
        ),
        newest as (select symbol, max(trade_date) as trade_date from high_low group by symbol)
        select hl.symbol as symbol, hl.trade_date as trade_date, hl.close as close, hl.high_52w as high_52w,
            hl.low_52w as low_52w, round(100 * (hl.close / hl.high_52w - 1), 2) as pct_from_high,
            round(100 * (hl.close / hl.low_52w - 1), 2) as pct_from_low
        from high_low as hl inner join newest as n on n.symbol = hl.symbol and n.trade_date = hl.trade_date
        order by pct_from_high desc, symbol""",
}


FROM_EVERY_BAR = Path(__file__).parents[2] / "fixtures" / "panels_from_every_bar"
RANGES = [("2023-11-28", AS_OF), ("2024-06-03", AS_OF), ("2023-01-04", AS_OF),
          # from the lake's first bar: the averages' first sessions
          ("2022-09-01", "2023-03-31"),
          # ranges that end before the lake's newest bars, in the middle of a year whose later
          # bars the panel must not see
          ("2023-01-04", "2024-06-28"), ("2023-11-28", "2024-03-15"),
          # ranges that end on a year's last session, and on a day before its next year's first
          ("2022-09-01", "2022-12-30"), ("2023-06-01", "2024-01-01")]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    lake = tmp_path_factory.mktemp("history") / "lake"
    symbols = ",".join(f"S{i:02d}" for i in range(25))
    settings = build_settings(lake=str(lake), date=AS_OF, start="2022-09-01", symbols=symbols, env={})
    run_stages(settings, say=lambda _line: None)
    return build_local(lake)[2]


@pytest.mark.parametrize("panel_id", sorted(FROM_VIEWS))
@pytest.mark.parametrize("first, last", RANGES)
def test_a_market_panel_gives_what_the_views_give(engine, panel_id, first, last):
    time_range = TimeRange.for_dates(dt.date.fromisoformat(first), dt.date.fromisoformat(last))
    panel = load_spec().panel(panel_id)
    variables = {"symbol": SELECTED}
    got = engine.query(expand(panel.sql, time_range, variables)).to_pylist()
    expected = engine.query(expand(FROM_VIEWS[panel_id], time_range, variables)).to_pylist()
    assert got == expected and len(got) >= 20


@pytest.mark.parametrize("name", ["freshness", "high_low_52w", "variables/symbols",
                                  "variables/time_bounds"])
@pytest.mark.parametrize("first, last", RANGES)
def test_a_lake_wide_query_gives_what_reading_every_bar_gave(engine, name, first, last):
    time_range = TimeRange.for_dates(dt.date.fromisoformat(first), dt.date.fromisoformat(last))
    sql = (sql_root() / "panels" / f"{name}.sql").read_text(encoding="utf-8")
    before = (FROM_EVERY_BAR / f"{name.rsplit('/', 1)[-1]}.sql").read_text(encoding="utf-8")
    assert "stocks.symbol_years" in sql
    got = engine.query(expand(sql, time_range, {})).to_pylist()
    expected = engine.query(expand(before, time_range, {})).to_pylist()
    assert got == expected and got
