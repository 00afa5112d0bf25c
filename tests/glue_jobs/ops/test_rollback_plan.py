"""Rollback planning from recorded switches and the catalog as it is (no lake, no I/O)."""
from __future__ import annotations

from glue_jobs.lake.publish_record import merge_publish_record
from glue_jobs.ops.rollback_plan import Change, changes_in, plan_rollback, refusal
from tests.support.rollback_changes import P, empty, loc, pub

HISTORY = [pub("R1", "2023", None), pub("R2", "2023", loc("2023", "R1")), pub("R2", "2024", None)]


def test_each_partition_goes_back_where_it_was_before_the_run_and_a_new_one_to_an_empty_version():
    now = {(P, "2023"): loc("2023", "R2"), (P, "2024"): loc("2024", "R2")}
    result = plan_rollback("R2", HISTORY, now, empty_location=empty)
    assert [(a.partition, a.current, a.to) for a in result.actions] == [
        ("2023", loc("2023", "R2"), loc("2023", "R1")),
        ("2024", loc("2024", "R2"), empty(P, "2024")),
    ]
    assert not result.blocked and result.conflicts == []


def test_rolling_back_twice_finds_everything_already_back():
    first = plan_rollback("R2", HISTORY, {(P, "2023"): loc("2023", "R2"), (P, "2024"): loc("2024", "R2")},
                          empty_location=empty)
    undo = [Change("RB", "rollback", a.table, a.partition, a.to, a.current) for a in first.actions]
    now = {(P, "2023"): loc("2023", "R1"), (P, "2024"): empty(P, "2024")}
    again = plan_rollback("R2", HISTORY + undo, now, empty_location=empty)
    assert again.actions == [] and sorted(again.already) == [(P, "2023"), (P, "2024")]


def test_a_later_republish_blocks_the_rollback_and_is_named_unless_forced():
    history = HISTORY + [pub("R3", "2024", loc("2024", "R2"))]
    now = {(P, "2023"): loc("2023", "R2"), (P, "2024"): loc("2024", "R3")}
    result = plan_rollback("R2", history, now, empty_location=empty)
    assert result.blocked
    assert [(c.partition, c.changed_by, c.changed_how) for c in result.conflicts] == [("2024", "R3", "publish")]
    text = refusal(result)
    assert "trade_year=2024" in text and "publish by run R3" in text
    assert "tickerlake rollback --run R3" in text and "--force" in text

    forced = plan_rollback("R2", history, now, force=True, empty_location=empty)
    assert not forced.blocked
    assert [(a.partition, a.to, a.forced_over) for a in forced.actions] == [
        ("2023", loc("2023", "R1"), None), ("2024", empty(P, "2024"), "R3")]


def test_a_record_without_previous_locations_takes_them_from_earlier_runs():
    old_style = [Change("R1", "publish", P, "2024", loc("2024", "R1"), "?unknown"),
                 Change("R2", "publish", P, "2024", loc("2024", "R2"), "?unknown")]
    result = plan_rollback("R2", old_style, {(P, "2024"): loc("2024", "R2")})
    assert [(a.partition, a.to) for a in result.actions] == [("2024", loc("2024", "R1"))]


def test_a_retried_publish_keeps_the_location_from_before_the_run():
    record = merge_publish_record(None, P, {"2024": (loc("2024", "R2"), loc("2024", "R1"))})
    # the retry found its own first attempt current and wrote a fresh version over it
    record = merge_publish_record(record, P, {"2024": (loc("2024", "R2-2"), loc("2024", "R2")),
                                              "2023": (loc("2023", "R2-2"), None)})
    assert record == {P: {"2024": {"location": loc("2024", "R2-2"), "previous": loc("2024", "R1")},
                          "2023": {"location": loc("2023", "R2-2"), "previous": None}}}


def test_changes_are_read_from_run_logs_of_publishes_and_rollbacks():
    publish_log = {"run_id": "R2", "published_partitions": {P: {"2024": {"location": loc("2024", "R2"),
                                                                       "previous": loc("2024", "R1")}}}}
    old_log = {"run_id": "R1", "stages": {"publish": {"details": {P: {"locations": {"2024": loc("2024", "R1")}}}}}}
    rollback_log = {"run_id": "RB", "stages": {"rollback": {"status": "succeeded", "details": {"actions": [
        {"table": P, "partition": "2024", "from": loc("2024", "R2"), "to": loc("2024", "R1")}]}}}}
    failed_rollback = {"run_id": "RC", "stages": {"rollback": {"status": "failed", "details": {}}}}
    assert changes_in(publish_log) == [Change("R2", "publish", P, "2024", loc("2024", "R2"), loc("2024", "R1"))]
    assert changes_in(old_log) == [Change("R1", "publish", P, "2024", loc("2024", "R1"), "?unknown")]
    assert changes_in(rollback_log) == [Change("RB", "rollback", P, "2024", loc("2024", "R1"), loc("2024", "R2"))]
    assert changes_in(failed_rollback) == []
