"""stocks.symbol_years, the dashboard's summary of each symbol's years, is derived data: after
every change to stocks.daily_prices that the lake makes (a backfill, a day that opens a year, a
corrected old year, rollbacks of both) it holds exactly what a full recompute from the
published table gives, and a day writes only the summary of the year it touched."""
from __future__ import annotations

import datetime as dt

import pytest

from glue_jobs.lake import symbol_years, trading_calendar
from glue_jobs.lake.run_log import RunLog
from glue_jobs.ops import rollback
from glue_jobs.runtime import local_context
from tests.support.symbol_years import kept_and_recomputed
from tests.support.wap_fixtures import bars, csv_body, land
from workflows.runner import run_wap

UTC = dt.timezone.utc
BACKFILL, DAY = dt.date(2023, 12, 29), dt.date(2024, 1, 8)
SESSIONS = trading_calendar.last_sessions(DAY, 290)  # from late 2022 into 2024
BAR = {s: {row[0]: row for row in bars(s, SESSIONS, seed=3)} for s in ("AAA", "BBB", "CCC")}
GAP = dt.date(2023, 6, 14)  # a session BBB's first fetch lacked, sent in a later correction
RESTATED = dt.date(2023, 3, 1)  # a bar of BBB the correction restates


def _body(symbol: str, days, *, restate: dt.date | None = None) -> bytes:
    rows = [BAR[symbol][d.isoformat()] for d in sorted(days, reverse=True)]
    if restate:
        rows = [(r[0], r[1], r[2] * 1.1, r[3], r[4], r[5]) if r[0] == restate.isoformat() else r for r in rows]
    return csv_body(rows)


def _publish(root, run_id: str, as_of: dt.date, bodies: dict[str, bytes]):
    ctx = local_context(root, run_id=run_id, as_of=as_of)
    land(ctx.storage, run_id=run_id.replace("T23", "T22"), ingest_date=as_of.isoformat(), bodies=bodies,
         fetched_at=dt.datetime.combine(as_of, dt.time(22), UTC))
    run_wap(ctx)
    log = RunLog.load(ctx.storage, run_id)
    log.finish()
    log.save()
    return log.doc["stages"]["after_publish"]["details"]


def test_the_summary_equals_a_recompute_after_a_day_a_corrected_old_year_and_rollbacks(tmp_path):
    root = tmp_path / "lake"
    first = [d for d in SESSIONS if d <= BACKFILL]
    details = _publish(root, "20231229T230000Z-aaaaaa", BACKFILL, {
        "AAA": _body("AAA", first), "BBB": _body("BBB", [d for d in first if d != GAP])})
    assert sorted(details["symbol_years_written"]) == ["2022", "2023"]
    kept, full = kept_and_recomputed(root)
    assert kept == full and len(full) == 4
    after_backfill = kept

    # a day (its fetch repeats the last bars of 2023 as they are): only 2024's summary is written
    recent = [d for d in SESSIONS if d > dt.date(2023, 12, 20)]
    details = _publish(root, "20240108T230000Z-bbbbbb", DAY, {s: _body(s, recent) for s in ("AAA", "BBB")})
    kept, full = kept_and_recomputed(root)
    assert kept == full and kept != after_backfill
    assert details["symbol_years_written"] == ["2024"]
    after_day = kept

    # a corrected old year: BBB's missing 2023 session arrives with a restated bar, and a symbol
    # whose history is only in 2023
    old = [d for d in SESSIONS if d.year == 2023]
    details = _publish(root, "20240108T233000Z-cccccc", DAY, {
        "BBB": _body("BBB", [GAP, RESTATED], restate=RESTATED), "CCC": _body("CCC", old[:40])})
    kept, full = kept_and_recomputed(root)
    assert kept == full and kept != after_day
    assert details["symbol_years_written"] == ["2023"]
    assert ("BBB", 2023) in {(r[0], r[1]) for r in kept} and "CCC" in {r[0] for r in kept}

    # rolling the correction back puts back the summary of the version it replaced, unwritten
    summary = rollback.run(local_context(root, run_id="20240109T100000Z-rb0001"), "20240108T233000Z-cccccc")
    kept, full = kept_and_recomputed(root)
    assert kept == full == after_day
    assert summary.get("symbol_years_reused") == ["2023"] and summary.get("symbol_years_written") == []

    # rolling the day back leaves 2024 an empty version, whose summary is empty
    summary = rollback.run(local_context(root, run_id="20240109T110000Z-rb0002"), "20240108T230000Z-bbbbbb")
    kept, full = kept_and_recomputed(root)
    assert kept == full == after_backfill
    assert summary.get("symbol_years_written") == ["2024"]


def test_a_summary_write_that_stopped_before_its_manifest_is_written_again(tmp_path):
    root = tmp_path / "lake"
    days = [d for d in SESSIONS if dt.date(2023, 12, 1) <= d <= BACKFILL]
    _publish(root, "20231229T230000Z-aaaaaa", BACKFILL, {"AAA": _body("AAA", days)})
    ctx = local_context(root, run_id="20240106T000000Z-sync01")
    (year,) = ctx.catalog.list_partitions("stocks", "symbol_years")
    # the catalog forgets 2023's summary and a stray file (a write that never finished) is where it goes
    ctx.catalog.drop_partitions("stocks", "symbol_years", [{"trade_year": "2023"}])
    ctx.storage.delete([year.location + "_manifest.json"])
    ctx.storage.put_bytes(year.location + "part-00000.parquet", b"not parquet")
    done = symbol_years.sync(ctx)
    kept, full = kept_and_recomputed(root)
    assert kept == full
    assert done["symbol_years_written"] == ["2023"]


@pytest.mark.parametrize("prices, summaries, switch, drop", [
    # in step: nothing to do
    ({"2023": "warehouse/daily_prices/trade_year=2023/v=R1/"},
     {"2023": "warehouse/symbol_years/trade_year=2023/v=R1/"}, {}, []),
    # a new version of 2023 (a day, a correction, a rollback), a year without a summary, a year gone
    ({"2023": "warehouse/daily_prices/trade_year=2023/v=R2/", "2024": "warehouse/daily_prices/trade_year=2024/v=R2-2/"},
     {"2023": "warehouse/symbol_years/trade_year=2023/v=R1/", "2019": "warehouse/symbol_years/trade_year=2019/v=R0/"},
     {"2023": ("warehouse/symbol_years/trade_year=2023/v=R2/", "warehouse/daily_prices/trade_year=2023/v=R2/"),
      "2024": ("warehouse/symbol_years/trade_year=2024/v=R2-2/", "warehouse/daily_prices/trade_year=2024/v=R2-2/")},
     ["2019"]),
])
def test_the_plan_switches_each_year_whose_summary_is_of_another_version(prices, summaries, switch, drop):
    planned = symbol_years.plan(prices, summaries)
    assert planned.switch == switch and planned.drop == drop


def test_a_version_outside_the_tables_folder_gets_a_summary_named_by_its_location():
    a = symbol_years.summary_location("2023", "elsewhere/prices/2023/")
    assert a.startswith("warehouse/symbol_years/trade_year=2023/v=of-") and a.endswith("/")
    assert a != symbol_years.summary_location("2023", "elsewhere/prices/2023b/")
