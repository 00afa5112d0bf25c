"""The janitor on a lake the pipeline built, with the litter failed writes leave injected:
the dry run changes nothing, the real run removes exactly the litter and old versions, and
readers see the same prod, the same raw zone and every file the catalog points to."""
from __future__ import annotations

import datetime as dt
import os

import pytest

from glue_jobs.lake import layout, merge_plan
from glue_jobs.lake.errors import LockHeld
from glue_jobs.lake.lock import LakeLock
from glue_jobs.lake.run_log import RunLog
from glue_jobs.ops import janitor
from glue_jobs.ports.catalog import TableDef
from glue_jobs.runtime import local_context
from tests.support.wap_fixtures import land_synthetic
from workflows.runner import run_wap

D1, D2 = dt.date(2024, 3, 7), dt.date(2024, 3, 8)
UTC = dt.timezone.utc
SYMBOLS = ["AAA", "BBB", "CCC"]


def _age(storage, key: str, days: float) -> None:
    moment = (dt.datetime.now(UTC) - dt.timedelta(days=days)).timestamp()
    os.utime(storage.uri(key), (moment, moment))


def _prod(ctx) -> str:
    table = ctx.engine.query("select * from stocks.daily_prices")
    return merge_plan.content_checksum(table)


def _everything(storage) -> dict[str, bytes]:
    root = storage.root
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            out[os.path.relpath(path, root)] = open(path, "rb").read()
    return out


def _wap(ctx) -> None:
    """The WAP stages, then the run log closed the way the runner closes it."""
    run_wap(ctx)
    run_log = RunLog.load(ctx.storage, ctx.run_id)
    run_log.finish()
    run_log.save()


@pytest.fixture
def lake(tmp_path):
    """Two published days (the second supersedes 2024's partition), then injected litter."""
    first = local_context(tmp_path / "lake", run_id="20240307T230000Z-aaaaaa", as_of=D1)
    land_synthetic(first.storage, run_id="20240307T220000Z-i1", as_of=D1, symbols=SYMBOLS, days=40)
    _wap(first)
    second = local_context(tmp_path / "lake", run_id="20240308T230000Z-bbbbbb", as_of=D2)
    land_synthetic(second.storage, run_id="20240308T220000Z-i2", as_of=D2, symbols=SYMBOLS, days=40, seed=1)
    _wap(second)
    storage, catalog = second.storage, second.catalog

    litter = {
        # a publish that died after writing its version, before the switch
        "orphan": "warehouse/daily_prices/trade_year=2024/v=20240309T230000Z-dead01/part-00000.parquet",
        # an engine write killed before its rename
        "partial": "warehouse/daily_prices/trade_year=2024/v=20240309T230000Z-dead02/.tmp-part-00000.parquet",
        # a crashed run's temporary table and files
        "temp": "tmp/tmp_daily_prices/run_id=20240309T230000Z-dead01/part-00000.parquet",
        # a partial write in the raw zone: the record zone is never touched
        "raw_partial": "raw/daily/ingest_date=2024-03-08/symbol=AAA/run_id=20240308T220000Z-i2/.tmp-body",
    }
    for key in litter.values():
        storage.put_bytes(key, b"litter")
    catalog.create_table(TableDef("stocks", "tmp_dead_run", "tmp/tmp_daily_prices/run_id=20240309T230000Z-dead01/",
                                  "parquet", list(catalog.get_table("stocks", "tmp_daily_prices").columns),
                                  properties={"wap_run_id": "20240309T230000Z-dead01"}))
    # the first day 30 days ago, the second (the current versions) 12, the failed write 9
    for key in storage.list_keys("") + [litter["partial"], litter["raw_partial"]]:
        _age(storage, key, 30)
    for p in catalog.list_partitions("stocks", "daily_prices"):
        for key in storage.list_keys(p.location):
            _age(storage, key, 12)
    _age(storage, litter["orphan"], 9)
    return second, litter


SUPERSEDED = "warehouse/daily_prices/trade_year=2024/v=20240307T230000Z-aaaaaa/"
ORPHAN = "warehouse/daily_prices/trade_year=2024/v=20240309T230000Z-dead01/"


def test_the_dry_run_lists_the_litter_with_reasons_and_changes_nothing(lake):
    ctx, litter = lake
    before = _everything(ctx.storage)
    report = janitor.run(ctx.storage, ctx.catalog, dry_run=True)
    assert _everything(ctx.storage) == before
    planned = {d["target"]: d for d in report["deletions"]}
    assert {ORPHAN, SUPERSEDED, litter["partial"], "stocks.tmp_dead_run", "stocks.tmp_daily_prices"} <= set(planned)
    assert "superseded" in planned[SUPERSEDED]["reason"] and "failed" in planned[ORPHAN]["reason"]
    assert planned[ORPHAN]["bytes"] == len(b"litter")
    assert report["lines"][0].startswith("janitor would delete ")
    assert not any(t.startswith(("raw/", "rejected/", "manifests/")) for t in planned)
    # with a longer retention the failed write (9 days old) is kept, and the plan says until when
    longer = janitor.run(ctx.storage, ctx.catalog, dry_run=True, retention=dt.timedelta(days=10))
    kept = {k["target"]: k["reason"] for k in longer["kept"]}
    assert ORPHAN in kept and "kept until" in kept[ORPHAN]
    assert SUPERSEDED in {d["target"] for d in longer["deletions"]}
    assert _everything(ctx.storage) == before


def test_cleaning_keeps_prod_raw_and_every_current_file(lake):
    ctx, litter = lake
    prod = _prod(ctx)
    raw = {k: ctx.storage.get_bytes(k) for k in ctx.storage.list_keys("raw/")}
    current = [k for p in ctx.catalog.list_partitions("stocks", "daily_prices")
               for k in ctx.storage.list_keys(p.location)]

    report = janitor.run(ctx.storage, ctx.catalog, dry_run=False)

    for name in ("orphan", "partial", "temp"):
        assert not os.path.exists(ctx.storage.uri(litter[name])), name
    assert os.path.exists(ctx.storage.uri(litter["raw_partial"]))
    assert {k: ctx.storage.get_bytes(k) for k in ctx.storage.list_keys("raw/")} == raw
    assert all(ctx.storage.exists(k) for k in current)
    assert not [t for t in ctx.catalog.list_tables("stocks") if t.startswith("tmp_")]
    assert ctx.storage.list_keys(layout.TMP_PREFIX) == []
    fresh = local_context(ctx.storage.root, run_id="20240310T000000Z-reader", as_of=D2)
    assert _prod(fresh) == prod
    # what went is on record
    assert ctx.storage.exists(layout.janitor_report_key(report["run_id"]))
    # and a second pass finds nothing more to do until the retention passes
    assert janitor.run(ctx.storage, ctx.catalog, dry_run=True)["deletions"] == []


def test_versions_go_once_out_of_the_catalog_for_the_retention(lake):
    ctx, litter = lake
    janitor.run(ctx.storage, ctx.catalog, dry_run=False, retention=dt.timedelta(days=13))
    assert ctx.storage.list_keys(SUPERSEDED) and os.path.exists(ctx.storage.uri(litter["orphan"]))
    janitor.run(ctx.storage, ctx.catalog, dry_run=False, retention=dt.timedelta(days=10))
    assert ctx.storage.list_keys(SUPERSEDED) == [] and os.path.exists(ctx.storage.uri(litter["orphan"]))
    janitor.run(ctx.storage, ctx.catalog, dry_run=False, retention=dt.timedelta(days=7))
    assert not os.path.exists(ctx.storage.uri(litter["orphan"]))
    for p in ctx.catalog.list_partitions("stocks", "daily_prices"):
        assert ctx.storage.list_keys(p.location)


def test_the_janitor_waits_for_no_one_it_refuses_while_a_run_holds_the_lock(lake):
    ctx, litter = lake
    with LakeLock(ctx.storage, "20240311T220000Z-busy01"):
        with pytest.raises(LockHeld, match="20240311T220000Z-busy01"):
            janitor.run(ctx.storage, ctx.catalog, dry_run=False)
    assert os.path.exists(ctx.storage.uri(litter["orphan"]))


def test_bodies_an_ingest_left_without_a_manifest_are_reported_and_kept(lake):
    ctx, _ = lake
    key = layout.raw_key("2024-03-09", "AAA", "20240309T220000Z-died")
    ctx.storage.put_bytes(key, b"timestamp,open,high,low,close,volume\r\n2024-03-08,1,2,0.5,1.5,100\r\n")
    _age(ctx.storage, key, 1)
    report = janitor.run(ctx.storage, ctx.catalog, dry_run=False)
    assert ctx.storage.exists(key)
    line = next(x for x in report["lines"] if "20240309T220000Z-died" in x)
    assert "1 raw body (AAA) of ingest run 20240309T220000Z-died without a manifest" in line
