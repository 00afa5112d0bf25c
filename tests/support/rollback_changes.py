"""Recorded switches for the rollback planner's tests: a published table's locations and
publish changes, without a lake."""
from __future__ import annotations

from glue_jobs.ops.rollback_plan import Change

P = "daily_prices"


def loc(year: str, version: str) -> str:
    return f"warehouse/daily_prices/trade_year={year}/v={version}/"


def pub(run: str, year: str, previous: str | None) -> Change:
    return Change(run, "publish", P, year, loc(year, run), previous)


def empty(table: str, partition: str) -> str:
    return f"warehouse/{table}/trade_year={partition}/v=RB-empty/"
