"""`rollback --run` on a lake the WAP built: publish day D-1, then D (which rewrites 2023 and
creates 2024 in both tables), roll D back, and the tables hold exactly what they held after
D-1 (content checksums); a later republish blocks the rollback by name; requeueing D's ingest
run publishes it again."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from glue_jobs.lake import ingest_queue, layout, merge_plan, trading_calendar
from glue_jobs.lake.errors import ConfigError
from glue_jobs.lake.ingest_history import history
from glue_jobs.lake.run_log import RunLog
from glue_jobs.ops import janitor, rollback
from glue_jobs.ops.set_aside import requeue
from glue_jobs.runtime import local_context
from tests.support.wap_fixtures import bars, csv_body, land
from workflows.runner import run_wap

UTC = dt.timezone.utc
SYMBOLS = ["AAA", "BBB"]
DAYS = {"D-1": dt.date(2023, 12, 29), "D": dt.date(2024, 1, 5), "D+1": dt.date(2024, 1, 8)}
RUNS = {"D-1": "20231229T230000Z-aaaaaa", "D": "20240105T230000Z-bbbbbb", "D+1": "20240108T230000Z-cccccc"}
BAD = {"D-1": "2023-12-23", "D": "2023-12-30", "D+1": None}  # a Saturday bar: quarantined


def _ingest_id(day: str) -> str:
    return RUNS[day].replace("T23", "T22")


def publish_day(root, day: str, *, sessions: int = 15, seed: int | None = None):
    as_of = DAYS[day]
    ctx = local_context(root, run_id=RUNS[day], as_of=as_of)
    days = trading_calendar.last_sessions(as_of, sessions)
    bodies = {s: csv_body(bars(s, days, seed=list(DAYS).index(day) if seed is None else seed)) for s in SYMBOLS}
    if BAD[day]:
        bodies["ZZZ"] = csv_body([(BAD[day], "9", "10", "8", "9.5", "100")] + bars("ZZZ", days))
    land(ctx.storage, run_id=_ingest_id(day), ingest_date=as_of.isoformat(), bodies=bodies,
         fetched_at=dt.datetime.combine(as_of, dt.time(22), UTC))
    run_wap(ctx)
    run_log = RunLog.load(ctx.storage, ctx.run_id)
    run_log.finish()
    run_log.save()
    return ctx


def checksums(root) -> dict[str, str]:
    reader = local_context(root, run_id="20990101T000000Z-reader")
    prices = reader.engine.query("select * from stocks.daily_prices")
    # a quarantined row names the pipeline run that held it back (run_id): compare the rows themselves
    held = reader.engine.query("select * from stocks.daily_prices_quarantine").drop(["run_id"])
    return {"daily_prices": merge_plan.content_checksum(prices),
            "daily_prices_quarantine": merge_plan.content_checksum(held)}


def locations(ctx, table: str = "daily_prices") -> dict[str, str]:
    return {p.values["trade_year"]: p.location for p in ctx.catalog.list_partitions("stocks", table)}


def rollback_ctx(root, run_id: str = "20240110T120000Z-rb0001"):
    return local_context(root, run_id=run_id)


@pytest.fixture
def root(tmp_path):
    return tmp_path / "lake"


def test_rolling_back_day_d_restores_the_tables_as_they_were_after_d_minus_1(root):
    publish_day(root, "D-1")
    after_d1 = checksums(root)
    d = publish_day(root, "D")
    after_d = checksums(root)
    assert after_d != after_d1
    assert sorted(locations(d)) == ["2023", "2024"]

    summary = rollback.run(rollback_ctx(root), RUNS["D"])

    assert checksums(root) == after_d1
    moved = {(a["table"], a["partition"]) for a in summary["actions"]}
    assert moved == {("daily_prices", "2023"), ("daily_prices", "2024"),
                     ("daily_prices_quarantine", "2023")}
    now = locations(d)
    assert now["2023"] == f"warehouse/daily_prices/trade_year=2023/v={RUNS['D-1']}/"
    assert now["2024"].endswith("-empty/")  # new in D: an empty version, switched with 2023 in one call
    # recorded: the rollback's own run log, the rolled-back run's log, the ingest run's history
    rb_log = json.loads(d.storage.get_bytes(layout.run_log_key("20240110T120000Z-rb0001")))
    assert rb_log["status"] == "succeeded" and rb_log["stages"]["rollback"]["details"]["actions"]
    assert RunLog.load(d.storage, RUNS["D"]).get("rolled_back")["by"] == "20240110T120000Z-rb0001"
    assert [e["action"] for e in history(d.storage, _ingest_id("D"))] == ["rolled_back"]
    runs = d.engine.query("select run_id, status from stocks.pipeline_runs order by run_id").to_pylist()
    assert {"run_id": "20240110T120000Z-rb0001", "status": "succeeded"} in runs

    # D's ingest run stays published: a plain WAP does not silently bring it back
    assert ingest_queue.pending_ingest_runs(d.storage) == []
    quiet = local_context(root, run_id="20240110T130000Z-wap002", as_of=DAYS["D"])
    run_wap(quiet)
    assert checksums(root) == after_d1
    # requeued, it is published again: the tables are as after D
    assert requeue(d.storage, _ingest_id("D"))["status"] == "pending"
    again = local_context(root, run_id="20240110T140000Z-wap003", as_of=DAYS["D"])
    run_wap(again)
    assert checksums(root) == after_d


def test_a_second_rollback_of_the_same_run_changes_nothing(root):
    publish_day(root, "D-1")
    publish_day(root, "D")
    rollback.run(rollback_ctx(root), RUNS["D"])
    before = checksums(root)
    again = rollback.run(rollback_ctx(root, "20240110T120500Z-rb0002"), RUNS["D"])
    assert again["partitions_switched"] == 0 and again["partitions_already_back"] == 3
    assert checksums(root) == before


def test_a_later_republish_blocks_the_rollback_naming_the_later_run(root):
    publish_day(root, "D-1")
    after_d1 = checksums(root)
    publish_day(root, "D")
    later = publish_day(root, "D+1", sessions=4)
    assert locations(later)["2024"].endswith(f"v={RUNS['D+1']}/")
    before = checksums(root)

    with pytest.raises(rollback.RollbackRefused) as refused:
        rollback.run(rollback_ctx(root), RUNS["D"])
    text = str(refused.value)
    assert "trade_year=2024" in text and RUNS["D+1"] in text
    assert f"tickerlake rollback --run {RUNS['D+1']}" in text
    assert checksums(root) == before  # refused: nothing moved
    failed = json.loads(later.storage.get_bytes(layout.run_log_key("20240110T120000Z-rb0001")))
    assert failed["status"] == "failed"

    # newest first, as the message says: then D goes back cleanly
    rollback.run(rollback_ctx(root, "20240110T121000Z-rb0002"), RUNS["D+1"])
    rollback.run(rollback_ctx(root, "20240110T122000Z-rb0003"), RUNS["D"])
    assert checksums(root) == after_d1


def test_force_rolls_back_over_a_later_republish(root):
    publish_day(root, "D-1")
    after_d1 = checksums(root)
    publish_day(root, "D")
    publish_day(root, "D+1", sessions=4)
    summary = rollback.run(rollback_ctx(root), RUNS["D"], force=True)
    assert [a["forced_over"] for a in summary["actions"] if "forced_over" in a] == [RUNS["D+1"]]
    assert checksums(root) == after_d1


def test_a_dry_run_says_what_would_move_and_moves_nothing(root):
    publish_day(root, "D-1")
    d = publish_day(root, "D")
    before = checksums(root)
    summary = rollback.run(rollback_ctx(root), RUNS["D"], dry_run=True)
    lines = rollback.describe(summary)
    assert lines[0] == f"rollback of run {RUNS['D']}: would put back 3 partition(s)"
    assert any("trade_year=2024" in line and "empty version" in line for line in lines)
    assert checksums(root) == before
    assert not d.storage.exists(layout.run_log_key("20240110T120000Z-rb0001"))


def test_a_previous_version_the_janitor_removed_makes_the_rollback_refuse(root):
    d1 = publish_day(root, "D-1")
    publish_day(root, "D")
    later = dt.datetime.now(UTC) + dt.timedelta(days=30)
    janitor.run(d1.storage, d1.catalog, dry_run=False, now=later)
    before = checksums(root)
    with pytest.raises(rollback.RollbackRefused, match="no longer in the lake"):
        rollback.run(rollback_ctx(root), RUNS["D"])
    assert checksums(root) == before


def test_unknown_runs_and_runs_that_published_nothing_are_usage_errors(root):
    publish_day(root, "D-1")
    with pytest.raises(ConfigError, match="no run 'nope'"):
        rollback.run(rollback_ctx(root), "nope")
    empty = local_context(root, run_id="20240102T230000Z-empty1", as_of=DAYS["D-1"])
    run_wap(empty)  # nothing pending: publishes nothing
    with pytest.raises(ConfigError, match="published no partition"):
        rollback.run(rollback_ctx(root), "20240102T230000Z-empty1")
