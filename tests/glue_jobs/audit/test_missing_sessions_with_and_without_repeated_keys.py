"""The missing-session warning counts each symbol's weekday bars (sql/wap/audit/series_extent.sql).
A batch with one row per symbol and date (every backfill) counts bars; one where write temp
found a repeated key counts distinct dates, so that a date sent twice cannot stand in for a
session that never came. Both must name the same missing session."""
from __future__ import annotations

import datetime as dt

from glue_jobs.lake import trading_calendar
from tests.support.contexts import AS_OF
from tests.support.wap_fixtures import bars, csv_body, land
from workflows.runner import run_wap

SESSIONS = trading_calendar.last_sessions(AS_OF, 30)
MISSING = SESSIONS[10]
SATURDAY = dt.date(2024, 2, 24)  # between the first and newest session, never one


def _warning(ctx, rows: list[tuple]) -> dict:
    land(ctx.storage, run_id="20240308T220000Z-i1", ingest_date=AS_OF.isoformat(),
         bodies={"GAPPY": csv_body(rows), "WHOLE": csv_body(bars("WHOLE", SESSIONS))})
    results = run_wap(ctx, stages=("crawl", "drop_temp", "write_temp", "audit"))
    [outcome] = [r for r in results["audit"]["rules"] if r["rule"] == "every_session_present"]
    return {"duplicate_keys": results["write_temp"]["duplicate_keys"], **outcome}


def _gappy() -> list[tuple]:
    assert SESSIONS[0] < SATURDAY < SESSIONS[-1]
    rows = [r for r in bars("GAPPY", SESSIONS) if r[0] != MISSING.isoformat()]
    # a weekend bar (quarantined on its own) is no weekday: it does not fill the gap
    return rows + [(SATURDAY.isoformat(), 50, 51, 49, 50, 1000)]


def test_one_row_per_date_names_the_missing_session(ctx):
    outcome = _warning(ctx, _gappy())
    assert outcome["duplicate_keys"] == 0
    assert not outcome["success"]
    assert outcome["observed"]["symbols"] == ["GAPPY"]
    assert f"GAPPY has no bar for 1 session(s): {MISSING.isoformat()}" in outcome["example"]


def test_a_date_sent_twice_does_not_hide_a_missing_session(ctx):
    rows = _gappy()
    twice = list(rows[3])
    twice[4] = round(twice[4] * 1.001, 4)  # the same date with a different close: both rows kept
    outcome = _warning(ctx, rows + [tuple(twice)])
    assert outcome["duplicate_keys"] == 1
    assert not outcome["success"]
    assert outcome["observed"]["symbols"] == ["GAPPY"]
    assert f"GAPPY has no bar for 1 session(s): {MISSING.isoformat()}" in outcome["example"]
