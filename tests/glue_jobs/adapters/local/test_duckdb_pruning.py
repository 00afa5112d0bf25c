"""The local engine reads only the raw partitions a statement keeps, as Athena prunes from the
catalog; a filter that does not keep partitions of *this* table must not narrow what it reads."""
import pytest

from glue_jobs.lake import layout, tables
from glue_jobs.runtime import build_local
from glue_jobs.wap import crawl
from tests.support.wap_fixtures import csv_body


def _raw_lake(tmp_path):
    """Four raw partitions of one day: IBM in runs r1 and r2, XOM in r2 and r3."""
    storage, catalog, engine, other = build_local(tmp_path / "lake")
    catalog.create_table(tables.raw_daily())
    for symbol, run_id, close in (("IBM", "r1", "1.5"), ("IBM", "r2", "2.5"), ("XOM", "r2", "3.5"), ("XOM", "r3", "4.5")):
        key = layout.raw_key("2024-03-08", symbol, run_id)
        body = csv_body([("2024-03-08", "1", "2", "0.5", close, "10")])
        storage.put_bytes(key, body)
        catalog.add_partitions("stocks", "raw_daily", [crawl.partition_for(key, crawl.parse_header(body))])
    return storage, catalog, engine, other


@pytest.fixture
def lake(tmp_path):
    return _raw_lake(tmp_path)


def _rows(engine, sql):
    return sorted(tuple(r.values()) for r in engine.query(sql).to_pylist())


def test_an_or_of_partition_filters_keeps_either_side(lake):
    _, _, engine, _ = lake
    sql = "select symbol, ingest_run_id from stocks.raw_daily where ingest_run_id = 'r1' or symbol = 'XOM'"
    assert _rows(engine, sql) == [("IBM", "r1"), ("XOM", "r2"), ("XOM", "r3")]
    # the same inside a conjunction
    sql = ("select symbol, ingest_run_id from stocks.raw_daily "
           "where ingest_date = '2024-03-08' and (ingest_run_id = 'r1' or symbol = 'XOM')")
    assert _rows(engine, sql) == [("IBM", "r1"), ("XOM", "r2"), ("XOM", "r3")]


def test_a_filter_on_a_joined_table_does_not_prune_the_other(lake):
    _, _, engine, _ = lake
    sql = ("select a.symbol, a.ingest_run_id from stocks.raw_daily a "
           "join (select 'XOM' as symbol, 'r3' as ingest_run_id) b on a.symbol = b.symbol "
           "where b.ingest_run_id = 'r3'")
    assert _rows(engine, sql) == [("XOM", "r2"), ("XOM", "r3")]
    sql = ("select a.symbol, a.ingest_run_id from stocks.raw_daily a "
           "join stocks.raw_daily b on a.symbol = b.symbol where b.ingest_run_id = 'r3'")
    assert _rows(engine, sql) == [("XOM", "r2"), ("XOM", "r3")]


def test_an_outer_tables_column_in_a_correlated_subquery_does_not_prune_the_inner_table(lake):
    _, _, engine, _ = lake
    # `o.ingest_run_id` names the outer table: the inner raw_daily must still read every run
    sql = ("select o.symbol, o.ingest_run_id from stocks.raw_daily o where o.ingest_run_id = 'r2' and exists ("
           "select 1 from stocks.raw_daily i where i.symbol = o.symbol and o.ingest_run_id = 'r2' "
           "and i.ingest_run_id <> 'r2')")
    assert _rows(engine, sql) == [("IBM", "r2"), ("XOM", "r2")]


def test_a_filter_kept_in_a_subquery_prunes_only_that_reading(lake):
    _, _, engine, _ = lake
    sql = ("select symbol, ingest_run_id from stocks.raw_daily where symbol in "
           "(select symbol from stocks.raw_daily where ingest_run_id = 'r1')")
    assert _rows(engine, sql) == [("IBM", "r1"), ("IBM", "r2")]



def test_describing_the_raw_table_lists_its_columns_and_partition_keys(lake):
    # the table sits in no SELECT here: the pruning has nothing to prune and must not stumble
    _, _, engine, _ = lake
    names = [r["column_name"] for r in engine.query("describe stocks.raw_daily").to_pylist()]
    assert names[:6] == ["timestamp", "open", "high", "low", "close", "volume"]
    assert {"ingest_date", "symbol", "ingest_run_id"} <= set(names)

# A statement never reads a raw partition its own WHERE leaves out, as Athena never opens the
# objects of a partition it pruned from the catalog: a damaged object in another run's partition
# cannot fail a query that keeps only good runs (unfiltered, the same query fails on it). And a
# filter that cannot name partitions (a computed value, a column that is no partition key) does
# not narrow what is read.
def _lake(tmp_path, damaged: bool):
    storage, _, engine, _ = _raw_lake(tmp_path)
    if damaged:  # not text at all: reading it fails
        storage.put_bytes(layout.raw_key("2024-03-08", "XOM", "r3"), b"\x00\xff\xfe not, a \"csv\n\x00\x01")
    return engine


KEEP_R1 = [
    "select symbol, ingest_run_id from stocks.raw_daily where ingest_run_id = 'r1'",
    "select symbol, ingest_run_id from raw_daily where ingest_run_id = 'r1'",
    "select r.symbol, r.ingest_run_id from stocks.raw_daily r where r.ingest_run_id = 'r1'",
    "select symbol, ingest_run_id from stocks.raw_daily where raw_daily.ingest_run_id = 'r1'",
    "select symbol, ingest_run_id from stocks.raw_daily where symbol <> 'ZZZ' and ingest_run_id = 'r1'",
    "select symbol, ingest_run_id from stocks.raw_daily where ingest_run_id in ('r1')",
    # a SQL file's switch turned off (write_temp.sql's every_symbol) leaves the filter it guards
    "select symbol, ingest_run_id from stocks.raw_daily where (false or ingest_run_id in ('r1'))",
    "select symbol, ingest_run_id from stocks.raw_daily where symbol <> 'ZZZ' and (false or (ingest_run_id = 'r1'))",
    "with t as (select 'IBM' as s) select symbol, ingest_run_id from stocks.raw_daily "
    "where ingest_run_id = 'r1' and symbol in (select s from t where s = 'IBM')",
    "select r.symbol, r.ingest_run_id from stocks.raw_daily r where r.ingest_run_id = 'r1' and r.symbol in "
    "(select i.symbol from stocks.raw_daily i where r.symbol = 'IBM' and i.ingest_run_id = 'r1')",
    # another table met first: it is passed over, not the end of the search
    "with t as (select 'IBM' as s) select s, (select max(ingest_run_id) from stocks.raw_daily "
    "where ingest_run_id = 'r1') from t",
]


@pytest.mark.parametrize("sql", KEEP_R1)
def test_a_damaged_object_in_a_partition_the_query_leaves_out_is_never_read(tmp_path, sql):
    engine = _lake(tmp_path, damaged=True)
    assert _rows(engine, sql) == [("IBM", "r1")]
    with pytest.raises(Exception, match="could not read"):
        engine.query("select symbol, ingest_run_id from stocks.raw_daily")


def test_a_filter_whose_value_is_computed_does_not_narrow_the_reading(tmp_path):
    engine = _lake(tmp_path, damaged=False)
    sql = "select symbol, ingest_run_id from stocks.raw_daily where ingest_run_id = concat('r', '1')"
    assert _rows(engine, sql) == [("IBM", "r1")]


def test_a_switch_turned_on_does_not_narrow_the_reading(tmp_path):
    engine = _lake(tmp_path, damaged=False)
    sql = "select symbol, ingest_run_id from stocks.raw_daily where (true or ingest_run_id = 'r1')"
    assert _rows(engine, sql) == [("IBM", "r1"), ("IBM", "r2"), ("XOM", "r2"), ("XOM", "r3")]


def test_a_filter_on_a_column_that_is_no_partition_key_does_not_narrow_the_reading(tmp_path):
    engine = _lake(tmp_path, damaged=False)
    sql = "select symbol, ingest_run_id from stocks.raw_daily where close = '3.5'"
    assert _rows(engine, sql) == [("XOM", "r2")]


# A partition the catalog places where its path does not spell its values, or two partitions
# whose paths name their segments differently, cannot be read by hive paths: the query fails with
# a message that names the table, the partition, its location and the spellings.
def _add(tmp_path, partitions):
    from glue_jobs.ports.catalog import Partition

    engine = _lake(tmp_path, damaged=False)
    engine.catalog.add_partitions("stocks", "raw_daily", [Partition(values=v, location=loc) for v, loc in partitions])
    return engine


def test_a_partition_whose_path_does_not_spell_its_values_is_named_in_the_error(tmp_path):
    engine = _add(tmp_path, [({"ingest_date": "2024-03-09", "symbol": "IBM", "ingest_run_id": "r9"},
                              "raw/daily/ingest_date=2024-03-09/symbol=MSFT/run_id=r9/")])
    with pytest.raises(Exception) as caught:
        engine.query("select symbol from stocks.raw_daily")
    text = str(caught.value)
    assert "stocks.raw_daily: partition {'ingest_date': '2024-03-09', 'symbol': 'IBM', 'ingest_run_id': 'r9'}" in text
    assert "sits at raw/daily/ingest_date=2024-03-09/symbol=MSFT/run_id=r9/, whose path does not spell its values" in text


def test_partitions_that_name_their_path_segments_differently_are_named_in_the_error(tmp_path):
    engine = _add(tmp_path, [({"ingest_date": "2024-03-09", "symbol": "IBM", "ingest_run_id": "r9"},
                              "raw/daily/day=2024-03-09/ticker=IBM/run=r9/")])
    with pytest.raises(Exception) as caught:
        engine.query("select symbol from stocks.raw_daily")
    text = str(caught.value)
    assert "names its path segments day/ticker/run, others ingest_date/symbol/run_id" in text \
        or "names its path segments ingest_date/symbol/run_id, others day/ticker/run" in text, text


def test_a_partition_value_holding_an_equals_sign_reads_as_the_crawl_registered_it(tmp_path):
    # a path segment splits at its first "=", as the crawl's layout.parse_hive_key splits it:
    # `run_id=r=9` is run r=9, so the engine and the catalog agree on the partition's values
    storage, catalog, engine, _ = _raw_lake(tmp_path)
    key = layout.raw_key("2024-03-09", "IBM", "r=9")
    body = csv_body([("2024-03-09", "1", "2", "0.5", "9.5", "10")])
    storage.put_bytes(key, body)
    catalog.add_partitions("stocks", "raw_daily", [crawl.partition_for(key, crawl.parse_header(body))])
    sql = "select symbol, ingest_run_id, close from stocks.raw_daily where ingest_date = '2024-03-09'"
    assert _rows(engine, sql) == [("IBM", "r=9", "9.5")]


def test_a_published_years_rows_are_found_however_the_year_is_written(tmp_path):
    # pruning compares a literal's text with the partition values, which is right for the raw
    # table's text keys only; the Parquet tables' integer trade_year equals 2024.0 and 02024 too
    from tests.glue_jobs.adapters.local.test_duckdb_engine import _publish_version

    storage, catalog, engine, _ = build_local(tmp_path / "lake")
    catalog.create_table(tables.daily_prices())
    catalog.switch_partitions("stocks", "daily_prices", [_publish_version(storage, catalog, 2024, "a", [1.0, 2.0]),
                                                         _publish_version(storage, catalog, 2023, "a", [5.0])])
    for year in ("2024", "2024.0", "02024"):
        sql = f"select count(*) as n from stocks.daily_prices where trade_year = {year}"
        assert engine.query(sql).to_pylist() == [{"n": 2}], year
