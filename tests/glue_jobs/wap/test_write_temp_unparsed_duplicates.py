"""write_temp: an exact copy of a line whose date does not parse is a duplicate like any other
(the line is kept once, for the audit to quarantine with its reason), and two different such
lines stay two rows."""
from glue_jobs.wap import crawl, drop_temp, write_temp
from tests.support.wap_fixtures import csv_body, land


def _rows(ctx):
    sql = ("select symbol, raw_line, parse_error from stocks.tmp_daily_prices "
           "where trade_date is null order by raw_line")
    return ctx.engine.query(sql).to_pylist()


def test_an_exact_copy_of_a_line_with_an_unparseable_date_is_dropped_as_a_duplicate(ctx):
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", bodies={
        "AAA": csv_body([("2024-03-08", 2, 2, 2, 2, 1), ("03/07/2024", 1, 2, 0.5, 1.5, 10),
                         ("03/07/2024", 1, 2, 0.5, 1.5, 10), ("03/06/2024", 1, 2, 0.5, 1.5, 10)]),
    })
    crawl.run(ctx)
    drop_temp.run(ctx)
    counts = write_temp.run(ctx)

    rows = _rows(ctx)
    assert [r["raw_line"] for r in rows] == ["03/06/2024,1,2,0.5,1.5,10", "03/07/2024,1,2,0.5,1.5,10"]
    assert all(r["symbol"] == "AAA" and "03/0" in r["parse_error"] for r in rows)
    assert counts["raw_rows"] == 4
    assert counts["temp_rows"] == 3
    assert counts["duplicates_dropped"] == 1
