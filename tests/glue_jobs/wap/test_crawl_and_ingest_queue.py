import dataclasses
import datetime as dt

from glue_jobs.lake import ingest_queue, layout, tables
from glue_jobs.ports.notifier import Alert
from glue_jobs.wap import crawl
from tests.support.wap_fixtures import csv_body, land


def test_pending_runs_are_unpublished_manifests_oldest_first():
    keys = [
        "manifests/ingest/ingest_date=2024-03-08/run_id=b.json",
        "manifests/ingest/ingest_date=2024-03-07/run_id=a.json",
        "manifests/ingest/ingest_date=2024-03-08/run_id=c.json",
        "manifests/ingest/README.txt",
    ]
    refs = ingest_queue.manifest_refs(keys)
    assert [r[1] for r in ingest_queue.select_pending(refs, {"c"})] == ["a", "b"]


def test_manifests_are_read_loosely():
    doc = {"symbols": [
        {"symbol": "IBM", "status": "fetched", "raw_key": "raw/x/body.csv", "rows": 100,
         "fetched_at": "2024-03-08T21:30:00.5+00:00", "forming_date": None},
        {"symbol": "AAPL", "status": "fetched", "raw_key": "raw/y/body.json", "csv_key": "raw/y/body.csv",
         "fetched_at": "2024-03-08T16:30:00-05:00", "forming_date": "2024-03-08"},
        {"symbol": "XOM", "status": "failed", "raw_key": None},
        {"symbol": "MSFT", "status": "fetched", "raw_key": "raw/z/body.csv"},
    ]}
    fetches = {f.symbol: f for f in ingest_queue.fetches_from_manifest(doc, "20240308T220000Z-abc")}
    assert set(fetches) == {"IBM", "AAPL", "MSFT"}
    assert fetches["IBM"].fetched_at == "2024-03-08 21:30:00.500000"
    assert fetches["AAPL"].raw_key == "raw/y/body.csv" and fetches["AAPL"].forming_date == "2024-03-08"
    assert fetches["AAPL"].fetched_at == "2024-03-08 21:30:00.000000"
    assert fetches["MSFT"].fetched_at == "2024-03-08 22:00:00.000000"  # no time: the run's start
    assert fetches["MSFT"].rows is None


def test_the_runs_of_a_pipeline_run_are_fixed_at_first_ask_and_marked_published_once(ctx):
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", bodies={"IBM": csv_body([("2024-03-08", 1, 2, 0.5, 1, 9)])})
    chosen = ingest_queue.choose_ingest_runs(ctx.storage, ctx.run_id)
    land(ctx.storage, run_id="i2", ingest_date="2024-03-08", bodies={"IBM": csv_body([("2024-03-08", 1, 2, 0.5, 1, 9)])})
    assert [r.run_id for r in ingest_queue.choose_ingest_runs(ctx.storage, ctx.run_id)] == [r.run_id for r in chosen] == ["i1"]
    assert ingest_queue.mark_published(ctx.storage, chosen, by_run_id=ctx.run_id) == 1
    assert ingest_queue.mark_published(ctx.storage, chosen, by_run_id=ctx.run_id) == 0
    assert [r.run_id for r in ingest_queue.pending_ingest_runs(ctx.storage)] == ["i2"]


def test_crawl_registers_new_partitions_once_and_records_a_drifted_header(ctx):
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", bodies={
        "IBM": csv_body([("2024-03-08", 1, 2, 0.5, 1, 9)]),
        "XOM": csv_body([("2024-03-08", 1, 2, 0.5, 1, 1, 9)], header="\ufefftimestamp,open,high,low,close,adjusted_close,volume"),
    })
    ctx.storage.put_bytes(layout.raw_key("2024-03-08", "IBM", "i1", "json"), b"{}")  # a JSON body beside
    first = crawl.run(ctx)
    assert first["partitions_added"] == 2 and first["schema_drift_partitions"] == 1
    parts = {p.values["symbol"]: p for p in ctx.catalog.list_partitions("stocks", "raw_daily")}
    assert parts["IBM"].columns is None
    assert [c.name for c in parts["XOM"].columns] == ["timestamp", "open", "high", "low", "close", "adjusted_close",
                                                      "volume"]
    again = crawl.run(ctx)
    assert again["partitions_added"] == 0 and again["partitions_already_registered"] == 2


def test_crawl_brings_a_raw_table_declared_before_extra_field_up_to_date(ctx):
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", bodies={"IBM": csv_body([("2024-03-08", 1, 2, 0.5, 1, 9)])})
    declared = tables.raw_daily()
    old = dataclasses.replace(declared, columns=[c for c in declared.columns if c.name != "extra_field"])
    ctx.catalog.create_table(old)
    assert crawl.run(ctx)["partitions_added"] == 1
    assert ctx.catalog.get_table("stocks", "raw_daily") == declared
    ctx.catalog.create_table(old, replace=True)  # registered partitions, old definition
    assert crawl.run(ctx)["partitions_added"] == 0
    assert ctx.catalog.get_table("stocks", "raw_daily") == declared
    assert len(ctx.catalog.list_partitions("stocks", "raw_daily")) == 1  # the upgrade keeps the partitions


def test_crawl_header_parsing():
    assert crawl.parse_header(b'"timestamp", open,high\r\n1,2,3') == ("timestamp", "open", "high")
    assert crawl.parse_header(b"") == ()


def test_local_notifier_records_each_alert_once(ctx):
    alert = Alert(rule="daily_move", subject="AAA moved -9% on 2024-03-08", message="...", run_id="r1",
                  symbol="AAA", trade_date=dt.date(2024, 3, 8).isoformat())
    ctx.notifier.send([alert])
    ctx.notifier.send([alert, Alert(rule="daily_move", subject="BBB", message="", run_id="r2", symbol="BBB",
                                    trade_date="2024-03-08")])
    lines = ctx.storage.get_bytes(layout.ALERTS_KEY).decode().splitlines()
    assert len(lines) == 2 and '"symbol": "BBB"' in lines[1]
