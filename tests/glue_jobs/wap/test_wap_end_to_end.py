"""The whole WAP on a temporary lake: idempotent re-runs, quarantine with reasons and the
row reconciliation, and a blocked audit that leaves prod byte-identical."""
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from glue_jobs.lake import ingest_queue, layout, trading_calendar
from glue_jobs.lake.errors import AuditBlocked, PipelineError
from glue_jobs.lake.migrate import MigrationFailed
from glue_jobs.ports.storage import put_json
from glue_jobs.runtime import local_context
from glue_jobs.wap import publish
from tests.support.contexts import AS_OF
from tests.support.wap_fixtures import bars, csv_body, land, land_synthetic
from workflows.runner import run_wap

UTC = dt.timezone.utc
BEFORE_RENAME = Path(__file__).resolve().parents[2] / "fixtures" / "lakes" / "before_ingest_run_id" / "lake"
SYMBOLS = [f"S{i:02d}" for i in range(10)]


def _published(ctx):
    return ctx.engine.query("select * from stocks.daily_prices order by symbol, trade_date").to_pylist()


def _prod_bytes(storage):
    """Every byte readers of prod can reach: published files and their catalog documents."""
    tables = (layout.PUBLISHED_TABLE, layout.QUARANTINE_TABLE)
    keys = [k for t in tables for k in storage.list_keys(layout.table_prefix(t))]
    keys += [layout.catalog_key("stocks", t) for t in tables]
    return {k: storage.get_bytes(k) for k in keys if storage.exists(k)}


def _run_log(ctx):
    return json.loads(ctx.storage.get_bytes(layout.run_log_key(ctx.run_id)))


def test_running_the_same_day_again_changes_nothing(make_ctx):
    first = make_ctx(run_id="20240308T230000Z-aaaaaa")
    land_synthetic(first.storage, run_id="20240308T220000Z-i1", as_of=AS_OF, symbols=SYMBOLS, days=100)
    results = run_wap(first)
    assert results["publish"]["published_rows"] == 1000
    assert results["publish"]["partitions_written"] == 2  # 2023 and 2024
    published = _published(first)
    assert len(published) == 1000
    prod = _prod_bytes(first.storage)

    # the same day fetched again: same bars, a later fetch, a new ingest run
    second = make_ctx(run_id="20240308T235000Z-bbbbbb")
    key = land_synthetic(second.storage, run_id="20240308T234000Z-i2", as_of=AS_OF, symbols=SYMBOLS, days=100)
    assert [r.manifest_key for r in ingest_queue.pending_ingest_runs(second.storage)] == [key]
    results = run_wap(second)
    # every bar is recognised as published before the audit: none audited, no partition merged
    assert results["write_temp"]["unchanged_rows"] == 1000
    assert results["audit"]["audited_rows"] == 0 and results["publish"]["published_rows"] == 0
    assert results["publish"]["partitions_written"] == 0
    assert results["publish"]["partitions_unchanged"] == 0
    assert results["publish"]["status"] == "published"  # bars were received and audited: not a no-op run
    assert _run_log(second)["totals"]["reconciled"] is True
    assert _published(second) == published
    assert _prod_bytes(second.storage) == prod  # no new version left behind either

    # and a WAP with nothing pending is a no-op too
    third = make_ctx(run_id="20240309T010000Z-cccccc")
    results = run_wap(third)
    assert results["write_temp"]["raw_rows"] == 0
    assert results["publish"]["status"] == "nothing to publish"  # as the run log tells it
    assert _prod_bytes(third.storage) == prod
    assert _run_log(third)["totals"]["reconciled"] is True


def test_a_later_correction_replaces_the_bar_and_only_its_partition(make_ctx):
    first = make_ctx(run_id="20240308T230000Z-aaaaaa")
    land_synthetic(first.storage, run_id="20240308T220000Z-i1", as_of=AS_OF, symbols=["AAA"], days=100)
    run_wap(first)
    before = {r["trade_date"]: r for r in _published(first)}
    locations = {p.values["trade_year"]: p.location for p in first.catalog.list_partitions("stocks", "daily_prices")}

    second = make_ctx(run_id="20240309T230000Z-bbbbbb")
    day = dt.date(2024, 3, 7)
    old = before[day]
    land(second.storage, run_id="20240309T220000Z-i2", ingest_date="2024-03-09",
         fetched_at=dt.datetime(2024, 3, 9, 22, tzinfo=UTC),
         bodies={"AAA": csv_body([("2024-03-07", old["open"], old["high"] + 1, old["low"], old["close"], 5)])})
    results = run_wap(second)
    assert results["publish"]["partitions_written"] == 1
    after = {r["trade_date"]: r for r in _published(second)}
    assert after[day]["high"] == old["high"] + 1 and after[day]["ingest_run_id"] == "20240309T220000Z-i2"
    assert {d: r for d, r in after.items() if d != day} == {d: r for d, r in before.items() if d != day}
    new_locations = {p.values["trade_year"]: p.location for p in second.catalog.list_partitions("stocks", "daily_prices")}
    assert new_locations["2023"] == locations["2023"]
    assert new_locations["2024"] != locations["2024"]
    assert second.storage.list_keys(locations["2024"])  # the old version stays for readers still on it


def test_bad_rows_are_quarantined_with_reasons_and_every_raw_row_is_accounted_for(make_ctx):
    ctx = make_ctx(run_id="20240308T230000Z-aaaaaa", settings={"audit_max_quarantine_share": 0.2})
    sessions = trading_calendar.last_sessions(AS_OF, 30)
    bodies = {s: csv_body(bars(s, sessions)) for s in SYMBOLS}
    bad = [
        ("2024-03-08", "NaN", "10", "9", "9.5", "100"),    # parse error; also the forming bar
        ("2024-03-07", "-1", "10", "9", "9.5", "100"),     # price below zero and low above open
        ("2024-03-06", "9", "9.2", "8", "9.5", "100"),     # high below close
        ("2024-03-05", "9", "10", "8", "9.5", "100"),      # disagrees with the next row, same fetch
        ("2024-03-05", "9", "10", "8", "9.6", "100"),
        ("2024-03-04", "9", "10", "8", "9.5", "100"),      # an exact copy: dropped, not quarantined
        ("2024-03-04", "9", "10", "8", "9.5", "100"),
        ("2024-03-02", "9", "10", "8", "9.5", "100"),      # a Saturday
        ("2024-03-11", "9", "10", "8", "9.5", "100"),      # after the as-of date
        ("2024-03-01", "9", "10", "8", "9.5", "-3"),       # negative volume
    ]
    bodies["BAD"] = csv_body(bad)
    land(ctx.storage, run_id="20240308T200000Z-i1", ingest_date="2024-03-08",
         fetched_at=dt.datetime(2024, 3, 8, 20, tzinfo=UTC), forming={"BAD": "2024-03-08"}, bodies=bodies)
    results = run_wap(ctx)

    quarantined = ctx.engine.query(
        "select cast(trade_date as varchar) as day, rule, reason, run_id, ingest_run_id "
        "from stocks.daily_prices_quarantine where symbol = 'BAD' order by raw_line").to_pylist()
    by_rule = {q["rule"]: q for q in quarantined}
    assert set(by_rule) == {
        "parse_ok,bar_complete",
        "prices_positive,low_is_lowest",
        "high_is_highest",
        "one_row_per_symbol_and_date",
        "trade_date_is_session",
        "not_after_as_of",
        "volume_not_negative",
    }
    assert len(quarantined) == 8  # both disagreeing rows of 03-05 are held back
    assert by_rule["parse_ok,bar_complete"]["reason"] == (
        "BAD 2024-03-08: open 'NaN' is not a number; "
        "BAD 2024-03-08: bar still forming at fetch time (2024-03-08 20:00:00 UTC)")
    assert by_rule["trade_date_is_session"]["reason"] == "BAD 2024-03-02 (Saturday) is not an NYSE session"
    assert all(q["run_id"] == ctx.run_id and q["ingest_run_id"] == "20240308T200000Z-i1" for q in quarantined)
    good_bad_symbol_rows = ctx.engine.query(
        "select cast(trade_date as varchar) as day from stocks.daily_prices where symbol = 'BAD'").to_pylist()
    assert good_bad_symbol_rows == [{"day": "2024-03-04"}]

    totals = _run_log(ctx)["totals"]
    assert totals["raw_rows"] == 300 + len(bad)
    assert totals["quarantined_rows"] == 8 and totals["duplicates_dropped"] == 1
    assert totals["published_rows"] == 301
    assert totals["raw_rows"] == totals["published_rows"] + totals["quarantined_rows"] + totals["duplicates_dropped"]
    assert totals["reconciled"] is True
    rules = {o["rule"]: o for o in results["audit"]["rules"]}
    assert rules["one_row_per_symbol_and_date"]["failing_rows"] == 2
    assert not rules["one_row_per_symbol_and_date"]["success"]
    assert rules["quarantine_share_below_threshold"]["success"]


def test_quarantine_accumulates_without_repeating_an_ingest_runs_rows(make_ctx):
    ctx = make_ctx(run_id="20240308T230000Z-aaaaaa")
    sessions = trading_calendar.last_sessions(AS_OF, 30)
    bodies = {s: csv_body(bars(s, sessions)) for s in SYMBOLS}
    bodies["BAD"] = csv_body([("2024-03-02", "9", "10", "8", "9.5", "100")])
    land(ctx.storage, run_id="i1", ingest_date="2024-03-08", bodies=bodies)
    run_wap(ctx)
    # the same ingest run audited again (as if after_publish had died before marking it)
    ctx.storage.delete(ctx.storage.list_keys(layout.PUBLISHED_MARKER_PREFIX))
    again = make_ctx(run_id="20240309T230000Z-bbbbbb")
    results = run_wap(again)
    assert results["publish"]["quarantine_partitions_unchanged"] == 1
    count = again.engine.query("select count(*) as n from stocks.daily_prices_quarantine").to_pylist()
    assert count == [{"n": 1}]


@pytest.mark.parametrize("problem", ["too_many_bad_rows", "schema_drift"])
def test_a_blocking_batch_rule_stops_the_run_and_leaves_prod_byte_identical(make_ctx, problem):
    first = make_ctx(run_id="20240307T230000Z-aaaaaa", as_of=dt.date(2024, 3, 7))
    land_synthetic(first.storage, run_id="20240307T220000Z-i1", as_of=dt.date(2024, 3, 7), symbols=SYMBOLS, days=60)
    run_wap(first)
    prod = _prod_bytes(first.storage)

    ctx = make_ctx(run_id="20240308T230000Z-bbbbbb")
    sessions = trading_calendar.last_sessions(AS_OF, 5)
    if problem == "too_many_bad_rows":
        bodies = {s: csv_body([(d.isoformat(), "-1", "1", "1", "1", "1") for d in sessions]) for s in SYMBOLS}
        blocked_by = "quarantine_share_below_threshold"
    else:
        bodies = {s: csv_body(bars(s, sessions)) for s in SYMBOLS}
        bodies["S00"] = csv_body([(d.isoformat(), 1, 2, 0.5, 1.5, 1.4, 100) for d in sessions],
                                 header="timestamp,open,high,low,close,adjusted_close,volume")
        blocked_by = "schema_as_expected"
    land(ctx.storage, run_id="20240308T220000Z-i2", ingest_date="2024-03-08", bodies=bodies)

    with pytest.raises(AuditBlocked, match=blocked_by) as caught:
        run_wap(ctx)
    assert caught.value.exit_code == 3
    with pytest.raises(PipelineError, match="no passing audit verdict"):
        publish.run(ctx)
    assert _prod_bytes(ctx.storage) == prod

    log = _run_log(ctx)
    assert log["stages"]["audit"]["status"] == "blocked"
    outcomes = {o["rule"]: o for o in log["stages"]["audit"]["details"]["rules"]}
    assert outcomes[blocked_by]["success"] is False and outcomes[blocked_by]["example"]
    assert log["stages"]["publish"]["status"] == "pending"  # listed by the run, never started
    # the ingest run stays pending for the next WAP, and someone is told
    assert [r.run_id for r in ingest_queue.pending_ingest_runs(ctx.storage)] == ["20240308T220000Z-i2"]
    alerts = [json.loads(line) for line in ctx.storage.get_bytes(layout.ALERTS_KEY).splitlines()]
    assert [a["rule"] for a in alerts] == ["audit_blocked"]


def test_only_audited_ingest_runs_are_marked_published(make_ctx):
    ctx = make_ctx(run_id="20240308T230000Z-aaaaaa")
    land_synthetic(ctx.storage, run_id="20240308T220000Z-i1", as_of=AS_OF, symbols=["AAA"], days=10)
    run_wap(ctx, ("crawl", "drop_temp", "write_temp", "audit", "publish"))
    land_synthetic(ctx.storage, run_id="20240308T225000Z-i2", as_of=AS_OF, symbols=["BBB"], days=10)
    # even if the run's record of its ingest runs were lost, a run that landed after the
    # audit is not marked published without being processed
    ctx.storage.delete([layout.run_log_key(ctx.run_id)])
    assert run_wap(ctx, ("after_publish",))["after_publish"]["ingest_runs_marked_published"] == 1
    assert [r.run_id for r in ingest_queue.pending_ingest_runs(ctx.storage)] == ["20240308T225000Z-i2"]


def test_publish_on_its_own_refuses_a_lake_of_before_the_rename_by_name_and_leaves_prod_as_it_was(tmp_path):
    """On AWS each stage is its own job: a run audited by the tickerlake of before the rename,
    published by today's, must stop before reading a table that still says run_id. The operator
    reads which stage refused (the stage the state machine shows failed) and the command that
    migrates."""
    lake = tmp_path / "lake"
    shutil.copytree(BEFORE_RENAME, lake)
    run_id = "20261201T000000Z-pub001"
    ctx = local_context(lake, run_id=run_id)
    put_json(ctx.storage, layout.audit_marker_key(run_id), {
        "run_id": run_id, "passed": True, "ingest_run_ids": [],
        "good_rows_by_year": {"2026": 3}, "quarantined_rows_by_year": {"2026": 1}})
    before = _prod_bytes(ctx.storage)
    with pytest.raises(MigrationFailed) as refused:
        publish.run(ctx)
    message = str(refused.value)
    assert message.startswith(f"publish: the lake at {ctx.storage.root} was written before")
    assert "nothing was changed" in message and "tickerlake wap" in message
    assert _prod_bytes(ctx.storage) == before
