"""A backfill's years have nothing to merge: publish writes them with sql/wap/publish/fresh_year.sql
instead of merge.sql, which must give the same partitions, and must not be taken where merging
matters (a published year, a quarantined row, two rows for one symbol and date)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from glue_jobs.lake import layout, publish_record, trading_calendar, version_manifest
from glue_jobs.lake.run_log import RunLog
from glue_jobs.runtime import local_context
from glue_jobs.wap import publish
from tests.support.contexts import AS_OF
from tests.support.wap_fixtures import bars, csv_body, land, land_synthetic
from workflows.runner import run_wap

UTC = dt.timezone.utc
RUN = "20240308T230000Z-fresh1"


@pytest.mark.parametrize("years, current, held, duplicate_keys, fresh", [
    (["2022", "2023", "2024"], {}, {}, 0, {"2022", "2023", "2024"}),  # a backfill
    (["2023", "2024"], {"2024": "warehouse/x/"}, {}, 0, {"2023"}),  # 2024 is published: merge
    (["2023", "2024"], {}, {"2023": 1}, 0, {"2024"}),  # a quarantined row leaves 2023 to the merge
    (["2023", "2024"], {}, {"2023": 0}, 0, {"2023", "2024"}),
    (["2023", "2024"], {}, {}, 3, set()),  # duplicated keys anywhere: every year is merged
    (["2023", "2024"], {}, {}, None, set()),  # write temp's count unknown: merge
])
def test_which_years_have_nothing_to_merge(years, current, held, duplicate_keys, fresh):
    assert publish.fresh_years(years, current, held, duplicate_keys) == fresh


def _partitions(ctx) -> dict[str, pa.Table]:
    """Each published year's rows as its files hold them, in file order (the order is part
    of what publish promises: sorted by symbol and date)."""
    out = {}
    for p in ctx.catalog.list_partitions(layout.DATABASE, layout.PUBLISHED_TABLE):
        keys = sorted(k for k in ctx.storage.list_keys(p.location) if k.endswith(".parquet"))
        out[p.values["trade_year"]] = pa.concat_tables(pq.read_table(ctx.storage.uri(k)) for k in keys)
    return out


def _location(ctx, year: str) -> str:
    return {p.values["trade_year"]: p.location
            for p in ctx.catalog.list_partitions(layout.DATABASE, layout.PUBLISHED_TABLE)}[year]


def _backfill(root, monkeypatch, *, fresh: bool) -> tuple[dict, dict[str, pa.Table]]:
    ctx = local_context(root, run_id=RUN, as_of=AS_OF)
    land_synthetic(ctx.storage, run_id="20240308T220000Z-i1", as_of=AS_OF, symbols=["BBB", "AAA", "CCC"], days=600)
    with monkeypatch.context() as m:
        if not fresh:
            m.setattr(publish, "PRICES", dataclasses.replace(publish.PRICES, fresh_sql=None))
        stages = run_wap(ctx)
    return stages, _partitions(ctx)


def test_a_backfill_publishes_through_the_fresh_path_what_the_merge_would(tmp_path, monkeypatch):
    stages, fresh = _backfill(tmp_path / "fresh", monkeypatch, fresh=True)
    reference_stages, merged = _backfill(tmp_path / "merged", monkeypatch, fresh=False)
    assert stages["publish"]["partitions_fresh"] == 4  # 2021 to 2024: 600 sessions
    assert reference_stages["publish"]["partitions_fresh"] == 0
    assert sorted(fresh) == sorted(merged) == ["2021", "2022", "2023", "2024"]
    for year in merged:
        assert fresh[year].equals(merged[year]), year
        assert fresh[year].num_rows > 0
    assert stages["publish"]["published_rows"] == reference_stages["publish"]["published_rows"] == 1800


def test_a_quarantined_row_is_not_published_by_a_fresh_year(make_ctx, caplog):
    ctx = make_ctx(run_id=RUN)
    sessions = trading_calendar.last_sessions(AS_OF, 300)  # late 2022 to 2024
    rows = bars("AAA", sessions)
    bad_day = "2023-06-01"
    rows = [(d, o, min(o, c) - 1, lo, c, v) if d == bad_day else (d, o, h, lo, c, v) for d, o, h, lo, c, v in rows]
    land(ctx.storage, run_id="20240308T220000Z-i1", ingest_date="2024-03-08", bodies={"AAA": csv_body(rows)})
    with caplog.at_level(logging.INFO, logger="glue_jobs.wap.publish"):
        stages = run_wap(ctx)
    assert stages["audit"]["quarantined_rows"] == 1
    assert stages["publish"]["daily_prices"]["fresh"] == ["2022", "2024"]  # 2023 is merged
    # the publish summary the run log keeps (and `tickerlake status` shows), and its log line
    summary = {k: stages["publish"][k] for k in (
        "published_rows", "quarantined_rows_published", "partitions_written", "partitions_unchanged",
        "partitions_fresh", "quarantine_partitions_written", "quarantine_partitions_unchanged", "status")}
    assert summary == {"published_rows": 299, "quarantined_rows_published": 1, "partitions_written": 3,
                       "partitions_unchanged": 0, "partitions_fresh": 2, "quarantine_partitions_written": 1,
                       "quarantine_partitions_unchanged": 0, "status": "published"}
    assert stages["publish"]["daily_prices_quarantine"]["written"] == ["2023"]
    assert [r.getMessage() for r in caplog.records if r.name == "glue_jobs.wap.publish" and r.levelno == logging.INFO] \
        == [f"published 299 rows of run {RUN}: partitions written ['2022', '2023', '2024'], unchanged []"]
    published = ctx.engine.query("select trade_date from stocks.daily_prices").column("trade_date").to_pylist()
    assert dt.date.fromisoformat(bad_day) not in published
    assert len(published) == 299


def test_the_later_fetch_wins_when_one_run_brings_a_date_twice(make_ctx):
    ctx = make_ctx(run_id=RUN)
    sessions = trading_calendar.last_sessions(AS_OF, 30)
    rows = bars("AAA", sessions)
    land(ctx.storage, run_id="20240308T210000Z-i1", ingest_date="2024-03-08",
         fetched_at=dt.datetime(2024, 3, 8, 21, tzinfo=UTC), bodies={"AAA": csv_body(rows)})
    day, open_, high, low, close, volume = rows[3]
    revised = [(day, open_, high, low, close, volume + 11)]
    land(ctx.storage, run_id="20240308T220000Z-i2", ingest_date="2024-03-08",
         fetched_at=dt.datetime(2024, 3, 8, 22, tzinfo=UTC), bodies={"AAA": csv_body(revised)})
    stages = run_wap(ctx)
    assert stages["write_temp"]["duplicate_keys"] == 1
    assert stages["publish"]["daily_prices"]["fresh"] == []
    published = ctx.engine.query(f"select volume from stocks.daily_prices where trade_date = date '{day}'")
    assert published.column("volume").to_pylist() == [volume + 11]


def test_a_run_into_a_published_year_merges_and_keeps_its_other_bars(make_ctx):
    first = make_ctx(run_id=RUN)
    land_synthetic(first.storage, run_id="20240308T220000Z-i1", as_of=AS_OF, symbols=["AAA"], days=20)
    assert run_wap(first)["publish"]["daily_prices"]["fresh"] == ["2024"]
    before = first.engine.query("select trade_date, volume from stocks.daily_prices").to_pylist()
    first_location = _location(first, "2024")

    second = make_ctx(run_id="20240311T230000Z-fresh2", as_of=dt.date(2024, 3, 11))
    land(second.storage, run_id="20240311T220000Z-i2", ingest_date="2024-03-11",
         bodies={"AAA": csv_body([("2024-03-11", 10.0, 11.0, 9.5, 10.5, 1000)])})
    stages = run_wap(second)
    assert stages["publish"]["daily_prices"]["fresh"] == []
    after = second.engine.query("select trade_date, volume from stocks.daily_prices").to_pylist()
    assert len(after) == len(before) + 1
    assert all(row in after for row in before)
    # what rollback, doctor and the serving table rely on: the way back to the version before
    # (in the result and the run log's publish record), the new version's manifest, the announcement
    old, new = first_location, _location(second, "2024")
    assert stages["publish"]["daily_prices"]["previous"] == {"2024": old}
    record = RunLog.load(second.storage, second.run_id).get(publish_record.PUBLISH_RECORD)
    assert {y: (e["location"], e["previous"], e["rows"]) for y, e in record["daily_prices"].items()} \
        == {"2024": (new, old, len(after))}
    manifest = version_manifest.read(second.storage, new)
    assert (manifest["table"], manifest["partition"], manifest["location"], manifest["run_id"], manifest["rows"]) \
        == ("daily_prices", {"trade_year": "2024"}, new, second.run_id, len(after))
    assert stages["publish"]["published_manifest"] == layout.published_manifest_key(second.run_id)
