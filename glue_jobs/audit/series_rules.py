"""Pure: the audit's checks that need a symbol's whole series, not one row.

Row rules see one row at a time, so what a row's neighbours say comes in as columns: for the
jump rule (`no_unexplained_jump`), `jump_factor` (how many times the close is off the bar
before it), `prev_day` and `prev_close`, from sql/wap/audit/price_jumps.sql over the whole batch.

Warnings describe a series and hold nothing back (the rows are right, the series is not
complete or not fresh), so they are recorded in the run log and stocks.audit_results with
kind "warning", logged, and never block:

    series_not_stale         N identical closes in a row (a feed repeating its last value),
                             or a newest bar older than the last session before the fetch
    every_session_present    an NYSE session missing between a symbol's first and newest bar

glue_jobs/audit/series_checks.py runs the queries; nothing here touches an engine.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from glue_jobs.audit import rules as audit_rules
from glue_jobs.lake import trading_calendar

JUMP_COLUMNS = ("jump_factor", "prev_day", "prev_close")
SHOW_MISSING = 10  # missing dates named per symbol in a warning


# -- the jump rule's columns ---------------------------------------------------------------------


def jump_lookup(rows: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[float, str, float]]:
    """(symbol, day) -> (jump factor rounded to 0.1, previous day, previous close)."""
    return {(r["symbol"], r["trade_day"]): (round(float(r["jump_factor"]), 1), r["prev_day"], float(r["prev_close"]))
            for r in rows}


def with_jumps(table: pa.Table, jumps: dict[tuple[str, str], tuple[float, str, float]]) -> pa.Table:
    """The chunk with the jump columns added (null where the bar is no jump)."""
    if not jumps:
        n = table.num_rows
        return (table.append_column("jump_factor", pa.nulls(n, pa.float64()))
                .append_column("prev_day", pa.nulls(n, pa.string()))
                .append_column("prev_close", pa.nulls(n, pa.float64())))
    symbols = table.column("symbol").to_pylist()
    days = table.column("trade_date").cast(pa.string()).to_pylist()
    found = [jumps.get((s, d)) for s, d in zip(symbols, days)]
    return (table.append_column("jump_factor", pa.array([f[0] if f else None for f in found], pa.float64()))
            .append_column("prev_day", pa.array([f[1] if f else None for f in found], pa.string()))
            .append_column("prev_close", pa.array([f[2] if f else None for f in found], pa.float64())))


# -- warnings ------------------------------------------------------------------------------------


def last_session_on_or_before(day: dt.date) -> dt.date:
    return day if trading_calendar.is_session(day) else trading_calendar.previous_session(day)


def stale_newest(extent: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(symbol, newest bar, the session it should have reached) for every series whose newest
    valid bar is older than the last session on or before its fetch's ingest date."""
    out = []
    for row in extent:
        if not row.get("newest_day") or not row.get("ingest_date"):
            continue
        expected = last_session_on_or_before(dt.date.fromisoformat(str(row["ingest_date"])[:10]))
        if dt.date.fromisoformat(row["newest_day"]) < expected:
            out.append((row["symbol"], row["newest_day"], expected.isoformat()))
    return out


def short_symbols(extent: list[dict[str, Any]]) -> list[str]:
    """Symbols with fewer weekday bars than NYSE sessions between their first and newest bar."""
    out = []
    for row in extent:
        if not row.get("first_day") or not row.get("newest_day"):
            continue
        first, newest = dt.date.fromisoformat(row["first_day"]), dt.date.fromisoformat(row["newest_day"])
        if int(row["weekdays"]) < trading_calendar.count_sessions(first, newest):
            out.append(row["symbol"])
    return out


def missing_sessions(extent: list[dict[str, Any]], days: dict[str, set[str]]) -> dict[str, list[str]]:
    """Per symbol (of those with their days given), the sessions between its first and newest
    bar that have no bar."""
    out = {}
    for row in extent:
        present = days.get(row["symbol"])
        if present is None:
            continue
        sessions = trading_calendar.sessions_between(dt.date.fromisoformat(row["first_day"]),
                                                     dt.date.fromisoformat(row["newest_day"]))
        missing = [d.isoformat() for d in sessions if d.isoformat() not in present]
        if missing:
            out[row["symbol"]] = missing
    return out


def warnings(book: audit_rules.RuleBook, limits: dict[str, dict[str, float]], *, identical: list[dict[str, Any]],
             stale: list[tuple[str, str, str]], missing: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The warning rules' outcomes (kind "warning": recorded, never blocking), each example
    naming symbols and dates."""
    names = {r.name for r in getattr(book, "warning_rules", ())}
    out = []
    if "series_not_stale" in names:
        most = int(limits.get("series_not_stale", {}).get("max_identical_closes", 5))
        repeats = [r for r in identical if int(r["bars"]) > most]
        lines = [f"{r['symbol']} closed at {float(r['close']):.10g} on {r['bars']} sessions in a row, "
                 f"{r['first_day']} to {r['last_day']}" for r in repeats]
        lines += [f"{s}: newest bar {newest}, but the fetch came after the {expected} session" for s, newest, expected in stale]
        symbols = sorted({r["symbol"] for r in repeats} | {s for s, _, _ in stale})
        out.append(audit_rules.outcome(
            "series_not_stale", "warning", not lines, 0,
            f"at most {most} identical closes in a row; newest bar at the last session before the fetch",
            {"stale_symbols": symbols}, "; ".join(lines[:10]) or None))
    if "every_session_present" in names:
        lines = []
        for symbol, days in sorted(missing.items()):
            shown = ", ".join(days[:SHOW_MISSING]) + (f" and {len(days) - SHOW_MISSING} more" if len(days) > SHOW_MISSING else "")
            lines.append(f"{symbol} has no bar for {len(days)} session(s): {shown}")
        out.append(audit_rules.outcome(
            "every_session_present", "warning", not lines, 0,
            "every NYSE session between a symbol's first and newest bar",
            {"missing_sessions": sum(len(d) for d in missing.values()), "symbols": sorted(missing)},
            "; ".join(lines[:10]) or None))
    return out
