"""write_temp's de-duplication (sql/wap/write_temp/dedupe.sql) decides per symbol and date: a
duplicated date of one symbol must not touch another symbol's bar of that date, nor the same
symbol's other dates; a dropped file wins over any scheduled fetch; two fetches stamped at the
same instant are settled by the later ingest run."""
from __future__ import annotations

import datetime as dt

from glue_jobs.wap import crawl, drop_temp, write_temp
from tests.support.wap_fixtures import csv_body, land

UTC = dt.timezone.utc
X, Z = "2024-03-07", "2024-03-06"


def _write_temp(ctx) -> tuple[dict, list[tuple]]:
    crawl.run(ctx)
    drop_temp.run(ctx)
    counts = write_temp.run(ctx)
    rows = ctx.engine.query("select symbol, cast(trade_date as varchar) as day, close, ingest_run_id "
                            "from stocks.tmp_daily_prices order by symbol, trade_date, close").to_pylist()
    return counts, [(r["symbol"], r["day"], r["close"], r["ingest_run_id"]) for r in rows]


def test_each_symbol_and_date_is_deduplicated_on_its_own(ctx):
    line = (X, 20, 20, 20, 20, 1)  # BBB and DDD send this very line, twice each
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", fetched_at=dt.datetime(2024, 3, 8, 21, tzinfo=UTC),
         bodies={"AAA": csv_body([(X, 10, 10, 10, 10, 1), (Z, 9, 9, 9, 9, 1), (Z, 9, 9, 9, 9, 1)]),
                 "BBB": csv_body([line, line]),
                 "CCC": csv_body([(X, 30, 30, 30, 30, 1)]),  # its only row on a date others repeat
                 "DDD": csv_body([line, line])})
    land(ctx.storage, run_id="i2", ingest_date="2024-03-08", fetched_at=dt.datetime(2024, 3, 8, 22, tzinfo=UTC),
         bodies={"AAA": csv_body([(X, 11, 11, 11, 11, 1)])})
    counts, rows = _write_temp(ctx)

    assert rows == [
        ("AAA", Z, 9.0, "i1"),  # repeated in i1 only: i2's newer fetch of X does not outrank it
        ("AAA", X, 11.0, "i2"),
        ("BBB", X, 20.0, "i1"),
        ("CCC", X, 30.0, "i1"),
        ("DDD", X, 20.0, "i1"),
    ]
    assert (counts["raw_rows"], counts["duplicates_dropped"], counts["duplicate_keys"]) == (9, 4, 4)


def test_of_two_fetches_stamped_at_the_same_instant_the_later_ingest_run_wins(ctx):
    same = dt.datetime(2024, 3, 8, 21, tzinfo=UTC)
    land(ctx.storage, run_id="20240308T210000Z-i1", ingest_date="2024-03-08", fetched_at=same,
         bodies={"AAA": csv_body([(X, 10, 10, 10, 10, 1)])})
    land(ctx.storage, run_id="20240308T210001Z-i2", ingest_date="2024-03-08", fetched_at=same,
         bodies={"AAA": csv_body([(X, 11, 11, 11, 11, 1)])})
    _, rows = _write_temp(ctx)
    assert rows == [("AAA", X, 11.0, "20240308T210001Z-i2")]


def test_a_dropped_files_bar_wins_over_a_later_scheduled_fetch(ctx):
    land(ctx.storage, run_id="20240308T233000Z-drop-d1", ingest_date="2024-03-08",
         fetched_at=dt.datetime(2024, 3, 8, 23, 30, tzinfo=UTC), bodies={"AAA": csv_body([(X, 10, 10, 10, 10, 1)])})
    land(ctx.storage, run_id="20240309T220000Z-i2", ingest_date="2024-03-09",
         fetched_at=dt.datetime(2024, 3, 9, 22, tzinfo=UTC), bodies={"AAA": csv_body([(X, 11, 11, 11, 11, 1)])})
    _, rows = _write_temp(ctx)
    assert rows == [("AAA", X, 10.0, "20240308T233000Z-drop-d1")]


def test_duplicated_keys_are_counted_dated_and_undated_alike(ctx):
    # one repeated date that parses and one that does not: two keys, each kept once
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08",
         bodies={"AAA": csv_body([(X, 10, 10, 10, 10, 1), (X, 10, 10, 10, 10, 1),
                                  ("03/07/2024", 1, 2, 0.5, 1.5, 10), ("03/07/2024", 1, 2, 0.5, 1.5, 10)])})
    counts, rows = _write_temp(ctx)
    assert (counts["duplicate_keys"], counts["duplicates_dropped"], len(rows)) == (2, 2, 2)
