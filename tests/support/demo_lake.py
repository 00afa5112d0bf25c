"""A small lake for the panel, alert and intraday tests: stocks.daily_prices with random-walk
bars, the run ledger and the quarantine, as Parquet in a local lake read by the production
engine, which exposes the pipeline's own views (sql/views/)."""
from __future__ import annotations

import datetime as dt
import io
import random

import pyarrow as pa
import pyarrow.parquet as pq

from glue_jobs.lake import ledger, sql_files, symbol_years, trading_calendar
from glue_jobs.ports.catalog import Column, TableDef
from glue_jobs.runtime import build_local

AS_OF = dt.date(2026, 11, 20)
SYMBOLS = ("AAPL", "IBM", "MSFT", "NVDA", "XOM")
SESSIONS = 320

_ATHENA_TYPE = {pa.string(): "string", pa.float64(): "double", pa.int64(): "bigint", pa.int32(): "int",
                pa.bool_(): "boolean", pa.date32(): "date"}


def _athena_type(arrow: pa.DataType) -> str:
    if pa.types.is_timestamp(arrow):
        return "timestamp"
    return _ATHENA_TYPE[arrow]


class DemoLake:
    """A local lake in a directory behind the production engine (glue_jobs.runtime.build_local):
    a table registered from Arrow becomes a Parquet file and a catalog table, and the views are
    sql/views/ exposed by the engine itself. Records the statements run through it."""

    def __init__(self, path) -> None:
        self.storage, self.catalog, self.engine, _ = build_local(path)
        self.statements: list[str] = []

    def query(self, sql: str) -> pa.Table:
        self.statements.append(sql)
        return self.engine.query(sql)

    def __getattr__(self, name: str):  # read_only_query, execute, write_parquet: the engine's own
        return getattr(self.engine, name)

    def register(self, name: str, table: pa.Table) -> None:
        """stocks.<name> holds exactly these rows (again: replaced); for stocks.daily_prices,
        stocks.symbol_years too, from the pipeline's own summary of each year."""
        self._put(name, table)
        if name == "daily_prices":
            self._put(symbol_years.NAME, self._summary())

    def _summary(self) -> pa.Table:
        years = self.engine.query("select distinct trade_year from stocks.daily_prices").column(0).to_pylist()
        parts = []
        for year in sorted(years):
            part = self.engine.query(sql_files.render(symbol_years.SQL, {"trade_year": year}))
            parts.append(part.append_column("trade_year", pa.array([year] * part.num_rows, pa.int32())))
        schema = pa.schema([("symbol", pa.string()), ("first_date", pa.date32()), ("newest_date", pa.date32()),
                            ("bars", pa.int64()), ("trade_year", pa.int32())])
        return pa.concat_tables([p.cast(schema) for p in parts]) if parts else schema.empty_table()

    def _put(self, name: str, table: pa.Table) -> None:
        location = f"demo/{name}/"
        self.storage.delete(self.storage.list_keys(location))
        buf = io.BytesIO()
        pq.write_table(table, buf)
        self.storage.put_bytes(f"{location}part-00000.parquet", buf.getvalue())
        columns = [Column(field.name, _athena_type(field.type)) for field in table.schema]
        self.catalog.create_table(TableDef("stocks", name, location, "parquet", columns), replace=True)


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


def build_demo_engine(path, *, with_runs: bool = True) -> DemoLake:
    engine = DemoLake(path)
    engine.register("daily_prices", pa.Table.from_pylist(price_rows()))
    engine.register("intraday_quotes", pa.Table.from_pylist(intraday_rows()))
    if with_runs:
        docs = run_log_docs()
        runs, audits = ledger_tables(docs)
        engine.register("pipeline_runs", runs)
        engine.register("audit_results", audits)
        engine.register("daily_prices_quarantine", pa.Table.from_pylist(quarantine_rows(docs)))
    return engine
