from __future__ import annotations

import datetime as dt

import pytest

from glue_jobs.lake import layout
from glue_jobs.lake.errors import PipelineError
from ingestion.state import CarriedSymbol, IngestState, load_state, merge_state, plan_symbols, save_state

AS_OF = dt.date(2026, 11, 20)


def merged(previous, carried_now=None, settled=(), calls=None, run_id="r2"):
    return merge_state(
        previous,
        run_id=run_id,
        as_of=AS_OF,
        source="alphavantage",
        carried_now=carried_now or {},
        settled=settled,
        calls_by_day=calls or {},
    )


def test_carried_symbols_come_first_without_duplicates():
    state = IngestState([CarriedSymbol("MSFT", "daily_cap", "2026-11-19", "r1"), CarriedSymbol("IBM", "server_error", "2026-11-19", "r1")])
    assert plan_symbols(state, ["aapl", "IBM", " msft", "TSLA", "AAPL", ""]) == ["MSFT", "IBM", "AAPL", "TSLA"]


def test_a_symbol_carried_again_keeps_its_first_date_and_counts_runs():
    before = IngestState([CarriedSymbol("MSFT", "daily_cap", "2026-11-19", "r1")])
    after = merged(before, {"MSFT": "server_error", "TSLA": "daily_cap"})
    assert after.carried == [
        CarriedSymbol("MSFT", "server_error", "2026-11-19", "r1", runs=2),
        CarriedSymbol("TSLA", "daily_cap", "2026-11-20", "r2", runs=1),
    ]


def test_settled_symbols_leave_the_carried_list():
    before = IngestState([CarriedSymbol("MSFT", "daily_cap", "2026-11-19", "r1"), CarriedSymbol("IBM", "daily_cap", "2026-11-19", "r1")])
    after = merged(before, settled=["MSFT", "IBM"])
    assert after.carried == []


def test_quota_keeps_the_highest_count_per_day_and_only_recent_days():
    days = {f"2026-11-{d:02d}": 25 for d in range(1, 11)}
    before = IngestState(quota={"alphavantage": days, "synthetic": {"2026-11-10": 3}})
    after = merged(before, calls={"2026-11-10": 20, "2026-11-11": 4})
    assert after.quota["alphavantage"]["2026-11-10"] == 25
    assert after.quota["alphavantage"]["2026-11-11"] == 4
    assert len(after.quota["alphavantage"]) == 7 and "2026-11-01" not in after.quota["alphavantage"]
    assert after.quota["synthetic"] == {"2026-11-10": 3}
    assert after.calls_on("alphavantage", "2026-11-11") == 4 and after.calls_on("nope", "x") == 0


def test_state_round_trips_through_the_lake(lake):
    assert load_state(lake) == IngestState()
    state = merged(IngestState(), {"MSFT": "daily_cap"}, calls={"2026-11-20": 25})
    save_state(lake, state)
    assert load_state(lake) == state


def test_an_unreadable_state_says_how_to_recover(lake):
    lake.put_bytes(layout.STATE_KEY, b"{not json")
    with pytest.raises(PipelineError, match="unreadable.*doctor --repair"):
        load_state(lake)
