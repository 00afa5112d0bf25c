"""The market panels' values on a lake whose answer is known, built by the pipeline itself and
read through the production engine and the real view files (sql/views/): AAA's close grows 1 %
a session, BBB's alternates +2 % and -2 %, so every return, average, volatility and extreme is
worked out by hand below. A panel that reads a wrong column or window fails here."""
from __future__ import annotations

import datetime as dt
import math

import pytest

from glue_jobs.lake import trading_calendar
from glue_jobs.runtime import local_context
from tests.support.wap_fixtures import csv_body, land
from workflows.dashboards.panels import load_spec
from workflows.dashboards.render import resolve_selection, run_panel
from workflows.runner import run_wap

AS_OF = dt.date(2024, 3, 8)
SESSIONS = trading_calendar.last_sessions(AS_OF, 25)


def _closes(symbol: str) -> list[float]:
    closes, close = [], 100.0
    for i in range(len(SESSIONS)):
        if i:
            close *= 1.01 if symbol == "AAA" else (1.02 if i % 2 else 0.98)
        closes.append(close)
    return closes


CLOSES = {s: _closes(s) for s in ("AAA", "BBB")}
VOLUME = {s: [1000 * (i + 1) + (7 if s == "BBB" else 0) for i in range(len(SESSIONS))] for s in CLOSES}


@pytest.fixture(scope="module")
def panels(tmp_path_factory):
    root = tmp_path_factory.mktemp("known") / "lake"
    ctx = local_context(root, run_id="20240308T230000Z-known1", as_of=AS_OF)
    bodies = {}
    for symbol, closes in CLOSES.items():
        rows = [(day.isoformat(), f"{c:.6f}", f"{c + 1:.6f}", f"{c - 1:.6f}", f"{c:.6f}", VOLUME[symbol][i])
                for i, (day, c) in enumerate(zip(SESSIONS, closes))]
        bodies[symbol] = csv_body(rows[::-1])
    land(ctx.storage, run_id="20240308T220000Z-ing001", ingest_date=AS_OF.isoformat(), bodies=bodies)
    run_wap(ctx)
    engine = local_context(root, run_id="20240309T000000Z-reader").engine
    spec = load_spec()
    selection = resolve_selection(engine, spec, symbols=["AAA", "BBB"], as_of=AS_OF)

    def rows(panel_id: str) -> list[dict]:
        data = run_panel(engine, spec.panel(panel_id), selection)
        assert data.error is None, data.error
        return data.rows

    return rows


def _pct(value: float) -> float:
    return round(100 * value, 2)


def test_return_heatmap_is_each_sessions_return_in_percent(panels):
    rows = panels("return_heatmap")
    expected = [(SESSIONS[i], s, _pct(CLOSES[s][i] / CLOSES[s][i - 1] - 1))
                for i in range(1, len(SESSIONS)) for s in ("AAA", "BBB")]
    assert [(r["trade_date"], r["symbol"], r["return_pct"]) for r in rows] == expected
    assert {r["return_pct"] for r in rows if r["symbol"] == "AAA"} == {1.0}
    assert {r["return_pct"] for r in rows if r["symbol"] == "BBB"} == {2.0, -2.0}


def test_price_panel_shows_close_volume_and_the_20_session_average_once_it_has_20(panels):
    rows = panels("price_sma")
    assert len(rows) == 2 * len(SESSIONS)
    for r in rows:
        i = SESSIONS.index(r["trade_date"])
        assert r["close"] == pytest.approx(CLOSES[r["symbol"]][i], rel=1e-6)
        assert r["volume"] == VOLUME[r["symbol"]][i]
        expected_sma = sum(CLOSES[r["symbol"]][i - 19:i + 1]) / 20 if i >= 19 else None
        assert r["sma_20"] == (pytest.approx(expected_sma, rel=1e-6) if expected_sma else None)
        assert r["sma_50"] is None and r["sma_200"] is None


def test_volatility_is_the_annualised_20_session_deviation_in_percent(panels):
    rows = {(r["symbol"], r["trade_date"]): r["volatility_pct"] for r in panels("volatility_20d")}
    # 20 returns need 21 closes: the first value is on the 21st session
    assert min(d for _, d in rows) == SESSIONS[20]
    assert rows[("AAA", AS_OF)] == pytest.approx(0.0, abs=0.01)
    returns = [CLOSES["BBB"][i] / CLOSES["BBB"][i - 1] - 1 for i in range(len(SESSIONS) - 20, len(SESSIONS))]
    mean = sum(returns) / 20
    expected = math.sqrt(sum((r - mean) ** 2 for r in returns) / 19) * math.sqrt(252)
    assert rows[("BBB", AS_OF)] == pytest.approx(_pct(expected), abs=0.011)


def test_top_movers_rank_the_last_sessions_returns(panels):
    rows = panels("top_movers")
    last = len(SESSIONS) - 1
    bbb = _pct(CLOSES["BBB"][last] / CLOSES["BBB"][last - 1] - 1)
    by_symbol = {r["symbol"]: r["return_pct"] for r in rows}
    assert by_symbol == {"AAA": 1.0, "BBB": bbb}
    assert all(r["trade_date"] == AS_OF for r in rows)


def test_52_week_high_and_low_come_from_highs_and_lows(panels):
    rows = {r["symbol"]: r for r in panels("high_low_52w")}
    assert set(rows) == {"AAA", "BBB"}
    for symbol, closes in CLOSES.items():
        assert rows[symbol]["high_52w"] == pytest.approx(max(closes) + 1, rel=1e-6)
        assert rows[symbol]["low_52w"] == pytest.approx(min(closes) - 1, rel=1e-6)
        assert rows[symbol]["close"] == pytest.approx(closes[-1], rel=1e-6)


def test_freshness_says_both_symbols_are_fresh_with_every_bar(panels):
    rows = panels("freshness")
    assert [(r["symbol"], r["newest_trade_date"], r["days_behind"], r["status"], r["bars"]) for r in rows] == [
        ("AAA", AS_OF, 0, "fresh", len(SESSIONS)), ("BBB", AS_OF, 0, "fresh", len(SESSIONS))]
