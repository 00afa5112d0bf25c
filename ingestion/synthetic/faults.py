"""Opt-in faults for the synthetic source, to exercise the audit and quarantine paths.

Spec: comma-separated `kind:SYMBOL` items; `kind:*` applies to every symbol, and a kind
may be repeated for several symbols:

    bad_rows:AAPL,duplicates:MSFT,gaps:IBM,weekend:*,future:TSLA

Kinds (positions count from the newest bar, 0 = newest, so a daily run sees them):
    bad_rows    rows 1-8: negative open, zero close, -1 sentinel prices, high < low,
                close "NaN", volume "", volume "1,234", negative volume
    duplicates  row 2 repeated as is, row 4 repeated with a different close
    gaps        rows 3, 4 and 10 left out (missing sessions)
    weekend     an extra row dated the Saturday before the newest bar
    future      two extra rows dated on the two sessions after as_of
    restated    older bars the vendor revised: row 5's close moved halfway to its open (still
                within the bar's high and low) and row 20's volume raised by 1,000
"""
from __future__ import annotations

import datetime as dt

from glue_jobs.lake.errors import ConfigError
from glue_jobs.lake.trading_calendar import is_session

FAULT_KINDS = ("bad_rows", "duplicates", "gaps", "weekend", "future", "restated")
ALL = "*"

Row = list  # [date, open, high, low, close, volume], all strings


def parse_fault_spec(spec: str | None) -> dict[str, frozenset[str]]:
    """{symbol or '*': kinds}. Raises ConfigError on an unknown kind or a malformed item."""
    out: dict[str, set[str]] = {}
    for item in (spec or "").split(","):
        item = item.strip()
        if not item:
            continue
        kind, sep, symbol = item.partition(":")
        kind, symbol = kind.strip(), symbol.strip().upper()
        if not sep or not symbol:
            raise ConfigError(f"fault {item!r} must look like kind:SYMBOL (e.g. bad_rows:AAPL)")
        if kind not in FAULT_KINDS:
            raise ConfigError(f"unknown fault kind {kind!r} in {item!r}: use one of {', '.join(FAULT_KINDS)}")
        out.setdefault(symbol, set()).add(kind)
    return {symbol: frozenset(kinds) for symbol, kinds in out.items()}


def faults_for(spec: dict[str, frozenset[str]], symbol: str) -> frozenset[str]:
    return spec.get(symbol.upper(), frozenset()) | spec.get(ALL, frozenset())


def apply_faults(rows: list[Row], kinds: frozenset[str], as_of: dt.date) -> list[Row]:
    """A new list of rows (newest first) with the faults applied; the input is not changed."""
    rows = [list(r) for r in rows]
    if "restated" in kinds:
        _restated(rows)
    if "bad_rows" in kinds:
        _bad_rows(rows)
    if "duplicates" in kinds:
        rows = _duplicates(rows)
    if "gaps" in kinds:
        rows = [r for i, r in enumerate(rows) if i not in (3, 4, 10)]
    if "weekend" in kinds and rows:
        rows = _weekend(rows)
    if "future" in kinds:
        rows = _future(rows, as_of) + rows
    return rows


def _bad_rows(rows: list[Row]) -> None:
    edits = {
        1: lambda r: r.__setitem__(1, "-" + r[1]),
        2: lambda r: r.__setitem__(4, "0.0000"),
        3: lambda r: r.__setitem__(slice(1, 5), ["-1", "-1", "-1", "-1"]),
        4: lambda r: r.__setitem__(slice(2, 4), [r[3], r[2]]),
        5: lambda r: r.__setitem__(4, "NaN"),
        6: lambda r: r.__setitem__(5, ""),
        7: lambda r: r.__setitem__(5, "1,234"),
        8: lambda r: r.__setitem__(5, "-500"),
    }
    for index, edit in edits.items():
        if index < len(rows):
            edit(rows[index])


def _restated(rows: list[Row]) -> None:
    if len(rows) > 5:
        row = rows[5]
        # halfway between open and close stays inside [low, high]: a revision, not a bad bar
        row[4] = f"{(float(row[1]) + float(row[4])) / 2:.4f}"
    if len(rows) > 20:
        rows[20][5] = str(int(rows[20][5]) + 1000)


def _duplicates(rows: list[Row]) -> list[Row]:
    out = []
    for i, row in enumerate(rows):
        out.append(row)
        if i == 2:
            out.append(list(row))
        elif i == 4:
            twin = list(row)
            twin[4] = _bump(row[4])
            out.append(twin)
    return out


def _bump(value: str) -> str:
    try:
        return f"{float(value) * 1.01:.4f}"
    except ValueError:
        return value


def _weekend(rows: list[Row]) -> list[Row]:
    newest = dt.date.fromisoformat(rows[0][0])
    saturday = newest - dt.timedelta(days=(newest.weekday() - 5) % 7 or 7)
    extra = [saturday.isoformat()] + rows[0][1:]
    out = [r for r in rows if r[0] > extra[0]] + [extra] + [r for r in rows if r[0] <= extra[0]]
    return out


def _future(rows: list[Row], as_of: dt.date) -> list[Row]:
    template = rows[0][1:] if rows else ["10.0000", "10.0000", "10.0000", "10.0000", "1000"]
    days, day = [], as_of
    while len(days) < 2:
        day += dt.timedelta(days=1)
        if is_session(day):
            days.append(day)
    return [[d.isoformat()] + list(template) for d in reversed(days)]
