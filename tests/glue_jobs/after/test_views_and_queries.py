"""The analysis views (sql/views/) and example queries (sql/queries/) on the local engine,
against expected rows computed here, independently, from small hand-made prices."""
import datetime as dt
import math
import statistics

import pyarrow as pa
import pytest

from glue_jobs.after import stage as after_publish
from glue_jobs.lake import layout, parquet, sql_files, tables, trading_calendar
from glue_jobs.ports.catalog import Partition
from glue_jobs.runtime import build_local

LAST = dt.date(2024, 3, 8)


def _series():
    """symbol -> [(date, open, high, low, close, volume)], oldest first."""
    out = {}
    days = trading_calendar.last_sessions(LAST, 260)
    # A: long enough for every window; highs and lows unique so the 52-week dates are unambiguous
    out["A"] = [(d, 100 + i, 110 + 10 * math.sin(i / 9) + i * 1e-4, 98 - (i % 11) * 0.3 - i * 0.001,
                 100 + i * 0.5 + (i % 5) - 2, 1000 + i) for i, d in enumerate(days)]
    out["B"] = [(d, 50.0, 55.0 + i * 0.001, 45.0 - i * 0.001, 50 + ((-1) ** i) * (i % 4), 10) for i, d in enumerate(days[-40:])]
    for n, symbol in enumerate("CDEFGHIJKLMN"):  # two sessions each: one return on the last day
        out[symbol] = [(days[-2], 10.0, 11.0, 9.0, 10.0, 5), (days[-1], 10.0, 11.0, 9.0, 10.0 + (n - 5) * 0.13, 5)]
    return out


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    storage, catalog, engine, _ = build_local(tmp_path_factory.mktemp("views") / "lake")
    catalog.create_table(tables.daily_prices())
    rows = [(s, *r) for s, series in _series().items() for r in series]
    partitions = []
    for year in sorted({r[1].year for r in rows}):
        part = [r for r in rows if r[1].year == year]
        location = layout.partition_version_prefix("daily_prices", {"trade_year": str(year)}, "v1")
        table = pa.table({
            "symbol": [r[0] for r in part],
            "trade_date": pa.array([r[1] for r in part], pa.date32()),
            "open": [float(r[2]) for r in part],
            "high": [float(r[3]) for r in part],
            "low": [float(r[4]) for r in part],
            "close": [float(r[5]) for r in part],
            "volume": pa.array([r[6] for r in part], pa.int64()),
            "fetched_at": pa.array([dt.datetime(2024, 3, 9)] * len(part), pa.timestamp("us")),
            "ingest_run_id": ["i1"] * len(part),
        })
        parquet.write_table(storage, location + "part-00000.parquet", table)
        partitions.append(Partition({"trade_year": str(year)}, location))
    catalog.switch_partitions("stocks", "daily_prices", partitions)
    return engine


def _returns(series):
    out = []
    for i, r in enumerate(series):
        prev = series[i - 1][4] if i else None
        out.append((r[0], r[4], prev, None if prev is None else r[4] / prev - 1))
    return out


def _approx(rows):
    return [{k: pytest.approx(v, rel=1e-9) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def test_daily_returns(engine):
    got = engine.query("select * from stocks.daily_returns order by symbol, trade_date").to_pylist()
    expected = [
        {"symbol": s, "trade_date": d, "close": c, "prev_close": p, "daily_return": ret}
        for s, series in sorted(_series().items()) for d, c, p, ret in _returns(series)
    ]
    assert got == _approx(expected)


def test_moving_averages_are_null_until_the_window_is_full(engine):
    got = engine.query("select * from stocks.moving_averages where symbol in ('A', 'B') "
                       "order by symbol, trade_date").to_pylist()
    expected = []
    for s in ("A", "B"):
        closes = [r[4] for r in _series()[s]]
        for i, r in enumerate(_series()[s]):
            sma = {n: statistics.fmean(closes[i - n + 1:i + 1]) if i + 1 >= n else None for n in (20, 50, 200)}
            expected.append({"symbol": s, "trade_date": r[0], "close": r[4],
                             "sma_20": sma[20], "sma_50": sma[50], "sma_200": sma[200]})
    assert got == _approx(expected)
    assert sum(r["sma_200"] is not None for r in got) == 260 - 199


def test_volatility_20d_is_the_sample_stdev_of_20_returns_annualised(engine):
    got = engine.query("select * from stocks.volatility_20d where symbol = 'B' order by trade_date").to_pylist()
    rets = [ret for _, _, _, ret in _returns(_series()["B"])]
    expected = []
    for i, r in enumerate(_series()["B"]):
        window = rets[max(0, i - 19):i + 1]
        full = len(window) == 20 and None not in window
        stdev = statistics.stdev(window) if full else None
        expected.append({"symbol": "B", "trade_date": r[0], "daily_return": rets[i], "daily_stdev_20d": stdev,
                         "volatility_20d": None if stdev is None else stdev * math.sqrt(252)})
    assert got == _approx(expected)
    assert got[20]["volatility_20d"] is not None and got[19]["volatility_20d"] is None


def test_high_low_52w_over_the_last_252_sessions(engine):
    got = engine.query("select * from stocks.high_low_52w where symbol = 'A' order by trade_date").to_pylist()
    series = _series()["A"]
    expected = []
    for i, r in enumerate(series):
        window = series[max(0, i - 251):i + 1]
        top = max(window, key=lambda w: w[2])
        bottom = min(window, key=lambda w: w[3])
        expected.append({"symbol": "A", "trade_date": r[0], "close": r[4], "high_52w": top[2],
                         "high_52w_date": top[0], "low_52w": bottom[3], "low_52w_date": bottom[0],
                         "is_latest": i == len(series) - 1})
    assert got == _approx(expected)


def test_query_top_movers_of_the_as_of_day(engine):
    got = engine.query(sql_files.render("queries/top_movers.sql")).to_pylist()
    moves = []
    for s, series in _series().items():
        d, c, p, ret = _returns(series)[-1]
        moves.append({"symbol": s, "trade_date": d, "prev_close": p, "close": c, "return_pct": round(100 * ret, 2)})
    moves.sort(key=lambda m: (-abs(m["return_pct"]), m["symbol"]))
    assert got == _approx(moves[:10])
    assert all(m["trade_date"] == LAST for m in got)


def test_query_symbols_by_volatility(engine):
    got = engine.query(sql_files.render("queries/symbols_by_volatility.sql")).to_pylist()
    expected = []
    for s in ("A", "B"):  # the others have no 20 returns yet
        rets = [ret for _, _, _, ret in _returns(_series()[s])][-20:]
        expected.append({"symbol": s, "trade_date": LAST,
                         "volatility_pct": round(100 * statistics.stdev(rets) * math.sqrt(252), 2)})
    expected.sort(key=lambda e: -e["volatility_pct"])
    assert got == _approx(expected)


def test_query_a_symbols_last_30_days_with_smas(engine):
    got = engine.query(sql_files.render("queries/symbol_last_30_days.sql", {"symbol": "A"})).to_pylist()
    series = _series()["A"]
    closes = [r[4] for r in series]
    expected = []
    for i in range(len(series) - 1, len(series) - 31, -1):
        d, o, h, lo, c, v = series[i]
        expected.append({"trade_date": d, "open": o, "high": h, "low": lo, "close": c, "volume": v,
                         "sma_20": statistics.fmean(closes[i - 19:i + 1]), "sma_50": statistics.fmean(closes[i - 49:i + 1]),
                         "sma_200": statistics.fmean(closes[i - 199:i + 1])})
    assert got == _approx(expected)


def test_after_publish_statements_create_every_view_in_dependency_order(engine):
    names = [name for name, _ in after_publish.view_statements()]
    assert set(names) == {"daily_returns", "moving_averages", "volatility_20d", "high_low_52w", "intraday_quotes_unique"}
    assert names.index("daily_returns") < names.index("volatility_20d")
    for name, statement in after_publish.view_statements():
        if name == "intraday_quotes_unique":
            continue  # no stocks.intraday_quotes here: tests/glue_jobs/intraday/test_history_query.py
        engine.execute(statement)
        assert engine.query(f"select count(*) as n from stocks.{name}").to_pylist()[0]["n"] > 0


def test_after_publish_creates_a_view_once_the_tables_it_reads_exist(tmp_path, monkeypatch):
    """Athena rejects a view on a missing table: on a lake without stocks.intraday_quotes the
    stage creates the other views and names the one that waits; once the table is there, it too."""
    from glue_jobs.intraday.history import ensure_table
    from glue_jobs.lake.context import RunContext

    storage, catalog, engine, _ = build_local(tmp_path / "lake")
    catalog.create_table(tables.daily_prices())
    ctx = RunContext(run_id="r1", as_of=LAST, storage=storage, catalog=catalog, engine=engine, notifier=None)
    monkeypatch.setattr(after_publish, "HOOKS", ())  # the alerts and the ledger: not this test's
    out = after_publish.run(ctx)
    assert out["views_waiting_for_tables"] == ["stocks.intraday_quotes_unique"]
    assert "stocks.daily_returns" in out["views"] and out["views_refreshed"] == 4
    ensure_table(catalog)
    out = after_publish.run(ctx)
    assert "views_waiting_for_tables" not in out and "stocks.intraday_quotes_unique" in out["views"]
