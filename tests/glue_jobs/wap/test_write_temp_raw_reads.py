"""Which raw rows write_temp reads (sql/wap/write_temp/write_temp.sql): every row of the ingest
runs this run processes, a body the manifest does not list included, and nothing of an ingest
run already processed, even one landed the same day."""
from __future__ import annotations

from glue_jobs.lake import layout
from glue_jobs.wap import crawl, drop_temp, write_temp
from tests.support.wap_fixtures import csv_body, land
from workflows.runner import run_wap

DAY = "2024-03-08"


def _write_temp(ctx) -> dict:
    crawl.run(ctx)
    drop_temp.run(ctx)
    return write_temp.run(ctx)


def test_an_ingest_run_already_processed_that_day_is_not_read_again(make_ctx):
    first = make_ctx(run_id="20240308T230000Z-aaaaaa")
    land(first.storage, run_id="20240308T220000Z-i1", ingest_date=DAY,
         bodies={"AAA": csv_body([("2024-03-07", 10, 10, 10, 10, 1), ("2024-03-06", 9, 9, 9, 9, 1)])})
    run_wap(first)
    second = make_ctx(run_id="20240308T235000Z-bbbbbb")
    land(second.storage, run_id="20240308T234000Z-i2", ingest_date=DAY,
         bodies={"BBB": csv_body([("2024-03-07", 20, 20, 20, 20, 1)])})
    counts = _write_temp(second)

    assert (counts["raw_rows"], counts["manifest_rows"], counts["duplicates_dropped"]) == (1, 1, 0)
    rows = second.engine.query("select symbol, ingest_run_id from stocks.tmp_daily_prices_fetched").to_pylist()
    assert rows == [{"symbol": "BBB", "ingest_run_id": "20240308T234000Z-i2"}]


def test_a_body_the_manifest_does_not_list_is_still_read(ctx):
    land(ctx.storage, run_id="i1", ingest_date=DAY, bodies={"AAA": csv_body([("2024-03-07", 1, 1, 1, 1, 1)])})
    ctx.storage.put_bytes(layout.raw_key(DAY, "BBB", "i1"), csv_body([("2024-03-07", 2, 2, 2, 2, 2)]))
    counts = _write_temp(ctx)

    # kept for the audit to judge, with no fetch time to rank it by, not dropped unseen
    rows = ctx.engine.query("select symbol, fetched_at from stocks.tmp_daily_prices order by symbol").to_pylist()
    assert [(r["symbol"], r["fetched_at"] is None) for r in rows] == [("AAA", False), ("BBB", True)]
    assert (counts["raw_rows"], counts["manifest_rows"]) == (2, 1)
