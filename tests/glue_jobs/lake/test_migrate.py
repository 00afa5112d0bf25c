"""A lake written before the ingest run was named ingest_run_id (tests/fixtures/lakes/
before_ingest_run_id, made by that code) is migrated by the next `tickerlake run`: nothing
published is lost or changed but the column's name, no raw object moves, and a second run
changes nothing more."""
import hashlib
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from glue_jobs.lake import layout, migrate, parquet, tables
from glue_jobs.lake.errors import PipelineError
from glue_jobs.runtime import local_context
from workflows.cli.main import main

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "lakes" / "before_ingest_run_id" / "lake"
SYMBOLS = "AAPL,MSFT,IBM"
FIXTURE_RUNS = ("20261130T105351Z-5f39d1", "20261130T105359Z-2c1fce")
COLUMNS = [c.name for c in tables.PRICE_COLUMNS]


def _run(lake: Path, day: str, start: str = "2025-11-10") -> int:
    return main(["run", "--lake", str(lake), "--source", "synthetic", "--symbols", SYMBOLS, "--date", day,
                 "--start", start, "--no-dashboard"])


# The fixture's bars come from the synthetic walk of its time, which has changed since (it is
# computed per window now): a fetch overlapping them would restate them all. A run that must
# change nothing published fetches only the new day; its second run fetches that day again,
# so identical bars are still recognised against the migrated partition.
NEW_DAY = "2026-01-09"


def _catalog(lake: Path, table: str) -> dict:
    return json.loads((lake / layout.catalog_key(layout.DATABASE, table)).read_text())


def _published_in_files(lake: Path) -> list[tuple]:
    """Every row the catalog publishes, read from the Parquet files themselves (no engine) as
    Athena reads them (timestamps in milliseconds), the ingest-run column under whatever name
    the files give it."""
    rows = []
    for p in _catalog(lake, layout.PUBLISHED_TABLE)["partitions"]:
        for f in sorted((lake / p["location"]).glob("*.parquet")):
            table = parquet.as_athena_reads(pq.read_table(f))
            name = "ingest_run_id" if "ingest_run_id" in table.column_names else "run_id"
            for r in table.to_pylist():
                rows.append((p["values"]["trade_year"], *[r[c] for c in COLUMNS[:-1]], r[name]))
    return sorted(rows)


def _raw_objects(lake: Path) -> dict[str, str]:
    return {str(f.relative_to(lake)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted((lake / "raw").rglob("*")) if f.is_file()}


def _versions(lake: Path) -> set[str]:
    return {str(f.relative_to(lake)) for f in (lake / layout.table_prefix(layout.PUBLISHED_TABLE)).rglob("*.parquet")}


def _query(lake: Path, sql: str) -> list[dict]:
    return local_context(lake).engine.query(sql).to_pylist()


@pytest.fixture
def old_lake(tmp_path) -> Path:
    lake = tmp_path / "lake"
    shutil.copytree(FIXTURE, lake)
    return lake


def test_the_fixture_is_a_lake_of_before(old_lake):
    prices = _catalog(old_lake, layout.PUBLISHED_TABLE)["table"]
    assert "run_id" in [c["name"] for c in prices["columns"]]
    assert "ingest_run_id" not in [c["name"] for c in prices["columns"]]
    raw = _catalog(old_lake, layout.RAW_TABLE)["table"]
    assert [c["name"] for c in raw["partition_keys"]] == migrate.OLD_RAW_KEYS
    assert len(_published_in_files(old_lake)) == 123


def test_the_next_run_migrates_without_losing_a_row_and_a_second_changes_nothing(old_lake):
    before = _published_in_files(old_lake)
    raw_before = _raw_objects(old_lake)
    raw_partitions_before = _catalog(old_lake, layout.RAW_TABLE)["shards"]
    versions_before = _versions(old_lake)

    assert _run(old_lake, NEW_DAY, start=NEW_DAY) == 0

    prices = _catalog(old_lake, layout.PUBLISHED_TABLE)["table"]
    names = [c["name"] for c in prices["columns"]]
    assert "ingest_run_id" in names and "run_id" not in names
    after = _published_in_files(old_lake)
    # every row published before is there, every value the same (the column renamed)
    assert not set(before) - set(after)
    new = sorted(set(after) - set(before))
    assert {r[2].isoformat() for r in new} == {"2026-01-09"}  # the new day's rows, and only those
    assert len(new) == 3
    # through the engine too: the column is ingest_run_id, run_id is gone
    rows = _query(old_lake, "select * from stocks.daily_prices")
    assert len(rows) == len(after)
    assert all("run_id" not in r and r["ingest_run_id"] for r in rows)
    assert {r["ingest_run_id"] for r in rows} >= set(FIXTURE_RUNS)
    # no raw object moved or changed; every raw partition is still registered, under the new key
    assert raw_before.items() <= _raw_objects(old_lake).items()
    raw = local_context(old_lake).catalog
    registered = raw.list_partitions(layout.DATABASE, layout.RAW_TABLE)
    assert [c.name for c in raw.get_table(layout.DATABASE, layout.RAW_TABLE).partition_keys] == \
        ["ingest_date", "symbol", "ingest_run_id"]
    assert len(registered) == 9 and set(raw_partitions_before) < {p.values["ingest_date"] for p in registered}
    assert {p.values["ingest_run_id"] for p in registered} >= set(FIXTURE_RUNS)
    assert {p.location for p in registered} == {str(Path(k).parent) + "/" for k in _raw_objects(old_lake)}
    raw_rows = _query(old_lake, "select ingest_run_id, count(*) as n from stocks.raw_daily group by ingest_run_id")
    assert {r["ingest_run_id"]: r["n"] for r in raw_rows if r["ingest_run_id"] in FIXTURE_RUNS} == \
        {FIXTURE_RUNS[0]: 120, FIXTURE_RUNS[1]: 126}
    # the versions of before stay for the janitor
    assert versions_before <= _versions(old_lake)
    assert migrate.pending(local_context(old_lake)) == []

    catalog_after = _catalog(old_lake, layout.PUBLISHED_TABLE)
    assert _run(old_lake, NEW_DAY, start=NEW_DAY) == 0
    assert _catalog(old_lake, layout.PUBLISHED_TABLE) == catalog_after
    assert _published_in_files(old_lake) == after


def test_ingest_run_id_joins_a_price_to_the_run_that_fetched_it(old_lake):
    assert _run(old_lake, "2026-01-09") == 0
    joined = _query(old_lake, """
        select p.symbol, p.trade_date, p.ingest_run_id, r.run_id, r.as_of, r.status
        from stocks.daily_prices p
        join stocks.pipeline_runs r on p.ingest_run_id = r.run_id""")
    total = _query(old_lake, "select count(*) as n from stocks.daily_prices")[0]["n"]
    assert len(joined) == total  # every row's ingest run is a pipeline run's ingest stage
    assert all(r["trade_date"] <= r["as_of"] for r in joined)
    quarantined = _query(old_lake, """
        select q.ingest_run_id, q.run_id as audited_by, r.status
        from stocks.daily_prices_quarantine q
        join stocks.pipeline_runs r on q.run_id = r.run_id""")
    assert quarantined and all(q["ingest_run_id"] == FIXTURE_RUNS[1] for q in quarantined)


def test_a_crash_midway_is_finished_by_the_next_attempt(old_lake, monkeypatch):
    before = _published_in_files(old_lake)
    ctx = local_context(old_lake, run_id="20261201T000000Z-crash1")
    real_switch = ctx.catalog.switch_partitions
    calls = []

    def switch_one_then_crash(database, name, partitions):
        calls.append(partitions)
        real_switch(database, name, partitions[:1])  # one partition switched, then the process dies
        raise RuntimeError("killed")

    monkeypatch.setattr(ctx.catalog, "switch_partitions", switch_one_then_crash)
    with pytest.raises(RuntimeError, match="killed"):
        migrate.run(ctx)
    monkeypatch.undo()
    assert migrate.pending(local_context(old_lake))  # not done: the table still names run_id
    done = migrate.run(local_context(old_lake, run_id="20261201T000100Z-again1"))
    assert done["daily_prices"]["partitions_rewritten"] == 1  # only the one not switched before
    assert migrate.pending(local_context(old_lake)) == []
    assert _published_in_files(old_lake) == before
    assert migrate.run(local_context(old_lake, run_id="20261201T000200Z-third1")) == {}


def test_a_stage_after_drop_temp_refuses_a_lake_of_before_naming_the_command(old_lake):
    ctx = local_context(old_lake)
    with pytest.raises(PipelineError, match="tickerlake wap"):
        migrate.refuse_if_pending(ctx, "publish")
