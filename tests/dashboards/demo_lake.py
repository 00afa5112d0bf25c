"""A small in-memory lake for the panel tests: stocks.daily_prices with random-walk bars,
the indicator views, the run ledger and the quarantine, on DuckDB behind the Engine
protocol (Athena SQL in, transpiled by sqlglot, Arrow out)."""
from __future__ import annotations

import datetime as dt
import random

import duckdb
import pyarrow as pa
import sqlglot

from glue_jobs.common import trading_calendar

AS_OF = dt.date(2026, 11, 20)
SYMBOLS = ("AAPL", "IBM", "MSFT", "NVDA", "XOM")
SESSIONS = 320

# Stand-ins for sql/views until the WAP stage's views can be used here: same names and
# columns as the dashboards expect.
VIEWS = {
    "daily_returns": """
        select symbol, trade_date, close,
               close / lag(close) over (partition by symbol order by trade_date) - 1 as daily_return
        from stocks.daily_prices""",
    "moving_averages": """
        select symbol, trade_date, close,
               case when count(*) over w20 = 20 then avg(close) over w20 end as sma_20,
               case when count(*) over w50 = 50 then avg(close) over w50 end as sma_50,
               case when count(*) over w200 = 200 then avg(close) over w200 end as sma_200
        from stocks.daily_prices
        window w20 as (partition by symbol order by trade_date rows between 19 preceding and current row),
               w50 as (partition by symbol order by trade_date rows between 49 preceding and current row),
               w200 as (partition by symbol order by trade_date rows between 199 preceding and current row)""",
    "volatility_20d": """
        select symbol, trade_date,
               stddev_samp(daily_return) over (partition by symbol order by trade_date
                   rows between 19 preceding and current row) * sqrt(252) as volatility_20d
        from stocks.daily_returns""",
    "high_low_52w": """
        select symbol, trade_date, close,
               max(high) over w as high_52w, min(low) over w as low_52w
        from stocks.daily_prices
        window w as (partition by symbol order by trade_date rows between 251 preceding and current row)""",
}


class DuckDemoEngine:
    """The Engine protocol on an in-memory DuckDB."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.con.execute("create schema stocks")
        self.statements: list[str] = []

    def _duck(self, sql: str) -> str:
        return ";\n".join(sqlglot.transpile(sql, read="trino", write="duckdb"))

    def query(self, sql: str) -> pa.Table:
        self.statements.append(sql)
        return self.con.sql(self._duck(sql)).to_arrow_table()

    def execute(self, sql: str) -> None:
        self.con.execute(self._duck(sql))

    def write_parquet(self, select_sql: str, location: str) -> list[str]:  # pragma: no cover - unused
        raise NotImplementedError

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(f"_{name}", table)
        self.con.execute(f"create or replace table stocks.{name} as select * from _{name}")


def price_rows(symbols=SYMBOLS, sessions=SESSIONS, as_of=AS_OF, seed=7) -> list[dict]:
    rng = random.Random(seed)
    days = trading_calendar.last_sessions(as_of, sessions)
    rows = []
    for index, symbol in enumerate(symbols):
        close = 50.0 + 40 * index
        for day in days:
            open_ = close * (1 + rng.gauss(0, 0.004))
            close = max(1.0, close * (1 + rng.gauss(0.0004, 0.018)))
            high = max(open_, close) * (1 + abs(rng.gauss(0, 0.005)))
            low = min(open_, close) * (1 - abs(rng.gauss(0, 0.005)))
            rows.append({
                "symbol": symbol, "trade_date": day, "open": open_, "high": high, "low": low, "close": close,
                "volume": int(rng.uniform(1e6, 5e6)), "fetched_at": dt.datetime(2026, 11, 20, 22, 5),
                "run_id": "20261120T220001Z-aaaaaa", "trade_year": day.year,
            })
    return rows


def run_rows(as_of=AS_OF) -> list[dict]:
    stages = ("ingest", "crawl", "drop_temp", "write_temp", "audit", "publish", "after_publish")
    rows = []
    for i, (status, quarantined) in enumerate((("succeeded", 0), ("failed", 0), ("succeeded", 9))):
        started = dt.datetime.combine(as_of, dt.time(22, 0)) - dt.timedelta(days=2 - i)
        row = {
            "run_id": f"{started:%Y%m%dT%H%M%SZ}-00000{i}", "started_at": started,
            "finished_at": started + dt.timedelta(seconds=30 + i), "status": status,
            "as_of": trading_calendar.last_sessions(as_of, 3)[i], "seconds": 30.0 + i,
            "symbols_planned": 5, "symbols_fetched": 5 - i, "symbols_failed": i, "symbols_carried": i,
            "calls_used": 5 - i, "calls_allowance": 25, "raw_rows": 500 + quarantined,
            "published_rows": 500, "quarantined_rows": quarantined, "duplicates_dropped": 0,
            "reconciled": True, "failed_stage": "ingest" if status == "failed" else None,
            "error": None, "run_month": f"{started:%Y-%m}",
        }
        for j, stage in enumerate(stages):
            row[f"seconds_{stage}"] = 1.0 + j + i
        rows.append(row)
    return rows


def audit_rows(runs: list[dict]) -> list[dict]:
    rules = (("prices_positive", "row", "0", 0.0), ("high_low_consistent", "row", "0", 0.0),
             ("row_count_within_bounds", "batch", "1..100000", 500.0),
             ("quarantine_share", "batch", "<= 0.05", 0.0))
    out = []
    for run in runs:
        for rule, kind, threshold, observed in rules:
            failing = run["quarantined_rows"] if rule == "prices_positive" else 0
            out.append({"run_id": run["run_id"], "started_at": run["started_at"], "as_of": run["as_of"],
                        "rule": rule, "kind": kind, "success": failing == 0, "failing_rows": failing,
                        "threshold": threshold, "observed": observed, "run_month": run["run_month"]})
    return out


def quarantine_rows(runs: list[dict]) -> list[dict]:
    run = runs[-1]
    return [{"symbol": "AAPL", "trade_date": str(AS_OF), "open": "-1", "high": "10", "low": "9", "close": "9.5",
             "volume": "100", "reason": "open must be > 0", "rule": "prices_positive", "run_id": run["run_id"],
             "source_file": "raw/daily/x/body.csv", "trade_year": AS_OF.year}
            for _ in range(run["quarantined_rows"])]


def build_demo_engine(*, with_runs: bool = True) -> DuckDemoEngine:
    engine = DuckDemoEngine()
    engine.register("daily_prices", pa.Table.from_pylist(price_rows()))
    for name in ("daily_returns", "moving_averages", "volatility_20d", "high_low_52w"):
        engine.execute(f"create view stocks.{name} as {VIEWS[name]}")
    if with_runs:
        runs = run_rows()
        engine.register("pipeline_runs", pa.Table.from_pylist(runs))
        engine.register("audit_results", pa.Table.from_pylist(audit_rows(runs)))
        engine.register("daily_prices_quarantine", pa.Table.from_pylist(quarantine_rows(runs)))
    return engine
