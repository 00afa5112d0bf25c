"""The history is a table: `stocks.intraday_quotes` answers the local engine's SQL (Athena's
dialect) after a consume, joins with stocks.daily_prices, and a replay adds no row to it."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glue_jobs.adapters.local.stream_sqlite import SqliteStream
from glue_jobs.intraday import Consumer
from glue_jobs.lake.quote_record import encode
from glue_jobs.ports.catalog import Column, Partition, TableDef
from glue_jobs.runtime import open_runtime
from tests.glue_jobs.intraday.quotes import NOW, OPEN_MS, quote
from workflows.intraday import open_processor


def consume(lake: Path, log: SqliteStream, **drain) -> dict:
    runtime = open_runtime(str(lake), create=True)
    processor = open_processor(runtime, env={}, clock=lambda: NOW)
    return Consumer(log, processor, runtime.queue_factory("intraday-failures"), batch=3).drain(**drain).to_dict()


@pytest.fixture
def lake(tmp_path) -> tuple[Path, SqliteStream]:
    log = SqliteStream(tmp_path / "log.sqlite", shards=2, clock=lambda: OPEN_MS / 1000 + 60)
    for i in range(1, 6):
        log.put("IBM", encode(quote("IBM", str(100 + i), i)))
        log.put("MSFT", encode(quote("MSFT", str(400 - i), i, previous_close="400")))
    consume(tmp_path / "lake", log)
    return tmp_path / "lake", log


def test_the_history_answers_sql_by_partition(lake):
    path, _ = lake
    engine = open_runtime(str(path)).engine
    rows = engine.query("select symbol, count(*) as quotes, max(price) as high, min(dt) as dt "
                        "from stocks.intraday_quotes where dt = '2026-11-30' group by symbol order by symbol").to_pylist()
    assert rows == [{"symbol": "IBM", "quotes": 5, "high": 105.0, "dt": "2026-11-30"},
                    {"symbol": "MSFT", "quotes": 5, "high": 399.0, "dt": "2026-11-30"}]


def test_the_history_joins_with_the_daily_table(lake):
    path, _ = lake
    runtime = open_runtime(str(path))
    # a one-row stand-in for the published table: the previous session's close
    table = pa.table({"symbol": ["IBM"], "trade_date": [dt.date(2026, 11, 27)], "close": [100.0]})
    (path / "warehouse" / "dp").mkdir(parents=True)
    pq.write_table(table, path / "warehouse" / "dp" / "part-0.parquet")
    runtime.catalog.create_table(TableDef("stocks", "daily_prices", "warehouse/dp/", "parquet",
                                          [Column("symbol", "string"), Column("trade_date", "date"),
                                           Column("close", "double")]))
    rows = runtime.engine.query("""
        select q.symbol, max(q.price) - max(d.close) as above_last_close
        from stocks.intraday_quotes q
        join stocks.daily_prices d on d.symbol = q.symbol and d.trade_date = date '2026-11-27'
        group by q.symbol""").to_pylist()
    assert rows == [{"symbol": "IBM", "above_last_close": 5.0}]


def test_a_replay_from_a_time_adds_no_history_row(lake):
    path, log = lake
    result = consume(path, log, checkpoint=False, after={s: None for s in log.shards()}, since_ms=0)
    assert result["records"] == 10 and result["history_rows"] == 0 and result["written"] == 0
    count = open_runtime(str(path)).engine.query("select count(*) as n from stocks.intraday_quotes").to_pylist()
    assert count == [{"n": 10}]


def test_a_history_file_keeps_each_field_of_awkward_quotes(tmp_path):
    """The history's Parquet columns are built from the values' own bytes (not pa.array): texts
    that are not ASCII, integers near 64 bits and prices at both ends of the range come back."""
    import io

    from glue_jobs.intraday.history import COLUMNS, parquet_bytes

    odd = [quote('B"R\\K.\u00e9', "0.0001", 2**62, minute=1, volume=7, low=Decimal("0.0001")),
           quote("\u2028X", "9999999.99999999", 3, high=Decimal("9999999.99999999"), volume=10**15 - 1),
           quote("IBM", "101", 0, source="alphavantage")]
    rows = pq.read_table(io.BytesIO(parquet_bytes(odd))).to_pylist()
    assert rows == [{c.name: float(getattr(q, c.name)) if c.type == "double" else getattr(q, c.name)
                     for c in COLUMNS} for q in odd]


def test_the_unique_view_keeps_one_row_per_quote_of_a_history_holding_duplicates(lake):
    """Firehose delivers at least once: a redelivered object repeats every row of a batch."""
    path, _ = lake
    day = path / "stream" / "quotes" / "dt=2026-11-30"
    first = sorted(day.glob("*.parquet"))[0]
    (day / "firehose-redelivered.parquet").write_bytes(first.read_bytes())
    engine = open_runtime(str(path)).engine
    table = engine.query("select count(*) as n from stocks.intraday_quotes").to_pylist()
    assert table == [{"n": 10 + pq.read_metadata(first).num_rows}]  # the duplicates are there
    rows = engine.query("select symbol, sequence, price, dt from stocks.intraday_quotes_unique "
                        "where dt = '2026-11-30' order by symbol, sequence").to_pylist()
    assert [(r["symbol"], r["sequence"]) for r in rows] == [("IBM", i) for i in range(1, 6)] + \
        [("MSFT", i) for i in range(1, 6)]
    assert [r["price"] for r in rows[:5]] == [101.0, 102.0, 103.0, 104.0, 105.0]


def test_the_unique_view_tells_apart_sessions_and_sources_that_share_a_sequence(lake):
    """The producer's sequence starts again each session: a quote is its day's symbol, source
    and sequence, so the same sequence on another day or from another source is another quote."""
    path, _ = lake
    source = path / "stream" / "quotes" / "dt=2026-11-30"
    table = pq.read_table(sorted(source.glob("*.parquet"))[0])
    other_day = path / "stream" / "quotes" / "dt=2026-12-01"
    other_day.mkdir()
    pq.write_table(table, other_day / "next-session.parquet")
    renamed = table.set_column(table.schema.get_field_index("source"), "source",
                               pa.array(["alphavantage"] * table.num_rows))
    pq.write_table(renamed, source / "other-source.parquet")
    runtime = open_runtime(str(path))
    runtime.catalog.add_partitions("stocks", "intraday_quotes",
                                   [Partition({"dt": "2026-12-01"}, "stream/quotes/dt=2026-12-01/")])
    count = runtime.engine.query("select count(*) as n from stocks.intraday_quotes_unique").to_pylist()
    assert count == [{"n": 10 + 2 * table.num_rows}]
