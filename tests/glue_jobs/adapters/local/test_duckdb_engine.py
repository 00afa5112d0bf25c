"""The local engine reads the catalog the way Athena reads Glue: CSV as text by position,
Parquet from each partition's current location only, refreshed when the catalog changes."""
import datetime as dt

import pyarrow as pa
import pytest

from glue_jobs.lake import layout, parquet, tables
from glue_jobs.ports.catalog import Partition
from glue_jobs.ports.engine import QueryError
from glue_jobs.runtime import build_local
from glue_jobs.wap import crawl
from tests.support.wap_fixtures import csv_body


@pytest.fixture
def lake(tmp_path):
    return build_local(tmp_path / "lake")


def _raw(storage, catalog, symbol, body, run_id="r1"):
    key = layout.raw_key("2024-03-08", symbol, run_id)
    storage.put_bytes(key, body)
    if catalog.get_table("stocks", "raw_daily") is None:
        catalog.create_table(tables.raw_daily())
    catalog.add_partitions("stocks", "raw_daily", [crawl.partition_for(key, crawl.parse_header(body))])
    return key


def test_csv_tables_read_every_field_as_text_as_athena_does_with_partitions_and_path(lake):
    storage, catalog, engine, _ = lake
    key = _raw(storage, catalog, "IBM", csv_body([("2024-03-08", "NaN", "1.5", "", "-1", '"1,234"'),
                                                  ("2024-03-07", "1", "2")], crlf=True) + b"\r\n\n")
    rows = engine.query("select *, \"$path\" from stocks.raw_daily order by \"timestamp\" desc").to_pylist()
    where = {"ingest_date": "2024-03-08", "symbol": "IBM", "ingest_run_id": "r1", "$path": storage.uri(key)}
    # as on Athena, `*` leaves the pseudo-column out; it is read by name
    assert "$path" not in engine.query("select * from stocks.raw_daily").column_names
    # LazySimpleSerDe: quotes are text, '' for an empty field, null for a missing one; the
    # header and blank lines are no rows
    assert rows == [
        {"timestamp": "2024-03-08", "open": "NaN", "high": "1.5", "low": "", "close": "-1", "volume": '"1',
         "extra_field": '234"', **where},
        {"timestamp": "2024-03-07", "open": "1", "high": "2", "low": None, "close": None, "volume": None,
         "extra_field": None, **where},
    ]


# Bodies whose lines test every rule of the text reading; each is read by the whole-file split
# (small files) and by read_csv (big ones), which must agree row for row.
ODD_BODIES = {
    "QUOTES": b'timestamp,open,high,low,close,volume\r\n2024-03-08,"1,5",2,"a""b",x,"1,234"\r\n',
    "SHORT": b"timestamp,open,high,low,close,volume\n2024-03-08,1,2\n2024-03-07\n",
    "LONG": b"timestamp,open,high,low,close,volume\r\n2024-03-08,1,2,3,4,5,6,7,8,9\r\n",
    "EMPTY": b"timestamp,open,high,low,close,volume\r\n2024-03-08,,,,,\r\n,,,,,,\r\n",
    "NULLS": b"timestamp,open,high,low,close,volume\n2024-03-08,\\N,1,\\N,1,\\N\n",
    "BLANKS": b"timestamp,open,high,low,close,volume\r\n\r\n2024-03-08,1,2,3,4,5\r\n\n   \r\n\t\n",
    "NOEOL": b"timestamp,open,high,low,close,volume\n2024-03-08,1,2,3,4,5",
    "CRLAST": b"timestamp,open,high,low,close,volume\r\n2024-03-08,1,2,3,4,5\r",
    "HEADERONLY": b"timestamp,open,high,low,close,volume\r\n",
    "SPACES": b"timestamp,open,high,low,close,volume\n 2024-03-08 , 1 ,2,3,4, 5 \n",
    "UNICODE": "timestamp,open,high,low,close,volume\n2024-03-08,1\u00a0,2,3,4,\u0665\n".encode(),
}


def _read_raw(engine, small_file_bytes):
    engine.small_text_file_bytes = small_file_bytes
    engine._table_versions.clear()  # rebuild the view with the other reader
    sql = "select * from stocks.raw_daily"
    return sorted(engine.query(sql).to_pylist(), key=lambda r: repr(sorted(r.items())))


def test_small_and_big_text_files_are_read_alike(lake):
    storage, catalog, engine, _ = lake
    for symbol, body in ODD_BODIES.items():
        _raw(storage, catalog, symbol, body)
    split, read_csv = _read_raw(engine, 1 << 30), _read_raw(engine, 0)
    assert split == read_csv
    by_symbol = {}
    for row in split:
        by_symbol.setdefault(row["symbol"], []).append(row)
    assert "HEADERONLY" not in by_symbol
    assert [r["timestamp"] for r in sorted(by_symbol["BLANKS"], key=lambda r: r["timestamp"])] == ["\t", "   ",
                                                                                                   "2024-03-08"]
    assert by_symbol["LONG"][0]["extra_field"] == "6"
    assert by_symbol["NULLS"][0]["open"] is None and by_symbol["NULLS"][0]["high"] == "1"
    assert by_symbol["CRLAST"][0]["volume"] == "5" and by_symbol["NOEOL"][0]["volume"] == "5"


def test_a_filter_on_partition_keys_keeps_each_line_with_its_own_files_keys_in_both_readers(lake):
    # The small-file reader takes a file's partition values once, before splitting it into
    # lines (write temp filters the raw table on ingest_date and run id): each line must
    # still carry its own file's values and path, as read_csv's lines do.
    storage, catalog, engine, _ = lake
    keys = {(symbol, run): _raw(storage, catalog, symbol, csv_body([(f"2024-03-0{day}", day, run[-1], 1, 1, 100)]),
                                run_id=run)
            for symbol, day in (("IBM", 1), ("XOM", 2)) for run in ("r1", "r2")}
    sql = ("select symbol, ingest_run_id, \"timestamp\", high, \"$path\" from stocks.raw_daily "
           "where ingest_date in ('2024-03-08') and ingest_run_id in ('r2') order by symbol")
    for small_file_bytes in (1 << 30, 0):
        engine.small_text_file_bytes = small_file_bytes
        engine._table_versions.clear()  # rebuild the view with the other reader
        assert engine.query(sql).to_pylist() == [
            {"symbol": "IBM", "ingest_run_id": "r2", "timestamp": "2024-03-01", "high": "2",
             "$path": storage.uri(keys[("IBM", "r2")])},
            {"symbol": "XOM", "ingest_run_id": "r2", "timestamp": "2024-03-02", "high": "2",
             "$path": storage.uri(keys[("XOM", "r2")])},
        ]


def test_a_drifted_body_is_read_by_position_instead_of_failing_the_query(lake):
    storage, catalog, engine, _ = lake
    _raw(storage, catalog, "IBM", csv_body([("2024-03-08", 1, 2, 0.5, 1.5, 1.4, 100)],
                                           header="timestamp,open,high,low,close,adjusted_close,volume"))
    _raw(storage, catalog, "XOM", csv_body([("2024-03-08", 1, 2)]))  # a short line: padded with nulls
    rows = engine.query("select symbol, close, volume from stocks.raw_daily order by symbol").to_pylist()
    assert rows == [{"symbol": "IBM", "close": "1.5", "volume": "1.4"}, {"symbol": "XOM", "close": None, "volume": None}]


def test_only_registered_partitions_are_read_and_a_json_body_beside_its_csv_is_not(lake):
    storage, catalog, engine, _ = lake
    _raw(storage, catalog, "IBM", csv_body([("2024-03-08", 1, 2, 0.5, 1.5, 100)]))
    storage.put_bytes(layout.raw_key("2024-03-08", "IBM", "r1", "json"), b'{"Meta Data": {}}')
    storage.put_bytes(layout.raw_key("2024-03-08", "AAPL", "r1"), csv_body([("2024-03-08", 1, 2, 0.5, 1.5, 100)]))
    assert engine.query("select symbol from stocks.raw_daily").to_pylist() == [{"symbol": "IBM"}]


def _publish_version(storage, catalog, year, version, closes):
    location = layout.partition_version_prefix("daily_prices", {"trade_year": str(year)}, version)
    n = len(closes)
    table = pa.table({
        "symbol": ["AAA"] * n,
        "trade_date": pa.array([dt.date(year, 1, 2 + i) for i in range(n)], pa.date32()),
        "open": closes, "high": closes, "low": closes, "close": closes,
        "volume": pa.array([1] * n, pa.int64()),
        "fetched_at": pa.array([dt.datetime(year, 1, 9)] * n, pa.timestamp("us")),
        "ingest_run_id": [version] * n,
    })
    parquet.write_table(storage, location + "part-00000.parquet", table)
    return Partition({"trade_year": str(year)}, location)


def test_parquet_tables_read_only_current_partition_versions_and_follow_a_switch(lake):
    storage, catalog, engine, _ = lake
    catalog.create_table(tables.daily_prices())
    assert engine.query("select count(*) as n from stocks.daily_prices").to_pylist() == [{"n": 0}]
    old = _publish_version(storage, catalog, 2024, "a", [1.0, 2.0])
    catalog.switch_partitions("stocks", "daily_prices", [old, _publish_version(storage, catalog, 2023, "a", [5.0])])
    new = _publish_version(storage, catalog, 2024, "b", [1.0, 2.0, 3.0])  # written, not yet switched
    sql = "select trade_year, count(*) as n from stocks.daily_prices group by trade_year order by trade_year"
    assert engine.query(sql).to_pylist() == [{"trade_year": 2023, "n": 1}, {"trade_year": 2024, "n": 2}]
    catalog.switch_partitions("stocks", "daily_prices", [new])
    assert engine.query(sql).to_pylist() == [{"trade_year": 2023, "n": 1}, {"trade_year": 2024, "n": 3}]
    # Athena's default database: unqualified names work too
    assert engine.query("select count(*) as n from daily_prices").to_pylist() == [{"n": 4}]


def test_a_dropped_table_is_gone_for_the_engine_too(lake):
    storage, catalog, engine, _ = lake
    catalog.create_table(tables.daily_prices())
    engine.query("select * from stocks.daily_prices")
    catalog.drop_table("stocks", "daily_prices")
    with pytest.raises(QueryError, match="daily_prices"):
        engine.query("select * from stocks.daily_prices")


def test_write_parquet_refuses_a_location_that_holds_files_like_a_ctas(lake):
    storage, catalog, engine, _ = lake
    keys = engine.write_parquet("select 1 as a, 'x' as b", "tmp/t/run_id=r/")
    assert keys == ["tmp/t/run_id=r/part-00000.parquet"]
    assert parquet.read_table(storage, "tmp/t/run_id=r/").to_pylist() == [{"a": 1, "b": "x"}]
    with pytest.raises(QueryError, match="refusing to write into"):
        engine.write_parquet("select 2 as a", "tmp/t/run_id=r/")


def test_a_failing_statement_names_its_sql_file(lake):
    _, _, engine, _ = lake
    with pytest.raises(QueryError, match="^sql/broken.sql: Column 'no_such_column' cannot be resolved$"):
        engine.query("-- sql/broken.sql\nselect no_such_column from (select 1 as a)")
    # a failure while running is named the same way, in Athena's words where Athena has them
    with pytest.raises(QueryError, match="^sql/zero.sql: Division by zero$"):
        engine.query("-- sql/zero.sql\nselect a / (a - 1) from (select 1 as a)")


def test_athena_sql_is_transpiled(lake):
    _, _, engine, _ = lake
    row = engine.query(
        "select regexp_like('2024-01-05', '^\\d{4}-\\d{2}-\\d{2}$') as ok, max_by(x, y) as m "
        "from (values (1, 10), (2, 30), (3, 20)) as t (x, y)"
    ).to_pylist()[0]
    assert row == {"ok": True, "m": 2}


def test_a_clustered_write_puts_each_value_in_its_own_file_and_keeps_the_column(lake):
    storage, catalog, engine, _ = lake
    sql = "select i as n, 2000 + i % 3 as trade_year from unnest(sequence(1, 9)) as t(i)"
    keys = engine.write_parquet(sql, "tmp/clustered/", cluster_by="trade_year")
    assert sorted(k.split("/")[2] for k in keys) == ["trade_year=2000", "trade_year=2001", "trade_year=2002"]
    for key in keys:
        table = parquet.read_table(storage, key.rsplit("/", 1)[0] + "/")
        year = int(key.split("trade_year=")[1].split("/")[0])
        assert set(table.column("trade_year").to_pylist()) == {year} and table.num_rows == 3
    assert sorted(storage.list_keys("tmp/")) == sorted(keys)  # nothing left beside them


def test_a_clustered_write_that_fails_leaves_no_file(lake):
    storage, _, engine, _ = lake
    with pytest.raises(QueryError, match="Cannot cast 'x' to INT"):
        engine.write_parquet("select cast('x' as integer) as trade_year", "tmp/clustered/", cluster_by="trade_year")
    assert storage.list_keys("tmp/") == []


def test_a_statement_keeping_some_runs_reads_only_their_raw_partitions(lake):
    storage, catalog, engine, _ = lake
    for run_id, close in (("r1", "1.5"), ("r2", "2.5"), ("r3", "3.5")):
        _raw(storage, catalog, "IBM", csv_body([("2024-03-08", "1", "2", "0.5", close, "10")]), run_id=run_id)
    sql = ("select ingest_run_id, close from stocks.raw_daily where ingest_run_id in ('r1', 'r3') and symbol = 'IBM' "
           "order by ingest_run_id")
    assert engine.query(sql).to_pylist() == [{"ingest_run_id": "r1", "close": "1.5"}, {"ingest_run_id": "r3", "close": "3.5"}]
    read = engine.con.execute("select getvariable('tickerlake_files_raw_daily')").fetchone()[0]
    assert len(read) == 2 and all("run_id=r2" not in f for f in read)  # the view read r1's and r3's only
    # a statement without such a filter still reads every partition
    assert engine.query("select count(*) as n from stocks.raw_daily").to_pylist() == [{"n": 3}]
    # and one that reads the table twice, once unfiltered, is not pruned at all
    both = ("select count(*) as n from stocks.raw_daily where ingest_run_id = 'r1' "
            "union all select count(*) as n from stocks.raw_daily")
    assert engine.query(both).to_pylist() == [{"n": 1}, {"n": 3}]


@pytest.mark.parametrize("rows", [10, 300_000])  # failing at the last write, or while rows still stream
def test_a_clustered_write_whose_file_write_fails_raises_and_leaves_nothing(lake, monkeypatch, rows):
    import pyarrow.parquet as pq

    storage, _, engine, _ = lake

    class FullDisk(pq.ParquetWriter):
        def write_table(self, *args, **kwargs):
            raise OSError("No space left on device (injected)")

    monkeypatch.setattr(pq, "ParquetWriter", FullDisk)
    # Athena's sequence() stops at 10000 entries: a cross join of two makes the larger counts
    sql = (f"select a * 1000 + b as n, 2000 + b % 2 as trade_year from unnest(sequence(0, {rows // 1000 - 1})) as x(a) "
           "cross join unnest(sequence(1, 1000)) as y(b)") if rows > 10000 else \
        f"select i as n, 2000 + i % 2 as trade_year from unnest(sequence(1, {rows})) as t(i)"
    with pytest.raises(OSError, match="No space left"):
        engine.write_parquet(sql, "tmp/clustered/", cluster_by="trade_year")
    assert storage.list_keys("tmp/") == []
