"""Rollback planning at its edges: what a refused rollback tells the user, forced and
unexplained conflicts, run logs written before publish kept its record, and partitions the run
created when no empty location is named (no lake, no I/O)."""
from __future__ import annotations

from glue_jobs.ops.rollback_plan import Action, Change, Conflict, changes_in, plan_rollback, refusal
from tests.support.rollback_changes import P, empty, loc, pub


def test_the_refusal_names_each_moved_partition_and_the_later_runs_newest_first():
    history = [pub("R1", "2022", None), pub("R1", "2023", None), pub("R1", "2024", None),
               pub("R2", "2023", loc("2023", "R1")), pub("R3", "2024", loc("2024", "R1"))]
    now = {(P, "2022"): "warehouse/daily_prices/trade_year=2022/v=hand-made/",
           (P, "2023"): loc("2023", "R2"), (P, "2024"): loc("2024", "R3")}
    plan = plan_rollback("R1", history, now, empty_location=empty)
    assert plan.conflicts == [
        Conflict(P, "2022", now[(P, "2022")], None, "unknown"),
        Conflict(P, "2023", loc("2023", "R2"), "R2", "publish"),
        Conflict(P, "2024", loc("2024", "R3"), "R3", "publish"),
    ]
    assert refusal(plan).splitlines() == [
        "rollback of run R1 refused: a later change moved 3 of the partitions it published, so putting "
        "them back would also undo that change:",
        f"  - stocks.{P} trade_year=2022: now at {now[(P, '2022')]} (a change no run log explains)",
        f"  - stocks.{P} trade_year=2023: now at {loc('2023', 'R2')} (publish by run R2)",
        f"  - stocks.{P} trade_year=2024: now at {loc('2024', 'R3')} (publish by run R3)",
        "  Roll back the later run(s) first, newest first, then this one:",
        "    tickerlake rollback --run R3",
        "    tickerlake rollback --run R2",
        "  Or pass --force to put these partitions back to their state before run R1 anyway (whatever the "
        "later runs published there is taken out of prod too).",
    ]


def test_a_partition_moved_by_a_rollback_or_unregistered_is_named_but_no_rollback_is_suggested():
    history = [pub("R1", "2023", loc("2023", "R0")), pub("R1", "2024", None),
               pub("R2", "2024", loc("2024", "R1")),
               Change("RB", "rollback", P, "2024", loc("2024", "R0"), loc("2024", "R2"))]
    now = {(P, "2023"): None, (P, "2024"): loc("2024", "R0")}
    plan = plan_rollback("R1", history, now, empty_location=empty)
    text = refusal(plan)
    assert "trade_year=2023: now at (not registered) (a change no run log explains)" in text
    assert f"trade_year=2024: now at {loc('2024', 'R0')} (rollback by run RB)" in text
    assert "tickerlake rollback --run" not in text and "Roll back the later" not in text


def test_forcing_over_a_change_no_run_log_explains_puts_the_partition_back_and_says_so():
    history = [pub("R1", "2023", None), pub("R2", "2023", loc("2023", "R1"))]
    now = {(P, "2023"): "warehouse/daily_prices/trade_year=2023/v=hand-made/"}
    plan = plan_rollback("R2", history, now, force=True, empty_location=empty)
    assert plan.actions == [Action(P, "2023", now[(P, "2023")], loc("2023", "R1"), forced_over="?")]
    assert not plan.blocked


def test_an_old_run_log_with_previous_locations_uses_them():
    old_log = {"run_id": "R2", "stages": {"publish": {"details": {P: {
        "locations": {"2024": loc("2024", "R2"), "2025": loc("2025", "R2")},
        "previous": {"2024": loc("2024", "R1")}}}}}}
    assert changes_in(old_log) == [Change("R2", "publish", P, "2024", loc("2024", "R2"), loc("2024", "R1")),
                                   Change("R2", "publish", P, "2025", loc("2025", "R2"), "?unknown")]
    assert changes_in({"published_partitions": {P: {"2024": {"location": "x", "previous": None}}}}) == [
        Change("", "publish", P, "2024", "x", None)]


def test_an_unknown_previous_with_no_earlier_run_means_the_run_created_the_partition():
    history = [Change("R1", "publish", P, "2024", loc("2024", "R1"), "?unknown")]
    plan = plan_rollback("R1", history, {(P, "2024"): loc("2024", "R1")}, empty_location=empty)
    assert plan.actions == [Action(P, "2024", loc("2024", "R1"), empty(P, "2024"))]
    without = plan_rollback("R1", history, {(P, "2024"): loc("2024", "R1")})
    assert without.actions == [Action(P, "2024", loc("2024", "R1"), None)]


def test_a_run_that_created_one_partition_is_already_back_after_its_rollback():
    history = [pub("R1", "2024", None)]
    first = plan_rollback("R1", history, {(P, "2024"): loc("2024", "R1")}, empty_location=empty)
    undo = [Change("RB", "rollback", a.table, a.partition, a.to, a.current) for a in first.actions]
    again = plan_rollback("R1", history + undo, {(P, "2024"): empty(P, "2024")}, empty_location=empty)
    assert again.actions == [] and again.conflicts == [] and again.already == [(P, "2024")]
