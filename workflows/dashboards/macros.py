"""Grafana's Athena macros and template variables, expanded the way Grafana would, so
that the panel SQL runs unchanged on the local engine (and on Athena outside Grafana).

The output is still Athena SQL: the engine adapter transpiles it as it does any other.

>>> r = TimeRange(dt.datetime(2026, 1, 2), dt.datetime(2026, 3, 4, 23, 59, 59))
>>> expand("where $__dateFilter(d) and s in (${symbol:singlequote})", r, {"symbol": ["A", "B"]})
"where d BETWEEN date '2026-01-02' AND date '2026-03-04' and s in ('A','B')"
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from glue_jobs.lake.errors import ConfigError


@dataclass(frozen=True)
class TimeRange:
    start: dt.datetime
    end: dt.datetime

    @classmethod
    def for_dates(cls, first: dt.date, last: dt.date) -> TimeRange:
        """From the start of `first` to the last second of `last`, like Grafana's absolute range."""
        return cls(dt.datetime.combine(first, dt.time()), dt.datetime.combine(last, dt.time(23, 59, 59)))


_MACRO_RE = re.compile(r"\$__(\w+)(?:\(([^()]*)\))?")
_VAR_RE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)")


def _ts(value: dt.datetime) -> str:
    return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"


def _args(text: str | None) -> list[str]:
    if not text:
        return []
    return [a.strip() for a in text.split(",")]


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _format_variable(name: str, values: list[str], fmt: str | None) -> str:
    if not values:
        raise ConfigError(f"variable ${name} has no value selected")
    if fmt in (None, "singlequote", "sqlstring"):
        # Grafana's default for SQL data sources is a quoted list as well.
        return ",".join(_quote(v) for v in values)
    if fmt == "csv":
        return ",".join(values)
    if fmt == "raw" and len(values) == 1:
        return values[0]
    raise ConfigError(f"variable format ${{{name}:{fmt}}} is not supported by the local renderer")


def _expand_macro(name: str, args: list[str], time_range: TimeRange) -> str:
    start, end = time_range.start, time_range.end
    if name == "dateFilter" and len(args) == 1:
        return f"{args[0]} BETWEEN date '{start:%Y-%m-%d}' AND date '{end:%Y-%m-%d}'"
    if name == "timeFilter" and len(args) == 1:
        return f"{args[0]} BETWEEN {_ts(start)} AND {_ts(end)}"
    if name == "timeFilter" and len(args) == 2:
        column = f"parse_datetime({args[0]},{args[1]})"
        return f"{column} BETWEEN {_ts(start)} AND {_ts(end)}"
    if name == "timeFrom" and not args:
        return _ts(start)
    if name == "timeTo" and not args:
        return _ts(end)
    if name == "unixEpochFilter" and len(args) == 1:
        return f"{args[0]} BETWEEN {int(start.replace(tzinfo=dt.timezone.utc).timestamp())} AND " \
               f"{int(end.replace(tzinfo=dt.timezone.utc).timestamp())}"
    raise ConfigError(f"Grafana macro $__{name}({', '.join(args)}) is not supported by the local renderer")


def expand(sql: str, time_range: TimeRange, variables: dict[str, list[str]]) -> str:
    """Replace $__macros and $variables in `sql`. Unknown ones raise ConfigError naming them."""
    def macro(match: re.Match) -> str:
        return _expand_macro(match.group(1), _args(match.group(2)), time_range)

    def variable(match: re.Match) -> str:
        name = match.group(1) or match.group(3)
        if name not in variables:
            raise ConfigError(f"${name} is not a dashboard variable (known: {', '.join(sorted(variables))})")
        return _format_variable(name, variables[name], match.group(2))

    return _VAR_RE.sub(variable, _MACRO_RE.sub(macro, sql))
