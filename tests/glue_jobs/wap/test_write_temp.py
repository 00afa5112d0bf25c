"""write_temp's de-duplication and parsing, on the local engine with hand-made raw bodies."""
import datetime as dt
import io
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from glue_jobs.lake import failpoints, ingest_queue, layout, tables
from glue_jobs.lake.failpoints import InjectedFault
from glue_jobs.lake.migrate import MigrationFailed
from glue_jobs.ops import janitor
from glue_jobs.runtime import local_context
from glue_jobs.wap import crawl, drop_temp, write_temp
from tests.support.contexts import AS_OF
from tests.support.wap_fixtures import csv_body, land, land_synthetic
from workflows.runner import run_wap

UTC = dt.timezone.utc
BEFORE_RENAME = Path(__file__).resolve().parents[2] / "fixtures" / "lakes" / "before_ingest_run_id" / "lake"


@pytest.fixture(autouse=True)
def disarm_after():
    yield
    failpoints.reset({})


def _temp_rows(ctx):
    sql = ("select symbol, cast(trade_date as varchar) as day, close, ingest_run_id, parse_error "
           "from stocks.tmp_daily_prices order by symbol, trade_date, close")
    return ctx.engine.query(sql).to_pylist()


def test_latest_fetch_wins_exact_copies_drop_and_disagreeing_rows_of_one_fetch_stay(ctx):
    land(ctx.storage, run_id="i1", ingest_date="2024-03-07", fetched_at=dt.datetime(2024, 3, 7, 21, 30, tzinfo=UTC),
         bodies={"AAA": csv_body([("2024-03-07", 12, 12, 12, 12, 1), ("2024-03-06", 11, 11, 11, 11, 1),
                                  ("2024-03-05", 10, 10, 10, 10, 1)])})
    land(ctx.storage, run_id="i2", ingest_date="2024-03-08", fetched_at=dt.datetime(2024, 3, 8, 21, 30, tzinfo=UTC),
         bodies={"AAA": csv_body([("2024-03-08", 13, 13, 13, 13, 1), ("2024-03-08", 13, 13, 13, 13, 1),
                                  ("2024-03-08", 13.2, 13.2, 13.2, 13.2, 1), ("2024-03-07", 12, 12, 12, 12, 1),
                                  ("2024-03-06", 11.5, 11.5, 11.5, 11.5, 1)])})
    crawl.run(ctx)
    drop_temp.run(ctx)
    counts = write_temp.run(ctx)

    assert _temp_rows(ctx) == [
        {"symbol": "AAA", "day": "2024-03-05", "close": 10.0, "ingest_run_id": "i1", "parse_error": None},
        {"symbol": "AAA", "day": "2024-03-06", "close": 11.5, "ingest_run_id": "i2", "parse_error": None},
        {"symbol": "AAA", "day": "2024-03-07", "close": 12.0, "ingest_run_id": "i2", "parse_error": None},
        {"symbol": "AAA", "day": "2024-03-08", "close": 13.0, "ingest_run_id": "i2", "parse_error": None},
        {"symbol": "AAA", "day": "2024-03-08", "close": 13.2, "ingest_run_id": "i2", "parse_error": None},
    ]
    assert counts["raw_rows"] == 8
    assert counts["temp_rows"] == 5
    assert counts["duplicates_dropped"] == 3  # i1's 03-06 and 03-07, and the copy of 03-08
    assert counts["manifest_mismatches"] == []


def test_the_newest_fetch_wins_by_fetch_time_not_by_ingest_order(ctx):
    # a late re-ingest of an old day must not override a newer fetch
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", fetched_at=dt.datetime(2024, 3, 8, 22, tzinfo=UTC),
         bodies={"AAA": csv_body([("2024-03-07", 12, 12, 12, 12, 1)])})
    land(ctx.storage, run_id="i0", ingest_date="2024-03-07", fetched_at=dt.datetime(2024, 3, 7, 22, tzinfo=UTC),
         bodies={"AAA": csv_body([("2024-03-07", 99, 99, 99, 99, 1)])})
    crawl.run(ctx)
    write_temp.run(ctx)
    assert [(r["close"], r["ingest_run_id"]) for r in _temp_rows(ctx)] == [(12.0, "i1")]



def test_the_newest_fetch_wins_even_from_an_ingest_run_that_started_earlier(ctx):
    # run ids order runs by when they started; a run waiting for its quota can fetch a symbol
    # after a run that started later: the fetch time decides, not the run id
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", fetched_at=dt.datetime(2024, 3, 8, 22, tzinfo=UTC),
         bodies={"AAA": csv_body([("2024-03-07", 99, 99, 99, 99, 1)])})
    land(ctx.storage, run_id="i0", ingest_date="2024-03-07", fetched_at=dt.datetime(2024, 3, 9, 1, tzinfo=UTC),
         bodies={"AAA": csv_body([("2024-03-07", 12, 12, 12, 12, 1)])})
    crawl.run(ctx)
    write_temp.run(ctx)
    assert [(r["close"], r["ingest_run_id"]) for r in _temp_rows(ctx)] == [(12.0, "i0")]

def test_values_that_do_not_parse_stay_as_rows_naming_field_and_value(ctx):
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", bodies={
        "BAD": csv_body([
            ("2024-03-08", "NaN", "1.5", "", "-1", '"1,234"'),
            ("03/07/2024", "1", "2", "0.5", "1.5", "1e3"),
            ("2024-03-06", "1", "2", "0.5", "1.5"),
        ]),
    })
    crawl.run(ctx)
    write_temp.run(ctx)
    errors = {r["day"] or "?": r["parse_error"] for r in _temp_rows(ctx)}
    assert errors == {
        # a quoted "1,234" is two fields, as on Athena (LazySimpleSerDe has no quoting)
        "2024-03-08": "open 'NaN' is not a number; low is missing; volume '\"1' is not a whole number; "
                      "the row has an extra field '234\"' after volume '\"1' (an unquoted thousands "
                      "separator, volume '\"1,234\"'?)",
        "?": "timestamp '03/07/2024' is not a date (YYYY-MM-DD); volume '1e3' is not a whole number",
        "2024-03-06": "volume is missing",
    }
    rows = ctx.engine.query("select close, volume, raw_line, trade_year from stocks.tmp_daily_prices "
                            "where trade_date = date '2024-03-08'").to_pylist()
    # the line as received, quotes and all
    assert rows == [{"close": -1.0, "volume": None, "raw_line": '2024-03-08,NaN,1.5,,-1,"1,234"', "trade_year": 2024}]


def test_crlf_and_lf_bodies_read_the_same(ctx):
    rows = [("2024-03-08", "1.5", "2", "1", "1.75", "100")]
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08",
         bodies={"CR": csv_body(rows, crlf=True), "LF": csv_body(rows, crlf=False)})
    crawl.run(ctx)
    write_temp.run(ctx)
    got = ctx.engine.query("select symbol, open, high, low, close, volume, parse_error from stocks.tmp_daily_prices "
                           "order by symbol").to_pylist()
    assert [{k: v for k, v in r.items() if k != "symbol"} for r in got] == [
        {"open": 1.5, "high": 2.0, "low": 1.0, "close": 1.75, "volume": 100, "parse_error": None}] * 2


def test_fetched_at_and_forming_date_come_from_the_manifest(ctx):
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", fetched_at=dt.datetime(2024, 3, 8, 15, 0, tzinfo=UTC),
         forming={"AAA": "2024-03-08"}, bodies={"AAA": csv_body([("2024-03-08", 1, 2, 0.5, 1.5, 10)])})
    crawl.run(ctx)
    write_temp.run(ctx)
    row = ctx.engine.query("select fetched_at, forming_date from stocks.tmp_daily_prices").to_pylist()[0]
    assert row == {"fetched_at": dt.datetime(2024, 3, 8, 15, 0), "forming_date": dt.date(2024, 3, 8)}


def test_nothing_pending_is_nothing_to_do(ctx):
    counts = write_temp.run(ctx)
    assert counts["raw_rows"] == 0 and counts["duplicates_dropped"] == 0
    assert ingest_queue.pending_ingest_runs(ctx.storage) == []


def test_a_well_formed_line_whose_date_does_not_exist_still_says_why(ctx):
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", bodies={
        "ODD": csv_body([("2024-02-30", "1", "2", "0.5", "1.5", "10"), ("2024-02-29", "1", "2", "0.5", "1.5", "10")]),
    })
    crawl.run(ctx)
    counts = write_temp.run(ctx)
    rows = ctx.engine.query("select cast(trade_date as varchar) as day, parse_error, trade_year "
                            "from stocks.tmp_daily_prices order by parse_error nulls first").to_pylist()
    assert rows == [
        {"day": "2024-02-29", "parse_error": None, "trade_year": 2024},
        {"day": None, "parse_error": "timestamp '2024-02-30' is not a date (YYYY-MM-DD)", "trade_year": 2024},
    ]
    assert counts["duplicate_keys"] == 0 and counts["temp_rows"] == counts["raw_rows"] == 2


def test_a_seventh_field_is_a_parse_error_and_a_blank_one_is_not(ctx):
    # "1,234" unquoted: both engines would read volume 1 and drop the 234 without extra_field
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", bodies={
        "SEV": csv_body([("2024-03-08", "1", "2", "0.5", "1.5", "1", "234"),
                         ("2024-03-07", "1", "2", "0.5", "1.5", "10", ""),
                         ("2024-03-06", "1", "2", "0.5", "1.5", "1", "234", "567"),
                         ("2024-03-05", "1", "2", "0.5", "1.5", "10")]),
    })
    crawl.run(ctx)
    counts = write_temp.run(ctx)
    rows = ctx.engine.query("select cast(trade_date as varchar) as day, volume, raw_line, parse_error "
                            "from stocks.tmp_daily_prices order by trade_date desc").to_pylist()
    extra = ("the row has an extra field '234' after volume '1' "
             "(an unquoted thousands separator, volume '1,234'?)")
    assert rows == [
        {"day": "2024-03-08", "volume": 1, "raw_line": "2024-03-08,1,2,0.5,1.5,1,234", "parse_error": extra},
        {"day": "2024-03-07", "volume": 10, "raw_line": None, "parse_error": None},
        {"day": "2024-03-06", "volume": 1, "raw_line": "2024-03-06,1,2,0.5,1.5,1,234", "parse_error": extra},
        {"day": "2024-03-05", "volume": 10, "raw_line": None, "parse_error": None},
    ]  # a row that parsed keeps no text here: the audit reads it again if it quarantines the row
    assert counts["raw_rows"] == counts["temp_rows"] == 4


def _years_per_file(ctx, location):
    """trade_year values held by each Parquet file under `location`."""
    return [sorted(set(pq.read_table(io.BytesIO(ctx.storage.get_bytes(k))).column("trade_year").to_pylist()))
            for k in ctx.storage.list_keys(location) if k.endswith(".parquet")]


def test_a_retry_after_a_fault_at_each_data_write_ends_as_a_clean_run_would(make_ctx):
    # published: 60 sessions of AAA, 2023-12 to 2024-03
    first = make_ctx(run_id="20240308T230000Z-aaaaaa")
    land_synthetic(first.storage, run_id="20240308T220000Z-i1", as_of=AS_OF, symbols=["AAA"], days=60)
    run_wap(first)
    published = {r["trade_date"].isoformat(): r for r in first.engine.query(
        "select * from stocks.daily_prices where symbol = 'AAA'").to_pylist()}
    old = sorted(published)
    new_bar = ("2024-03-11", 50, 51, 49, 50.5, 1000)
    restated = [(d, published[d]["open"], published[d]["high"], published[d]["low"], published[d]["close"],
                 published[d]["volume"] + 5) for d in (old[0], old[-1])]  # one bar of 2023, one of 2024
    same = [(d, published[d]["open"], published[d]["high"], published[d]["low"], published[d]["close"],
             published[d]["volume"]) for d in old[1:4]]
    ctx = make_ctx(run_id="20240311T230000Z-bbbbbb", as_of=dt.date(2024, 3, 11))
    land(ctx.storage, run_id="20240311T220000Z-i2", ingest_date="2024-03-11",
         bodies={"AAA": csv_body([new_bar, new_bar, *restated, *same])})
    crawl.run(ctx)
    drop_temp.run(ctx)

    # the four writes: every row read, again with its text (the batch repeats a key), the
    # de-duplicated rows, the rows not published as they are
    temp_location = tables.temp_prices(ctx.run_id).location
    for write in ("read/", "read-text/", "deduplicated/", "changed/"):
        location = temp_location + write
        failpoints.reset({failpoints.ENV_POINT: "write_temp.after_data_write", failpoints.ENV_ACTION: "raise",
                          failpoints.ENV_MATCH: location})
        with pytest.raises(InjectedFault, match=location):
            write_temp.run(ctx)
        # the files are written, one per trade_year (what publish's per-year reads skip by), and
        # no table of the catalog reads them yet
        assert _years_per_file(ctx, location) == [[2023], [2024]]
        readers = [ctx.catalog.get_table("stocks", t) for t in (layout.TEMP_TABLE, layout.TEMP_FETCHED_TABLE)]
        assert location not in [t.location for t in readers if t is not None]
    failpoints.reset({})

    # the stage retried under the same run id, its earlier attempts' tables still in the catalog
    counts = write_temp.run(ctx)
    assert counts == {
        "ingest_runs": 1, "fetches": 1, "raw_rows": 7, "manifest_rows": 7, "fetched_rows": 6, "temp_rows": 3,
        "unchanged_rows": 3, "duplicates_dropped": 1, "duplicate_keys": 1, "manifest_mismatches": [],
        "temp_table": "stocks.tmp_daily_prices",
    }
    assert [(r["day"], r["ingest_run_id"]) for r in _temp_rows(ctx)] == [
        (old[0], "20240311T220000Z-i2"), (old[-1], "20240311T220000Z-i2"), ("2024-03-11", "20240311T220000Z-i2")]
    fetched = ctx.engine.query("select count(*) as n from stocks.tmp_daily_prices_fetched").to_pylist()
    assert fetched == [{"n": 6}]
    assert _years_per_file(ctx, temp_location + "changed/") == [[2023], [2024]]
    # the writes the later ones replaced are gone: the temporary space holds the batch once
    written = {k[len(temp_location):].split("/")[0] for k in ctx.storage.list_keys(temp_location)}
    assert written == {"deduplicated", "changed"}


def test_with_nothing_pending_the_previous_runs_temporary_tables_go_and_the_log_says_so(make_ctx):
    first = make_ctx(run_id="20240308T230000Z-aaaaaa")
    land_synthetic(first.storage, run_id="20240308T220000Z-i1", as_of=AS_OF, symbols=["AAA"], days=5)
    run_wap(first)
    assert first.catalog.get_table("stocks", layout.TEMP_TABLE) is not None  # left for inspection

    second = make_ctx(run_id="20240309T230000Z-bbbbbb")
    counts = write_temp.run(second)

    assert counts == {"status": "nothing to do: no pending ingest runs", "ingest_runs": 0, "raw_rows": 0,
                      "temp_rows": 0, "duplicates_dropped": 0, "unchanged_rows": 0}
    # no table of the earlier run's left to be read as this run's
    assert second.catalog.get_table("stocks", layout.TEMP_TABLE) is None
    assert second.catalog.get_table("stocks", layout.TEMP_FETCHED_TABLE) is None


def test_fetches_whose_rows_as_read_differ_from_the_manifest_are_named_in_the_log_twenty_at_most(ctx, caplog):
    two_bars = csv_body([("2024-03-08", 1, 2, 0.5, 1.5, 10), ("2024-03-07", 1, 2, 0.5, 1.5, 10)])
    bodies = {"EMPTY": csv_body([]), "NOCOUNT": two_bars, "OK": two_bars}
    bodies.update({f"S{i:02d}": two_bars for i in range(20)})
    claimed = {"EMPTY": 1, "NOCOUNT": None, "OK": 2, **{f"S{i:02d}": 3 for i in range(20)}}
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", bodies=bodies, rows=claimed)
    crawl.run(ctx)
    with caplog.at_level("WARNING", logger=write_temp.log.name):
        counts = write_temp.run(ctx)

    def problem(symbol, says, reads):
        raw_key = layout.raw_key("2024-03-08", symbol, "i1")
        return f"{symbol} in ingest run i1: manifest says {says} rows, the raw table reads {reads} ({raw_key})"

    # a manifest without a count is not compared; 21 fetches differ, the first 20 are named
    expected = [problem("EMPTY", 1, 0)] + [problem(f"S{i:02d}", 3, 2) for i in range(19)]
    assert counts["manifest_mismatches"] == expected
    logged = [r.getMessage() for r in caplog.records if r.name == write_temp.log.name]
    assert logged == [f"write_temp: {p}" for p in expected]
    assert counts["raw_rows"] == 2 * 22


def test_a_body_its_ingest_runs_manifest_does_not_list_is_named_and_its_rows_still_read(ctx, caplog):
    two_bars = csv_body([("2024-03-08", 1, 2, 0.5, 1.5, 10), ("2024-03-07", 1, 2, 0.5, 1.5, 10)])
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", bodies={"AAA": two_bars})
    land(ctx.storage, run_id="i2", ingest_date="2024-03-08", bodies={"BBB": two_bars})
    # placed by hand in run i1's folder: BBB is listed, but by run i2's manifest
    for symbol in ("ZZZ", "BBB"):
        ctx.storage.put_bytes(layout.raw_key("2024-03-08", symbol, "i1"), two_bars)
    crawl.run(ctx)
    with caplog.at_level("WARNING", logger=write_temp.log.name):
        counts = write_temp.run(ctx)

    expected = [f"{symbol} in ingest run i1: the raw table reads 2 rows its manifest does not list "
                f"({layout.raw_key('2024-03-08', symbol, 'i1')})" for symbol in ("BBB", "ZZZ")]
    assert counts["manifest_mismatches"] == expected
    assert [r.getMessage() for r in caplog.records if r.name == write_temp.log.name] == [
        f"write_temp: {p}" for p in expected]
    assert counts["raw_rows"] == 8  # nothing received is dropped: the audit sees every row


def test_a_lake_of_before_the_rename_is_refused_by_name_and_left_as_it_was(tmp_path):
    lake = tmp_path / "lake"
    shutil.copytree(BEFORE_RENAME, lake)
    with pytest.raises(MigrationFailed, match="^write_temp: the lake at "):
        write_temp.run(local_context(lake))


def _fetch(symbol, rows, forming=None):
    return ingest_queue.Fetch(symbol=symbol, raw_key=f"raw/{symbol}.csv", rows=rows,
                              fetched_at="2024-03-08 21:30:00.000000", forming_date=forming)


def test_the_fetches_table_body_has_the_manifest_count_or_nothing_and_no_carriage_return():
    # Athena's CSV SerDe splits lines at \n only: a \r would end up in the last column
    runs = [ingest_queue.IngestRun("i1", "2024-03-08", "m1", (_fetch("AAA", 3, "2024-03-08"), _fetch("BBB", None)))]
    assert write_temp.fetches_csv(runs).decode() == (
        "ingest_run_id,symbol,fetched_at,forming_date,manifest_rows\n"
        "i1,AAA,2024-03-08 21:30:00.000000,2024-03-08,3\n"
        "i1,BBB,2024-03-08 21:30:00.000000,,\n"
    )


def test_the_janitor_keeps_every_temporary_table_of_a_run_still_going(ctx):
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", bodies={"AAA": csv_body([("2024-03-08", 1, 2, 0.5, 1.5, 10)])})
    crawl.run(ctx)
    write_temp.run(ctx)  # its run log says running: the audit and publish are still to come

    plan = janitor.plan(ctx.storage, ctx.catalog)
    temps = [layout.TEMP_FETCHES_TABLE, layout.TEMP_TABLE, layout.TEMP_FETCHED_TABLE]
    kept = {k.target: k.reason for k in plan.kept}
    assert {t: kept.get(f"stocks.{t}") for t in temps} == {
        t: f"temporary table of run {ctx.run_id}, which is still running" for t in temps}
    assert not [d for d in plan.deletions if d.kind == "table"]
