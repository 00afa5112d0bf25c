"""The janitor's plan, from listings and catalog pointers alone (no lake, no I/O)."""
from __future__ import annotations

import datetime as dt

import pytest

from glue_jobs.ops.janitor_plan import TableInfo, describe, plan, run_dir, unmanifested_raw, version_dir
from glue_jobs.ports.storage import ObjectInfo

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc)
WEEK = dt.timedelta(days=7)
PRICES = "warehouse/daily_prices/"


def ago(**delta) -> dt.datetime:
    return NOW - dt.timedelta(**delta)


def obj(key: str, when: dt.datetime | None, size: int = 100) -> ObjectInfo:
    return ObjectInfo(key, size, when)


def v(year: int, version: str) -> str:
    return f"{PRICES}trade_year={year}/v={version}/"


def prices(*locations: str) -> TableInfo:
    return TableInfo("daily_prices", PRICES, True, tuple(locations))


def targets(p) -> list[str]:
    return [d.target for d in p.deletions]


def test_version_and_run_dirs_are_read_from_keys():
    assert version_dir(v(2024, "R1") + "part-0.parquet") == v(2024, "R1")
    assert version_dir("warehouse/t/loose.parquet") is None
    assert run_dir("tmp/tmp_daily_prices/run_id=R9/part.parquet") == ("tmp/tmp_daily_prices/run_id=R9/", "R9")


def test_what_the_catalog_points_to_is_never_deleted_however_old():
    objects = [obj(v(2023, "R1") + "part-0.parquet", ago(days=400)),
               obj(v(2024, "R1") + "part-0.parquet", ago(days=400))]
    result = plan(objects, [prices(v(2023, "R1"), v(2024, "R1"))], now=NOW, retention=dt.timedelta(0))
    assert result.deletions == [] and result.kept == []


def test_a_superseded_version_goes_once_the_current_one_is_older_than_the_retention():
    old, cur = v(2024, "R1"), v(2024, "R2")
    objects = [obj(old + "part-0.parquet", ago(days=30), 700), obj(cur + "part-0.parquet", ago(days=8))]
    result = plan(objects, [prices(cur)], now=NOW, retention=WEEK)
    assert targets(result) == [old]
    (gone,) = result.deletions
    assert gone.keys == (old + "part-0.parquet",) and gone.bytes == 700
    assert "superseded" in gone.reason and "daily_prices/trade_year=2024" in gone.reason


def test_an_old_version_superseded_recently_is_kept_for_readers_still_on_it():
    # written long ago, but out of the catalog only since the current version was published
    old, cur = v(2024, "R1"), v(2024, "R2")
    objects = [obj(old + "part-0.parquet", ago(days=300)), obj(cur + "part-0.parquet", ago(hours=2))]
    result = plan(objects, [prices(cur)], now=NOW, retention=WEEK)
    assert result.deletions == []
    assert [k.target for k in result.kept] == [old]
    assert "kept until 2026-11-27" in result.kept[0].reason


def test_an_orphan_from_a_failed_write_goes_after_the_retention_and_not_before():
    cur, failed = v(2024, "R1"), v(2024, "R2")
    objects = [obj(cur + "part-0.parquet", ago(days=20)), obj(failed + "part-0.parquet", ago(days=8))]
    assert targets(plan(objects, [prices(cur)], now=NOW, retention=WEEK)) == [failed]
    assert targets(plan(objects, [prices(cur)], now=NOW, retention=dt.timedelta(days=9))) == []


def test_a_rolled_back_version_is_kept_for_the_retention_after_the_rollback():
    cur, rolled = v(2024, "R1"), v(2024, "R2")
    objects = [obj(cur + "part-0.parquet", ago(days=20)), obj(rolled + "part-0.parquet", ago(days=10))]
    hints = {rolled: ago(days=1)}
    result = plan(objects, [prices(cur)], now=NOW, retention=WEEK, retired_hints=hints)
    assert result.deletions == [] and [k.target for k in result.kept] == [rolled]


def test_partial_writes_go_after_the_grace_period_but_never_in_the_record_zones():
    objects = [
        obj("warehouse/daily_prices/trade_year=2024/v=R3/.tmp-abc", ago(hours=2)),
        obj("catalog/stocks/.tmp-x1", ago(minutes=5)),  # may be a write in flight
        obj("raw/daily/ingest_date=2024-03-08/symbol=A/run_id=R/.tmp-q", ago(days=90)),
        obj("manifests/ingest/ingest_date=2024-03-08/.tmp-m", ago(days=90)),
        obj("rejected/daily/ingest_date=2024-03-08/symbol=A/run_id=R/.tmp-r", ago(days=90)),
    ]
    result = plan(objects, [prices()], now=NOW, retention=WEEK)
    assert targets(result) == ["warehouse/daily_prices/trade_year=2024/v=R3/.tmp-abc"]
    assert [k.target for k in result.kept] == ["catalog/stocks/.tmp-x1"]


def test_temp_tables_and_data_of_finished_runs_go_those_of_running_runs_stay():
    tables = [
        prices(),
        TableInfo("tmp_daily_prices", "tmp/tmp_daily_prices/run_id=DONE/", False, wap_run_id="DONE"),
        TableInfo("tmp_ingest_fetches", "tmp/tmp_ingest_fetches/run_id=LIVE/", False, wap_run_id="LIVE"),
    ]
    objects = [
        obj("tmp/tmp_daily_prices/run_id=DONE/part-0.parquet", ago(minutes=1), 5000),
        obj("tmp/tmp_ingest_fetches/run_id=LIVE/fetches.csv", ago(minutes=1)),
        obj("tmp/audit/run_id=DONE/passed.json", ago(days=1)),
        obj("tmp/audit/run_id=LIVE/passed.json", ago(days=1)),
        obj("tmp/stray.bin", ago(days=2)),
    ]
    result = plan(objects, tables, now=NOW, retention=WEEK, active_runs={"LIVE"})
    by_target = {d.target: d for d in result.deletions}
    assert sorted(by_target) == ["stocks.tmp_daily_prices", "tmp/audit/run_id=DONE/", "tmp/stray.bin"]
    dropped = by_target["stocks.tmp_daily_prices"]
    assert dropped.table == "tmp_daily_prices" and dropped.keys == ("tmp/tmp_daily_prices/run_id=DONE/part-0.parquet",)
    assert "run DONE" in dropped.reason
    assert result.tables == ["tmp_daily_prices"]
    assert sorted(k.target for k in result.kept) == ["stocks.tmp_ingest_fetches", "tmp/audit/run_id=LIVE/"]


def test_ctas_leftovers_are_dropped_only_when_no_run_is_going():
    tables = [prices(), TableInfo("ctas_0123456789abcdef", "tmp/tmp_daily_prices/run_id=R/", False)]
    assert plan([], tables, now=NOW).tables == ["ctas_0123456789abcdef"]
    assert plan([], tables, now=NOW, active_runs={"R"}).tables == []


def test_an_unpartitioned_table_protects_everything_below_its_location():
    table = TableInfo("snapshot", "warehouse/snapshot/", False)
    objects = [obj("warehouse/snapshot/v=OLD/part-0.parquet", ago(days=100))]
    assert plan(objects, [table], now=NOW).deletions == []


def test_versions_of_a_table_the_catalog_does_not_know_are_left_alone():
    objects = [obj("warehouse/mystery/year=2024/v=R1/part-0.parquet", ago(days=100))]
    result = plan(objects, [prices()], now=NOW)
    assert result.deletions == [] and "no table" in result.kept[0].reason


def test_objects_without_a_time_count_as_new():
    old, cur = v(2024, "R1"), v(2024, "R2")
    objects = [obj(old + "part-0.parquet", None), obj(cur + "part-0.parquet", ago(days=30))]
    assert plan(objects, [prices(cur)], now=NOW).deletions == []


def test_the_record_zones_and_bookkeeping_are_never_planned():
    objects = [obj(k, ago(days=1000)) for k in (
        "raw/daily/ingest_date=2020-01-02/symbol=A/run_id=R/body.csv",
        "rejected/daily/ingest_date=2020-01-02/symbol=A/run_id=R/reason.json",
        "manifests/ingest/ingest_date=2020-01-02/run_id=R.json",
        "runs/R.json", "state/ingestion.json", "catalog/stocks/daily_prices.json", "locks/pipeline.lock")]
    assert plan(objects, [prices()], now=NOW, retention=dt.timedelta(0), grace=dt.timedelta(0)).deletions == []


def test_negative_settings_are_refused():
    with pytest.raises(ValueError, match="must not be negative"):
        plan([], [], now=NOW, retention=dt.timedelta(days=-1))


def test_the_dry_run_text_lists_sizes_and_reasons():
    old, cur = v(2024, "R1"), v(2024, "R2")
    objects = [obj(old + "part-0.parquet", ago(days=30), 2048), obj(cur + "part-0.parquet", ago(days=8))]
    lines = describe(plan(objects, [prices(cur)], now=NOW), dry_run=True)
    assert lines[0] == "janitor would delete 1 object(s), 2.0 KB, and 0 table definition(s)"
    assert lines[1].startswith(f"  - {old}  [1 object(s), 2.0 KB]  daily_prices/trade_year=2024: superseded")


def test_raw_bodies_of_an_ingest_that_died_before_its_manifest_are_reported_never_deleted():
    raw = "raw/daily/ingest_date=2026-11-19/"
    objects = [obj(f"{raw}symbol={s}/run_id=dead/body.csv", ago(hours=8)) for s in ("AAA", "BBB")]
    objects += [obj(f"{raw}symbol=AAA/run_id=done/body.csv", ago(hours=8)),
                obj(f"{raw}symbol=AAA/run_id=landing/body.csv", ago(minutes=5)),  # still landing
                obj(f"{raw}symbol=BBB/run_id=dead2/.tmp-body", ago(hours=8))]  # a partial only
    manifests = ["manifests/ingest/ingest_date=2026-11-19/run_id=done.json"]
    kept = unmanifested_raw(objects, manifests, now=NOW, quiet_for=dt.timedelta(hours=6))
    assert [k.target for k in kept] == [f"{raw}*/run_id=dead/"]
    assert "2 raw bodies (AAA, BBB) of ingest run dead without a manifest" in kept[0].reason
    assert "never deletes raw" in kept[0].reason
