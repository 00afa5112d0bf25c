"""Publish checks the current version of every partition against its manifest before merging:
damage in a partition the run merges into stops the run before anything is switched, naming
each damaged file and the fix; damage in a partition the run does not touch is reported (run
log details, a warning) and left as it is, and the run publishes."""
from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path

import pytest

from glue_jobs.lake import layout, parquet
from glue_jobs.lake.errors import PipelineError
from tests.support.contexts import AS_OF
from tests.support.wap_fixtures import csv_body, land, land_synthetic
from workflows.runner import run_wap

UTC = dt.timezone.utc
FIRST = "20240308T230000Z-dmg001"
SECOND = "20240311T230000Z-dmg002"
NEXT_DAY = dt.date(2024, 3, 11)
FIX = "`tickerlake doctor --repair`"


def _locations(ctx) -> dict[str, str]:
    return {p.values["trade_year"]: p.location
            for p in ctx.catalog.list_partitions(layout.DATABASE, layout.PUBLISHED_TABLE)}


@pytest.fixture
def published(make_ctx):
    """AAA's last 300 sessions published: trade_year 2022, 2023 and 2024, one file each."""
    ctx = make_ctx(run_id=FIRST)
    land_synthetic(ctx.storage, run_id="20240308T220000Z-i1", as_of=AS_OF, symbols=["AAA"], days=300)
    run_wap(ctx)
    assert sorted(_locations(ctx)) == ["2022", "2023", "2024"]
    return ctx


def _truncate(ctx, location: str) -> str:
    """Cut the version's data file in half; the problem check reports for it."""
    key = parquet.data_files(ctx.storage, location)[0]
    path = Path(ctx.storage.uri(key).replace("file://", ""))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return f"{key}: {len(data) // 2} bytes, published with {len(data)} (truncated or rewritten)"


def _add_stray_file(ctx, location: str) -> str:
    """A second data file the version was not published with."""
    source = Path(ctx.storage.uri(parquet.data_files(ctx.storage, location)[0]).replace("file://", ""))
    shutil.copyfile(source, source.with_name("part-00001.parquet"))
    return f"{location}part-00001.parquet: not among the files published in this version"


def _line(year: str, location: str, problems: list[str]) -> str:
    return f"stocks.daily_prices trade_year={year} ({location}): " + "; ".join(problems)


def test_damage_in_a_partition_the_run_does_not_touch_is_reported_and_the_run_publishes(
        published, make_ctx, caplog):
    before = _locations(published)
    # 2022, sorted first, is intact: the check goes on to the damaged year after it
    problems = [_truncate(published, before["2023"]), _add_stray_file(published, before["2023"])]
    expected = _line("2023", before["2023"], problems)

    second = make_ctx(run_id=SECOND, as_of=NEXT_DAY)
    land(second.storage, run_id="20240311T220000Z-i2", ingest_date=NEXT_DAY.isoformat(),
         bodies={"AAA": csv_body([(NEXT_DAY.isoformat(), 10.0, 11.0, 9.5, 10.5, 1000)])})
    with caplog.at_level(logging.WARNING, logger="glue_jobs.wap.publish"):
        stages = run_wap(second)

    result = stages["publish"]
    assert result["daily_prices"]["damaged_untouched_partitions"] == [expected]
    assert result["daily_prices"]["written"] == ["2024"]
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "glue_jobs.wap.publish" and r.levelno == logging.WARNING]
    assert warnings == [f"publish: damaged partition this run does not touch, left as it is: {expected}; "
                        f"run {FIX}"]
    after = _locations(second)
    assert after["2022"] == before["2022"] and after["2023"] == before["2023"]  # left as they are
    assert after["2024"] != before["2024"]
    days = second.engine.query("select trade_date from stocks.daily_prices where trade_year = 2024")
    assert NEXT_DAY in days.column("trade_date").to_pylist()


def test_damage_in_partitions_the_run_merges_into_stops_it_before_any_switch(published, make_ctx):
    before = _locations(published)
    damaged_2023 = _line("2023", before["2023"], [_truncate(published, before["2023"])])
    damaged_2024 = _line("2024", before["2024"], [_truncate(published, before["2024"])])

    second = make_ctx(run_id=SECOND, as_of=NEXT_DAY)
    land(second.storage, run_id="20240311T220000Z-i2", ingest_date=NEXT_DAY.isoformat(),
         fetched_at=dt.datetime(2024, 3, 11, 22, tzinfo=UTC),
         bodies={"AAA": csv_body([(NEXT_DAY.isoformat(), 10.0, 11.0, 9.5, 10.5, 1000),
                                  ("2023-06-01", 10.0, 11.0, 9.5, 10.5, 1000)])})
    with pytest.raises(PipelineError) as raised:
        run_wap(second)

    assert str(raised.value) == (
        f"publish: run {SECOND} merges into damaged partition(s), so nothing was published:\n"
        f"  {damaged_2023}\n"
        f"  {damaged_2024}\n"
        f"  Run {FIX} (it restores the partition from its manifest-checked history or says how to "
        f"re-publish it from raw), then run again.")
    assert _locations(second) == before  # nothing switched
