"""A small in-memory lake for the panel tests: stocks.daily_prices with random-walk bars,
the indicator views, the run ledger and the quarantine, on DuckDB behind the Engine
protocol (Athena SQL in, transpiled by sqlglot, Arrow out)."""
from __future__ import annotations

import datetime as dt
import random

import duckdb
import pyarrow as pa
import sqlglot

from glue_jobs.lake import ledger, trading_calendar

AS_OF = dt.date(2026, 11, 20)
SYMBOLS = ("AAPL", "IBM", "MSFT", "NVDA", "XOM")
SESSIONS = 320

# Stand-ins for any of sql/views that is missing: same names and columns.
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


def view_statements() -> list[str]:
    """The pipeline's own views (sql/views/), each after those it reads; the stand-ins above
    only where a view file is missing."""
    from pathlib import Path

    from glue_jobs.lake import sql_files

    real = {Path(n).stem: sql_files.load(n) for n in sql_files.names("views")}
    views = {name: f"create or replace view stocks.{name} as {sql}" for name, sql in VIEWS.items()}
    views.update(real)
    return [views[name] for name in sql_files.view_order(views)]


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


STAGES = ("ingest", "crawl", "drop_temp", "write_temp", "audit", "publish", "after_publish")
AUDIT_RULES = (("prices_positive", "row", "every row"), ("high_low_consistent", "row", "every row"),
               ("row_count_within_bounds", "batch", [1, 100000]), ("quarantine_share", "batch", "<= 0.05"))


def run_log_docs(as_of=AS_OF) -> list[dict]:
    """Three run logs shaped like glue_jobs.lake.run_log writes them: a good run, a run whose
    ingest failed, a run that quarantined rows."""
    docs = []
    for i, (status, quarantined) in enumerate((("succeeded", 0), ("failed", 0), ("succeeded", 9))):
        started = dt.datetime.combine(as_of, dt.time(22, 0), tzinfo=dt.timezone.utc) - dt.timedelta(days=2 - i)
        stages = {}
        for j, stage in enumerate(STAGES):
            stages[stage] = {"status": "succeeded", "seconds": 1.0 + j + i, "counts": {}, "details": {}}
        stages["ingest"]["counts"] = {"symbols_planned": 5, "symbols_fetched": 5 - i, "symbols_failed": i,
                                      "symbols_carried": i, "api_calls": 5 - i}
        stages["audit"]["details"] = {"rules": [
            {"rule": rule, "kind": kind, "threshold": threshold,
             "failing_rows": quarantined if rule == "prices_positive" else 0,
             "success": not (quarantined and rule == "prices_positive"),
             "observed": 500.0 if rule == "row_count_within_bounds" else 0,
             "example": "AAPL 2026-11-20: open -1 is not > 0" if quarantined and rule == "prices_positive" else None}
            for rule, kind, threshold in AUDIT_RULES]}
        if status == "failed":
            for stage in STAGES[1:]:
                stages[stage] = {"status": "pending"}
            stages["ingest"].update(status="failed", error="ingest: every symbol failed")
        docs.append({
            "run_id": f"{started:%Y%m%dT%H%M%SZ}-00000{i}", "status": status,
            "started_at": started.isoformat(), "finished_at": (started + dt.timedelta(seconds=30 + i)).isoformat(),
            "seconds": 30.0 + i, "as_of": str(trading_calendar.last_sessions(as_of, 3)[i]),
            "settings": {"source": "synthetic", "calls_per_day": 25},
            "stages": stages,
            "totals": {"raw_rows": 500 + quarantined, "published_rows": 500, "quarantined_rows": quarantined,
                       "duplicates_dropped": 0, "symbols_fetched": 5 - i, "symbols_failed": i,
                       "symbols_carried": i, "calls_used": 5 - i, "reconciled": status == "succeeded"},
        })
    return docs


def ledger_tables(docs: list[dict]) -> tuple[pa.Table, pa.Table]:
    """stocks.pipeline_runs and stocks.audit_results for these run logs, built by the ledger."""
    runs = [ledger.run_row(d) for d in docs]
    audits = [r for d in docs for r in ledger.audit_rows(d)]
    for row in runs + audits:
        row["run_month"] = ledger.run_month(row["started_at"], row["run_id"])
    columns = [*ledger.PIPELINE_RUNS_COLUMNS, ledger.RUN_MONTH]
    audit_columns = [*ledger.AUDIT_RESULTS_COLUMNS, ledger.RUN_MONTH]
    return ledger.rows_table(runs, columns), ledger.rows_table(audits, audit_columns)


def quarantine_rows(docs: list[dict]) -> list[dict]:
    run = docs[-1]
    quarantined = run["totals"]["quarantined_rows"]
    return [{"symbol": "AAPL", "trade_date": str(AS_OF), "open": "-1", "high": "10", "low": "9", "close": "9.5",
             "volume": "100", "reason": "open must be > 0", "rule": "prices_positive", "run_id": run["run_id"],
             "source_file": "raw/daily/x/body.csv", "trade_year": AS_OF.year}
            for _ in range(quarantined)]


def intraday_rows(symbols=SYMBOLS, session=AS_OF, quotes=30) -> list[dict]:
    """The history of one session (stocks.intraday_quotes): a quote a minute from the open per
    symbol, each 0.1 % further from the previous close (the first symbol's 0.3 %: its quotes pass
    5 %, anomalies, from the 17th)."""
    open_ms = int(dt.datetime(session.year, session.month, session.day, 14, 30,
                              tzinfo=dt.timezone.utc).timestamp() * 1000)
    rows = []
    for k, symbol in enumerate(symbols):
        previous_close, step = 100.0 * (k + 1), 0.003 if k == 0 else 0.001
        for i in range(quotes):
            price = round(previous_close * (1 + step * (i + 1)), 4)
            change = round(price - previous_close, 4)
            rows.append({"symbol": symbol, "event_time_ms": open_ms + 60_000 * i, "source": "synthetic",
                         "sequence": i, "price": price, "open": previous_close, "high": price,
                         "low": previous_close, "volume": 1000 * i, "previous_close": previous_close,
                         "change": change, "change_percent": round(change / previous_close * 100, 4),
                         "latest_trading_day": session.isoformat(), "dt": session.isoformat()})
    return rows


def build_demo_engine(*, with_runs: bool = True) -> DuckDemoEngine:
    engine = DuckDemoEngine()
    engine.register("daily_prices", pa.Table.from_pylist(price_rows()))
    engine.register("intraday_quotes", pa.Table.from_pylist(intraday_rows()))
    for statement in view_statements():
        engine.execute(statement)
    if with_runs:
        docs = run_log_docs()
        runs, audits = ledger_tables(docs)
        engine.register("pipeline_runs", runs)
        engine.register("audit_results", audits)
        engine.register("daily_prices_quarantine", pa.Table.from_pylist(quarantine_rows(docs)))
    return engine
