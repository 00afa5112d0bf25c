"""Publish in segments: late in a year the partition is a settled file and a recent one
(glue_jobs/lake/segments.py). A day whose bars are all recent rewrites only the recent file and
carries the settled one into the new version untouched; the published rows are what a merge of
the whole year gives, the new version is complete by its manifest, and removing the old
version (the janitor) leaves it whole."""
from __future__ import annotations

import datetime as dt
import os

import pyarrow.parquet as pq
import pytest

from glue_jobs.lake import layout, trading_calendar, version_manifest
from glue_jobs.runtime import local_context
from glue_jobs.wap import publish
from tests.support.wap_fixtures import bars, csv_body, land
from workflows.runner import run_wap

UTC = dt.timezone.utc
SYMBOLS = ["BBB", "AAA", "CCC"]
BACKFILL_DAY = dt.date(2024, 11, 26)
DAY = dt.date(2024, 11, 27)  # the recent segment starts on 2024-10-01 for both
SESSIONS = trading_calendar.last_sessions(DAY, 301)  # oldest first, DAY last
SERIES = {s: bars(s, SESSIONS) for s in SYMBOLS}  # newest first


def _published(ctx) -> list[dict]:
    return ctx.engine.query("select * from stocks.daily_prices order by symbol, trade_date").to_pylist()


def _location(ctx, year: str) -> str:
    return {p.values["trade_year"]: p.location
            for p in ctx.catalog.list_partitions(layout.DATABASE, layout.PUBLISHED_TABLE)}[year]


def _files(ctx, location: str) -> dict[str, str]:
    """File name -> the lake key of each data file of a version."""
    return {k.rsplit("/", 1)[-1]: k for k in ctx.storage.list_keys(location) if k.endswith(".parquet")}


def _compact_day(ctx, restated: dict[str, dt.date]) -> None:
    """DAY's compact fetch: each symbol's last 5 sessions, one bar per symbol in `restated`
    with a higher high (a vendor's correction)."""
    bodies = {}
    for symbol in SYMBOLS:
        rows = [list(r) for r in SERIES[symbol][:5]]
        for row in rows:
            if restated.get(symbol) == dt.date.fromisoformat(row[0]):
                row[2] = round(row[2] + 1, 4)
        bodies[symbol] = csv_body([tuple(r) for r in rows])
    land(ctx.storage, run_id="20241127T220000Z-i2", ingest_date=DAY.isoformat(),
         fetched_at=dt.datetime(2024, 11, 27, 22, tzinfo=UTC), bodies=bodies)


@pytest.fixture
def backfilled(tmp_path):
    ctx = local_context(tmp_path / "lake", run_id="20241126T230000Z-seg001", as_of=BACKFILL_DAY)
    land(ctx.storage, run_id="20241126T220000Z-i1", ingest_date=BACKFILL_DAY.isoformat(),
         bodies={s: csv_body(SERIES[s][1:]) for s in SYMBOLS})
    run_wap(ctx)
    return tmp_path / "lake"


def _day(root, run_id: str = "20241127T230000Z-seg002"):
    return local_context(root, run_id=run_id, as_of=DAY)


def test_a_backfill_publishes_the_year_as_a_settled_and_a_recent_file_sorted_by_symbol_and_date(backfilled):
    ctx = _day(backfilled)
    files = _files(ctx, _location(ctx, "2024"))
    assert sorted(files) == ["seg-20240101-20240930-00000.parquet", "seg-20241001-20241231-00000.parquet"]
    assert sorted(_files(ctx, _location(ctx, "2023"))) == ["seg-20230101-20231231-00000.parquet"]
    for name, key in files.items():
        rows = pq.read_table(ctx.storage.uri(key)).select(["symbol", "trade_date"]).to_pylist()
        first, last = (dt.datetime.strptime(part, "%Y%m%d").date() for part in name.split("-")[1:3])
        assert rows == sorted(rows, key=lambda r: (r["symbol"], r["trade_date"]))
        assert all(first <= r["trade_date"] <= last for r in rows)


def test_a_recent_day_rewrites_the_recent_file_and_carries_the_settled_one(backfilled):
    before_ctx = _day(backfilled, "20241127T000000Z-look01")
    before = {(r["symbol"], r["trade_date"]): r for r in _published(before_ctx)}
    old = _location(before_ctx, "2024")
    old_files = _files(before_ctx, old)
    old_manifest = version_manifest.read(before_ctx.storage, old)

    ctx = _day(backfilled)
    _compact_day(ctx, {"BBB": SESSIONS[-3]})
    results = run_wap(ctx)

    assert results["publish"]["partitions_written"] == 1
    new = _location(ctx, "2024")
    assert new != old
    rows = _published(ctx)
    after = {(r["symbol"], r["trade_date"]): r for r in rows}
    assert len(after) == len(rows)  # one row per symbol and date: no segment read twice
    # the whole year's merge: DAY's bars added, the restated bar replaced, nothing else moved
    assert set(after) == set(before) | {(s, DAY) for s in SYMBOLS}
    changed = {k for k in before if after[k] != before[k]}
    assert changed == {("BBB", SESSIONS[-3])}
    assert after[("BBB", SESSIONS[-3])]["high"] == pytest.approx(before[("BBB", SESSIONS[-3])]["high"] + 1)
    new_files = _files(ctx, new)
    settled = "seg-20240101-20240930-00000.parquet"
    assert sorted(new_files) == sorted(old_files)
    # the settled file is the old one's bytes, not a rewrite of them
    assert os.stat(ctx.storage.uri(new_files[settled])).st_ino == os.stat(ctx.storage.uri(old_files[settled])).st_ino
    recent = "seg-20241001-20241231-00000.parquet"
    assert os.stat(ctx.storage.uri(new_files[recent])).st_ino != os.stat(ctx.storage.uri(old_files[recent])).st_ino
    # complete by its manifest: every file, with the settled entry taken from the old manifest
    assert version_manifest.check(ctx.storage, new) == []
    entries = {e["key"].rsplit("/", 1)[-1]: e for e in version_manifest.read(ctx.storage, new)["files"]}
    old_entries = {e["key"].rsplit("/", 1)[-1]: e for e in old_manifest["files"]}
    assert entries[settled]["sha256"] == old_entries[settled]["sha256"]
    assert version_manifest.read(ctx.storage, new)["ingest_runs"] == ["20241126T220000Z-i1", "20241127T220000Z-i2"]
    # the janitor removing the old version leaves the new one whole
    ctx.storage.delete(ctx.storage.list_keys(old))
    assert version_manifest.check(ctx.storage, new) == []
    assert {(r["symbol"], r["trade_date"]): r for r in _published(_day(backfilled, "20241128T000000Z-look02"))} == after


def test_a_restated_settled_bar_rewrites_the_settled_file_too(backfilled):
    ctx = _day(backfilled)
    march = dt.date(2024, 3, 7)
    bodies = {"AAA": csv_body([tuple(r) if r[0] != march.isoformat() else (r[0], r[1], round(r[2] + 1, 4), *r[3:])
                               for r in SERIES["AAA"][:5] + [r for r in SERIES["AAA"] if r[0] == march.isoformat()]])}
    land(ctx.storage, run_id="20241127T220000Z-i2", ingest_date=DAY.isoformat(),
         fetched_at=dt.datetime(2024, 11, 27, 22, tzinfo=UTC), bodies=bodies)
    old_files = _files(ctx, _location(ctx, "2024"))
    run_wap(ctx)
    new_files = _files(ctx, _location(ctx, "2024"))
    settled = "seg-20240101-20240930-00000.parquet"
    assert os.stat(ctx.storage.uri(new_files[settled])).st_ino != os.stat(ctx.storage.uri(old_files[settled])).st_ino
    row = ctx.engine.query("select high from stocks.daily_prices where symbol = 'AAA' "
                           "and trade_date = date '2024-03-07'").to_pylist()
    assert row == [{"high": pytest.approx([r for r in SERIES["AAA"] if r[0] == march.isoformat()][0][2] + 1)}]
    keys = [(r["symbol"], r["trade_date"]) for r in _published(ctx)]
    assert len(keys) == len(set(keys)) == 3 * 300 + 1  # DAY's bar of AAA, each bar once
    assert version_manifest.check(ctx.storage, _location(ctx, "2024")) == []


def test_a_publish_retried_after_its_switch_writes_no_version(backfilled):
    ctx = _day(backfilled)
    _compact_day(ctx, {"BBB": SESSIONS[-3]})
    run_wap(ctx)
    # the same staged rows merged again into the version they made: the recent segment comes
    # out with the same rows, the settled one is not touched, so nothing is switched or kept
    _publish_again_changes_nothing(ctx)


def _publish_again_changes_nothing(ctx) -> None:
    """Publish the run once more: the year counts as unchanged, the catalog still points at the
    same version, and no file is left of the version the retry began."""
    location = _location(ctx, "2024")
    before = ctx.storage.list_keys("warehouse/daily_prices/trade_year=2024/")
    results = publish.run(ctx)
    assert results["partitions_written"] == 0 and results["partitions_unchanged"] == 1
    assert _location(ctx, "2024") == location
    assert ctx.storage.list_keys("warehouse/daily_prices/trade_year=2024/") == before


def test_a_retried_publish_of_a_settled_correction_alone_leaves_no_file_behind(backfilled):
    """A run whose only row is an old bar's correction (a dropped file, a restatement months
    back) merges the settled segment and carries the recent one, in that order. Retried, the
    merged segment comes out the same, and every file of the version it began, the merged one
    too, is removed again."""
    ctx = _day(backfilled)
    march = [r for r in SERIES["AAA"] if r[0] == "2024-03-07"][0]
    land(ctx.storage, run_id="20241127T220000Z-i2", ingest_date=DAY.isoformat(),
         fetched_at=dt.datetime(2024, 11, 27, 22, tzinfo=UTC),
         bodies={"AAA": csv_body([(march[0], march[1], round(march[2] + 1, 4), *march[3:])])})
    run_wap(ctx)
    _publish_again_changes_nothing(ctx)


@pytest.mark.parametrize("without_manifest", [False, True], ids=["boundary moved", "version without a manifest"])
def test_a_day_that_changes_no_bar_keeps_the_published_version_it_cannot_compare_by_segment(tmp_path, without_manifest):
    """The version was cut on 2024-09-01 (written 2024-11-14); on 2024-11-15 the boundary is
    2024-10-01, so every segment is merged anew and none can be compared with a file of its own;
    a version published before manifests existed has no segments to compare either. The run's
    only bar is stale (fetched before the published one, so it loses): the year's rows come out
    as they were, and publish keeps the published version instead of writing a new one."""
    written, day = dt.date(2024, 11, 14), dt.date(2024, 11, 15)
    series = bars("AAA", trading_calendar.last_sessions(written, 60))  # newest first
    first = local_context(tmp_path / "lake", run_id="20241114T230000Z-seg101", as_of=written)
    land(first.storage, run_id="20241114T220000Z-i1", ingest_date=written.isoformat(),
         fetched_at=dt.datetime(2024, 11, 14, 22, tzinfo=UTC), bodies={"AAA": csv_body(series)})
    run_wap(first)
    assert sorted(_files(first, _location(first, "2024"))) == [
        "seg-20240101-20240831-00000.parquet", "seg-20240901-20241231-00000.parquet"]
    location, before = _location(first, "2024"), _published(first)
    if without_manifest:
        first.storage.delete([layout.version_manifest_key(location)])

    ctx = local_context(tmp_path / "lake", run_id="20241115T230000Z-seg102", as_of=day)
    stale = series[1][:5] + (series[1][5] + 5,)
    land(ctx.storage, run_id="20241115T220000Z-i2", ingest_date=day.isoformat(),
         fetched_at=dt.datetime(2024, 11, 14, 21, tzinfo=UTC), bodies={"AAA": csv_body([stale])})
    results = run_wap(ctx)

    assert (results["publish"]["partitions_written"], results["publish"]["partitions_unchanged"]) == (0, 1)
    assert _location(ctx, "2024") == location
    assert _published(ctx) == before


def test_a_settled_file_damaged_before_its_carry_is_still_found_damaged_in_the_new_version(backfilled):
    """A carry takes the file's entry from the old manifest, not a checksum of the bytes as they
    are now: a same-size rewrite of the settled file (which publish's cheap look before merging,
    sizes and footers, does not see) stays visible to the checksum check (`tickerlake doctor`)
    in the version it was carried into, instead of being recorded there as sound."""
    ctx = _day(backfilled)
    settled = "seg-20240101-20240930-00000.parquet"
    path = ctx.storage.uri(_files(ctx, _location(ctx, "2024"))[settled])
    with open(path, "r+b") as f:  # in place: the carry links this very file
        data = f.read()
        at = data.rindex(b"DuckDB")  # the footer's created_by text: still a readable file
        f.seek(at)
        f.write(b"DuckDX")
    assert version_manifest.check(ctx.storage, _location(ctx, "2024"), checksum=False) == []

    _compact_day(ctx, {"BBB": SESSIONS[-3]})
    run_wap(ctx)

    new = _location(ctx, "2024")
    assert os.stat(ctx.storage.uri(_files(ctx, new)[settled])).st_ino == os.stat(path).st_ino  # carried
    problems = version_manifest.check(ctx.storage, new)
    assert len(problems) == 1 and settled in problems[0]
