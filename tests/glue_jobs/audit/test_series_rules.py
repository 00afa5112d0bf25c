"""The audit's series checks as pure functions (no engine): the jump columns each row gets,
which series are stale or short, which sessions are missing, and the warnings' wording and
thresholds as the run log and stocks.audit_results show them."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa

from glue_jobs.audit import series_rules
from glue_jobs.audit.rules import BatchRule, RuleBook

FRI, SAT, MON = dt.date(2026, 11, 20), dt.date(2026, 11, 21), dt.date(2026, 11, 23)


def book(*names: str) -> RuleBook:
    return RuleBook("daily_prices", (), (), (), tuple(BatchRule(n, "", {}) for n in names))


def test_the_jump_columns_name_the_bar_before_and_round_the_factor():
    lookup = series_rules.jump_lookup([{"symbol": "IBM", "trade_day": "2026-11-20", "jump_factor": "3.04",
                                        "prev_day": "2026-11-19", "prev_close": "10"}])
    assert lookup == {("IBM", "2026-11-20"): (3.0, "2026-11-19", 10.0)}
    table = pa.table({"symbol": ["IBM", "IBM"], "trade_date": pa.array([FRI, MON], pa.date32())})
    out = series_rules.with_jumps(table, lookup)
    assert out.column("jump_factor").to_pylist() == [3.0, None]
    assert out.column("prev_day").to_pylist() == ["2026-11-19", None]
    assert out.column("prev_close").to_pylist() == [10.0, None]
    none = series_rules.with_jumps(table, {})
    assert none.column_names[-3:] == ["jump_factor", "prev_day", "prev_close"]
    assert none.column("prev_close").null_count == 2 and none.schema.field("prev_day").type == pa.string()
    assert none.schema.field("jump_factor").type == pa.float64()
    # typed like the columns a batch with jumps gets, so chunks with and without concatenate
    assert none.schema == out.schema


def test_a_series_is_stale_when_its_newest_bar_is_before_the_last_session_before_the_fetch():
    assert series_rules.last_session_on_or_before(SAT) == FRI
    assert series_rules.last_session_on_or_before(FRI) == FRI
    extent = [
        {"symbol": "A", "newest_day": "2026-11-19", "ingest_date": "2026-11-21"},  # Saturday fetch: Friday expected
        {"symbol": "B", "newest_day": "2026-11-20", "ingest_date": "2026-11-21T03:00:00"},
        {"symbol": "C", "newest_day": None, "ingest_date": "2026-11-21"},
        {"symbol": "D", "newest_day": "2026-11-19", "ingest_date": None},
    ]
    assert series_rules.stale_newest(extent) == [("A", "2026-11-19", "2026-11-20")]


def test_short_series_and_their_missing_sessions_skip_holidays():
    # Mon 23 to Fri 27 November 2026: Thanksgiving (26th) is no session, so 4 sessions
    extent = [{"symbol": "A", "first_day": "2026-11-23", "newest_day": "2026-11-27", "weekdays": 4},
              {"symbol": "B", "first_day": "2026-11-23", "newest_day": "2026-11-27", "weekdays": 3},
              {"symbol": "C", "first_day": None, "newest_day": "2026-11-27", "weekdays": 0}]
    assert series_rules.short_symbols(extent) == ["B"]
    days = {"B": {"2026-11-23", "2026-11-25", "2026-11-27"}, "A": {"2026-11-23", "2026-11-24", "2026-11-25",
                                                                    "2026-11-27"}}
    assert series_rules.missing_sessions(extent[:2], days) == {"B": ["2026-11-24"]}
    assert series_rules.missing_sessions(extent[:2], {}) == {}


def test_the_stale_warning_names_each_repeat_and_each_late_series():
    identical = [{"symbol": "IBM", "close": 101.5, "bars": 7, "first_day": "2026-11-10", "last_day": "2026-11-18"},
                 {"symbol": "XOM", "close": 50, "bars": 5, "first_day": "2026-11-10", "last_day": "2026-11-16"}]
    [out] = series_rules.warnings(book("series_not_stale"), {}, identical=identical,
                                  stale=[("AAPL", "2026-11-19", "2026-11-20")], missing={})
    assert out == {
        "rule": "series_not_stale", "kind": "warning", "success": False, "failing_rows": 0,
        "threshold": "at most 5 identical closes in a row; newest bar at the last session before the fetch",
        "observed": {"stale_symbols": ["AAPL", "IBM"]},
        "example": "IBM closed at 101.5 on 7 sessions in a row, 2026-11-10 to 2026-11-18; "
                   "AAPL: newest bar 2026-11-19, but the fetch came after the 2026-11-20 session"}
    [loose] = series_rules.warnings(book("series_not_stale"), {"series_not_stale": {"max_identical_closes": 7}},
                                    identical=identical, stale=[], missing={})
    assert loose["success"] and loose["example"] is None and loose["observed"] == {"stale_symbols": []}
    assert loose["threshold"].startswith("at most 7 identical closes")


def test_the_missing_sessions_warning_shows_ten_dates_and_counts_the_rest():
    days = [f"2026-10-{d:02d}" for d in range(1, 13)]
    [out] = series_rules.warnings(book("every_session_present"), {}, identical=[], stale=[],
                                  missing={"MSFT": days, "AAPL": ["2026-11-24"]})
    assert out["rule"] == "every_session_present" and out["kind"] == "warning" and not out["success"]
    assert out["threshold"] == "every NYSE session between a symbol's first and newest bar"
    assert out["observed"] == {"missing_sessions": 13, "symbols": ["AAPL", "MSFT"]}
    assert out["example"] == ("AAPL has no bar for 1 session(s): 2026-11-24; MSFT has no bar for 12 session(s): "
                              + ", ".join(days[:10]) + " and 2 more")
    [ok] = series_rules.warnings(book("every_session_present"), {}, identical=[], stale=[], missing={})
    assert ok["success"] and ok["example"] is None and ok["observed"] == {"missing_sessions": 0, "symbols": []}


def test_only_the_warning_rules_the_book_has_are_evaluated():
    assert series_rules.warnings(book(), {}, identical=[], stale=[("A", "x", "y")], missing={"A": ["d"]}) == []
    both = series_rules.warnings(book("every_session_present", "series_not_stale"), {}, identical=[], stale=[],
                                 missing={})
    assert [o["rule"] for o in both] == ["series_not_stale", "every_session_present"]


def test_a_warning_names_at_most_ten_series_so_a_lake_wide_gap_does_not_flood_the_run_log():
    symbols = [f"S{i:02d}" for i in range(12)]
    [gaps] = series_rules.warnings(book("every_session_present"), {}, identical=[], stale=[],
                                   missing={s: ["2026-11-24"] for s in symbols})
    assert gaps["example"] == "; ".join(f"{s} has no bar for 1 session(s): 2026-11-24" for s in symbols[:10])
    assert gaps["observed"] == {"missing_sessions": 12, "symbols": symbols}
    [late] = series_rules.warnings(book("series_not_stale"), {}, identical=[], missing={},
                                   stale=[(s, "2026-11-19", "2026-11-20") for s in symbols])
    assert late["example"].count("newest bar 2026-11-19") == 10 and "S09" in late["example"]
    assert "S10" not in late["example"] and late["observed"] == {"stale_symbols": symbols}


def test_a_factor_just_over_the_jump_limit_stays_over_it():
    # the jump rule fails factors above 50: rounding to 0.1, not to a whole number, keeps 50.4 failing
    lookup = series_rules.jump_lookup([{"symbol": "IBM", "trade_day": "2026-11-20", "jump_factor": 50.4,
                                        "prev_day": "2026-11-19", "prev_close": 1.25}])
    assert lookup[("IBM", "2026-11-20")][0] == 50.4


def test_a_chunk_without_a_jumping_bar_is_typed_like_one_with():
    lookup = {("IBM", "2026-11-20"): (3.0, "2026-11-19", 10.0)}
    table = pa.table({"symbol": ["XOM", "XOM"], "trade_date": pa.array([FRI, MON], pa.date32())})
    calm = series_rules.with_jumps(table, lookup)  # jumps in the batch, none in this chunk
    assert calm.column("jump_factor").null_count == 2
    assert calm.schema == series_rules.with_jumps(table, {}).schema


def test_series_without_their_days_do_not_hide_the_series_after_them():
    extent = [{"symbol": "A", "first_day": None, "newest_day": None, "ingest_date": None, "weekdays": 0},
              {"symbol": "B", "first_day": "2026-11-23", "newest_day": "2026-11-24", "ingest_date": "2026-11-28",
               "weekdays": 1}]
    assert series_rules.stale_newest(extent) == [("B", "2026-11-24", "2026-11-27")]
    assert series_rules.short_symbols(extent) == ["B"]
    present = {"B": {"2026-11-23"}}  # A's days were not asked for
    assert series_rules.missing_sessions([dict(extent[1], symbol="Z"), extent[1]], present) == {"B": ["2026-11-24"]}


def test_ten_missing_sessions_are_all_shown_with_nothing_more_and_no_failing_rows():
    days = [f"2026-10-{d:02d}" for d in range(1, 11)]
    [out] = series_rules.warnings(book("every_session_present"), {}, identical=[], stale=[], missing={"MSFT": days})
    assert out["example"] == "MSFT has no bar for 10 session(s): " + ", ".join(days)
    assert out["failing_rows"] == 0  # a warning quarantines no row
