"""With three or more runs, rolling back the newest returns each partition to the version just
before it, not to the first one ever recorded: on the plan, whether the run logs record the
previous locations or not, and on a lake the WAP built."""
from __future__ import annotations

import datetime as dt

from glue_jobs.lake import merge_plan, trading_calendar
from glue_jobs.lake.run_log import RunLog
from glue_jobs.ops import rollback
from glue_jobs.ops.rollback_plan import Change, plan_rollback
from glue_jobs.runtime import local_context
from tests.support.wap_fixtures import bars, csv_body, land
from workflows.runner import run_wap

P = "daily_prices"
UTC = dt.timezone.utc


def loc(version: str) -> str:
    return f"warehouse/daily_prices/trade_year=2024/v={version}/"


def test_the_newest_of_four_runs_goes_back_to_the_third_with_recorded_previous_locations():
    history = [Change("R1", "publish", P, "2024", loc("R1"), None),
               Change("R2", "publish", P, "2024", loc("R2"), loc("R1")),
               Change("R3", "publish", P, "2024", loc("R3"), loc("R2")),
               Change("R4", "publish", P, "2024", loc("R4"), loc("R3"))]
    result = plan_rollback("R4", history, {(P, "2024"): loc("R4")})
    assert [(a.current, a.to) for a in result.actions] == [(loc("R4"), loc("R3"))]


def test_the_newest_of_four_runs_goes_back_to_the_third_from_records_without_previous_locations():
    # run logs from before publish kept its record: the previous version is the latest earlier run's,
    # whatever order the run logs were read in
    history = [Change(r, "publish", P, "2024", loc(r), "?unknown") for r in ("R3", "R1", "R4", "R2")]
    result = plan_rollback("R4", history, {(P, "2024"): loc("R4")})
    assert [(a.current, a.to) for a in result.actions] == [(loc("R4"), loc("R3"))]
    result = plan_rollback("R3", history, {(P, "2024"): loc("R3")})
    assert [(a.current, a.to) for a in result.actions] == [(loc("R3"), loc("R2"))]


DAYS = [dt.date(2024, 3, 5), dt.date(2024, 3, 6), dt.date(2024, 3, 7)]


def _publish(root, i: int):
    as_of = DAYS[i]
    run_id = f"{as_of:%Y%m%d}T230000Z-run00{i}"
    ctx = local_context(root, run_id=run_id, as_of=as_of)
    sessions = trading_calendar.last_sessions(as_of, 3)
    land(ctx.storage, run_id=f"{as_of:%Y%m%d}T220000Z-ing00{i}", ingest_date=as_of.isoformat(),
         bodies={"AAA": csv_body(bars("AAA", sessions, seed=i))}, fetched_at=dt.datetime.combine(as_of, dt.time(22), UTC))
    run_wap(ctx)
    run_log = RunLog.load(ctx.storage, ctx.run_id)
    run_log.finish()
    run_log.save()
    return run_id


def _prices(root):
    reader = local_context(root, run_id="20990101T000000Z-reader")
    return merge_plan.content_checksum(reader.engine.query("select * from stocks.daily_prices"))


def test_rolling_back_the_newest_of_three_runs_restores_the_table_after_the_second(tmp_path):
    root = tmp_path / "lake"
    _publish(root, 0)
    after_first = _prices(root)
    _publish(root, 1)
    after_second = _prices(root)
    newest = _publish(root, 2)
    assert len({after_first, after_second, _prices(root)}) == 3  # each run changed 2024

    summary = rollback.run(local_context(root, run_id="20240308T120000Z-rb0001"), newest)
    assert [(a["partition"], a["to"]) for a in summary["actions"] if a["table"] == P] == [
        ("2024", "warehouse/daily_prices/trade_year=2024/v=20240306T230000Z-run001/")]
    assert _prices(root) == after_second
