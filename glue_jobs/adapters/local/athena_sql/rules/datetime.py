"""Trino's rules for date and time (functions/datetime), and `sequence` (functions/array).

Trino computes with Joda-Time in UTC (DateTimeFunctions.java): `date_diff` counts whole
elapsed units (Joda's getDifferenceAsLong), not boundaries crossed; `date_add` of months
clamps to the month's end; the extraction functions return bigint and are ISO (Monday 1,
Sunday 7; ISO weeks); a date stays a date under date_trunc, date_add and +/- interval.
Timestamps are timestamp(3): a timestamp column read from the catalog is rounded half-up
to milliseconds, as Trino's Parquet reader rounds micros (Timestamps.round)."""
from __future__ import annotations

import re

from sqlglot import exp

from glue_jobs.adapters.local.athena_sql import types
from glue_jobs.adapters.local.athena_sql.errors import AthenaRejects, NotEmulated
from glue_jobs.adapters.local.athena_sql.rules import duckdb_tree, fail, rule, typed
from glue_jobs.adapters.local.athena_sql.surface import APPROXIMATE, EXACT, REFUSED, declare

declare("functions/datetime", EXACT, "date_trunc", "date_add", "date_diff", "date_format", "date_parse",
        "format_datetime", "year", "month", "day", "day_of_month", "quarter", "week", "week_of_year",
        "day_of_week", "dow", "day_of_year", "doy", "year_of_week", "yow", "extract", "current_date",
        "to_unixtime", "last_day_of_month", "date", "from_iso8601_date", "hour", "minute", "second",
        "millisecond")
declare("functions/datetime", APPROXIMATE, "now", "current_timestamp",
        note="a timestamp with time zone in microseconds (Athena: timestamp(3) with time zone, UTC)")
declare("functions/datetime", REFUSED, "from_unixtime",
        note="returns a timestamp with time zone, which the local engine does not type yet")
declare("functions/array", EXACT, "sequence")

DATE_UNITS = ("day", "week", "month", "quarter", "year")
TIME_UNITS = ("millisecond", "second", "minute", "hour")
_MILLIS = {"millisecond": 1, "second": 1000, "minute": 60_000, "hour": 3_600_000, "day": 86_400_000,
           "week": 604_800_000}
_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def _duck(template: str, **parts: exp.Expression) -> exp.Expression:
    """A DuckDB expression from a template whose `:name` placeholders take a copy of a part."""
    tree = duckdb_tree(template)
    for call in list(tree.find_all(exp.Anonymous)):
        if call.name.lower().startswith("raw_"):  # strftime formats kept verbatim, not re-mapped by sqlglot
            call.set("this", call.name[4:])
    for placeholder in list(tree.find_all(exp.Placeholder)):
        replacement = parts[placeholder.name].copy()
        if placeholder is tree:
            return replacement
        placeholder.replace(replacement)
    return tree



def _is_date(node: exp.Expression) -> bool:
    return types.is_date(types.of(node))


def _is_timestamp(node: exp.Expression) -> bool:
    return types.is_timestamp(types.of(node))


def _temporal(name: str, *nodes: exp.Expression) -> str:
    """'date' when every operand is a date, 'timestamp' when one is a timestamp (Trino coerces
    a date to a timestamp); a string or number operand is refused as Trino refuses it."""
    kinds = [types.of(n) for n in nodes]
    if all(types.is_date(k) for k in kinds):
        return "date"
    if all(types.is_date(k) or types.is_timestamp(k) for k in kinds):
        return "timestamp"
    shown = ", ".join(types.athena_name(k) for k in kinds)
    if any(types.is_string(k) or types.is_numeric(k) or k.this == exp.DataType.Type.BOOLEAN for k in kinds):
        raise AthenaRejects(f"Unexpected parameters ({shown}) for function {name}")
    raise NotEmulated(name, f"on operands of type {shown}")


def _unit(node: exp.Expression, name: str, kind: str) -> str:
    """The unit argument as Trino reads it (case-insensitive literal), checked against the
    operand's kind with Trino's message."""
    unit = node.args.get("unit")
    text = unit.name if isinstance(unit, (exp.Var, exp.Literal, exp.Identifier)) else None
    if text is None:
        raise NotEmulated(name, "with a unit that is not a literal")
    text = text.lower()
    if kind == "date" and text not in DATE_UNITS:
        raise AthenaRejects(f"'{text}' is not a valid DATE field")
    if kind == "timestamp" and text not in DATE_UNITS + TIME_UNITS:
        raise AthenaRejects(f"'{text}' is not a valid Timestamp field")
    return text


def _as_timestamp(node: exp.Expression) -> exp.Expression:
    """As DuckDB's microsecond TIMESTAMP (its epoch functions fail on TIMESTAMP_MS)."""
    return exp.Cast(this=node, to=exp.DataType.build("TIMESTAMP"))


# -- timestamps read from the catalog ---------------------------------------------------------

@rule(exp.Column)
def millisecond_column(node: exp.Column) -> exp.Expression | None:
    """A timestamp column is timestamp(3): Trino's Parquet reader rounds the stored micros
    half-up to millis (TransformingValueDecoders: Timestamps.round(micros, 3)). The local
    engine's table views round them where the table is read (duckdb_engine._read_as); here
    the column is only typed as Athena types it, so a result holding it is timestamp(3)."""
    if not _is_timestamp(node) or isinstance(node.this, exp.Star) or not node.table:
        return None
    if node.find_ancestor(exp.Select) is None:
        return None
    column = node.copy()
    column.type = node.type
    return typed(exp.Cast(this=column, to=exp.DataType.build("TIMESTAMP", dialect="duckdb")), "timestamp(3)")


# -- date_diff, date_add, date_trunc, +/- interval ----------------------------------------------

_FORWARD_MONTHS = ("(date_diff('month', {a}, {b}) - CASE WHEN {a} + to_months(date_diff('month', {a}, {b})) > {b} "
                   "THEN 1 ELSE 0 END)")
_MONTHS_BETWEEN = (f"(CASE WHEN :b >= :a THEN {_FORWARD_MONTHS.format(a=':a', b=':b')} "
                   f"ELSE -{_FORWARD_MONTHS.format(a=':b', b=':a')} END)")
"""Joda's monthOfYear().getDifferenceAsLong(b, a): the whole months from a to b, i.e. the
largest n with a + n months <= b (a month added to Jan 31 is Feb 29; BasicMonthOfYearDateTimeField
compares the day and time of day, the end's day clamped at its month's last day), and minus
the whole months from b to a when b is earlier."""


def _months_between(start: exp.Expression, end: exp.Expression) -> exp.Expression:
    return _duck(_MONTHS_BETWEEN, a=start, b=end)


@rule(exp.DateDiff)
def date_diff(node: exp.DateDiff) -> exp.Expression:
    """date_diff(unit, a, b) = b - a in whole units (DateTimeFunctions.diffDate,
    timestamp.DateDiff): fixed-length units divide the milliseconds and truncate toward
    zero; month, quarter and year count whole calendar months (quarter = months / 3,
    year = months / 12, Java's truncating division)."""
    start, end = node.expression, node.this
    kind = _temporal("date_diff", start, end)
    unit = _unit(node, "date_diff", kind)
    if unit in _MONTHS:
        months = _months_between(start, end)
        out = months if unit == "month" else _duck(f"(:m) // {_MONTHS[unit]}", m=months)
    elif kind == "date":
        days = _duck("date_diff('day', :a, :b)", a=start, b=end)
        out = days if unit == "day" else _duck("(:d) // 7", d=days)
    else:
        millis = _duck("epoch_ms(:b) - epoch_ms(:a)", a=_as_timestamp(start), b=_as_timestamp(end))
        out = millis if unit == "millisecond" else _duck(f"(:m) // {_MILLIS[unit]}", m=millis)
    return typed(exp.Cast(this=out, to=exp.DataType.build("BIGINT")), "bigint")


def _interval(unit: str, amount: exp.Expression) -> exp.Expression:
    if unit in _MONTHS:
        return _duck(f"to_months(CAST(:n AS BIGINT) * {_MONTHS[unit]})", n=amount)
    if unit == "week":
        return _duck("to_days(CAST(:n AS BIGINT) * 7)", n=amount)
    if unit == "day":
        return _duck("to_days(CAST(:n AS BIGINT))", n=amount)
    return _duck(f"to_milliseconds(CAST(:n AS BIGINT) * {_MILLIS[unit]})", n=amount)


@rule(exp.DateAdd)
def date_add(node: exp.DateAdd) -> exp.Expression:
    """date_add(unit, n, x): of the type of x (a date stays a date); months clamp to the end
    of the month (Joda's add)."""
    value = node.this
    kind = _temporal("date_add", value)
    unit = _unit(node, "date_add", kind)
    if not types.is_integer(types.of(node.expression)) and types.is_known(types.of(node.expression)):
        raise AthenaRejects(f"Unexpected parameters (varchar, {types.athena_name(types.of(node.expression))}, "
                            f"{kind}) for function date_add")
    added = _duck(":x + :i", x=value, i=_interval(unit, node.expression))
    if kind == "date":
        return typed(exp.Cast(this=added, to=exp.DataType.build("DATE")), "date")
    return typed(exp.Cast(this=added, to=exp.DataType.build("TIMESTAMP")), "timestamp(3)")


@rule(exp.TimestampTrunc, exp.DateTrunc)
def date_trunc(node: exp.Expression) -> exp.Expression:
    """date_trunc(unit, x): of the type of x; weeks start on Monday (Joda's
    weekOfWeekyear().roundFloor)."""
    value = node.this
    kind = _temporal("date_trunc", value)
    unit = _unit(node, "date_trunc", kind)
    truncated = _duck(f"date_trunc('{unit}', :x)", x=value)
    if kind == "date":
        return typed(exp.Cast(this=truncated, to=exp.DataType.build("DATE")), "date")
    return typed(exp.Cast(this=truncated, to=exp.DataType.build("TIMESTAMP")), "timestamp(3)")


_INTERVAL_UNITS = {"year": "month", "month": "month", "day": "day", "hour": "hour", "minute": "minute",
                   "second": "second"}


def _interval_literal(node: exp.Expression) -> tuple[str, int] | None:
    """(unit, amount) of `interval '3' month` (a whole number of one unit), else None."""
    if not isinstance(node, exp.Interval) or not isinstance(node.this, exp.Literal):
        return None
    unit = node.args.get("unit")
    if unit is None or unit.name.lower() not in _INTERVAL_UNITS:
        return None
    text = node.this.this.strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        return None
    amount = int(text)
    return (unit.name.lower(), amount)


@rule(exp.Add, exp.Sub)
def plus_interval(node: exp.Expression) -> exp.Expression | None:
    """date/timestamp +/- interval (functions/datetime, date and time operators): a date
    stays a date (time units on a date fail as Trino fails); month arithmetic clamps."""
    left, right = node.this, node.expression
    interval = _interval_literal(right)
    value = left
    if interval is None and isinstance(node, exp.Add):
        interval, value = _interval_literal(left), right
    if interval is None or not (_is_date(value) or _is_timestamp(value)):
        return None
    unit, amount = interval
    if isinstance(node, exp.Sub):
        amount = -amount
    if unit == "year":
        unit, amount = "month", amount * 12
    if _is_date(value):
        if unit not in ("day", "month"):  # DateTimeOperators.datePlusIntervalDayToSecond
            raise AthenaRejects("Cannot subtract hour, minutes or seconds from a date" if isinstance(node, exp.Sub)
                                else "Cannot add hour, minutes or seconds to a date")
        shifted = _duck(":x + :i", x=value, i=_interval(unit, exp.Literal.number(amount)))
        return typed(exp.Cast(this=shifted, to=exp.DataType.build("DATE")), "date")
    shifted = _duck(":x + :i", x=value, i=_interval(unit, exp.Literal.number(amount)))
    return typed(exp.Cast(this=shifted, to=exp.DataType.build("TIMESTAMP")), "timestamp(3)")


# -- extraction: bigint, ISO ------------------------------------------------------------------

_FIELDS = {
    "year": "year({x})", "quarter": "quarter({x})", "month": "month({x})", "week": "weekofyear({x})",
    "week_of_year": "weekofyear({x})", "day": "day({x})", "day_of_month": "day({x})",
    "day_of_week": "isodow({x})", "dow": "isodow({x})", "day_of_year": "dayofyear({x})",
    "doy": "dayofyear({x})", "year_of_week": "isoyear({x})", "yow": "isoyear({x})", "hour": "hour({x})",
    "minute": "minute({x})", "second": "second({x})", "millisecond": "(millisecond({x}) % 1000)",
}
_TIME_FIELDS = ("hour", "minute", "second", "millisecond")
_CLASSES = {exp.Year: "year", exp.Quarter: "quarter", exp.Month: "month", exp.WeekOfYear: "week",
            exp.Day: "day", exp.DayOfMonth: "day_of_month", exp.DayOfWeekIso: "day_of_week",
            exp.DayOfWeek: "day_of_week", exp.DayOfYear: "day_of_year", exp.YearOfWeek: "year_of_week",
            exp.Hour: "hour", exp.Minute: "minute", exp.Second: "second"}


def _field(name: str, value: exp.Expression) -> exp.Expression:
    _temporal(name, value)
    return typed(exp.Cast(this=_duck(_FIELDS[name].format(x=":x"), x=value),
                          to=exp.DataType.build("BIGINT")), "bigint")


@rule(*_CLASSES)
def extraction_function(node: exp.Expression) -> exp.Expression:
    """year(x), day_of_week(x), week(x)...: bigint (DateTimeFunctions.yearFromDate...);
    day_of_week is ISO (Monday 1 .. Sunday 7), week and year_of_week are ISO weeks."""
    return _field(_CLASSES[type(node)], node.this)


@rule("yow", "millisecond")
def extraction_by_name(node: exp.Anonymous) -> exp.Expression:
    return _field(node.name.lower(), node.expressions[0])


@rule(exp.Extract)
def extract(node: exp.Extract) -> exp.Expression:
    """extract(field FROM x): the field's function (functions/datetime, extraction)."""
    field = node.this.name.lower()
    if field not in _FIELDS or field == "millisecond":
        raise AthenaRejects(f"Invalid EXTRACT field: {node.this.name}")
    if field in _TIME_FIELDS and _is_date(node.expression):
        raise AthenaRejects(f"Cannot extract {field.upper()} from date")
    return _field(field, node.expression)


@rule(exp.LastDay)
def last_day_of_month(node: exp.LastDay) -> exp.Expression:
    _temporal("last_day_of_month", node.this)
    return typed(exp.Cast(this=_duck("last_day(:x)", x=node.this), to=exp.DataType.build("DATE")), "date")


@rule(exp.TimeToUnix)
def to_unixtime(node: exp.TimeToUnix) -> exp.Expression:
    """to_unixtime(timestamp): double seconds since the epoch (the session zone is UTC)."""
    _temporal("to_unixtime", node.this)
    return typed(exp.Cast(this=_duck("epoch(:x)", x=_as_timestamp(node.this)),
                          to=exp.DataType.build("DOUBLE")), "double")


@rule(exp.CurrentDate)
def current_date(node: exp.CurrentDate) -> exp.Expression:
    """current_date: the date in the session's zone, UTC on Athena."""
    return typed(_duck("CAST(timezone('UTC', current_timestamp) AS DATE)"), "date")


_DATE_TEXT = re.compile(r"\s*([+-]?\d{4,})-(\d{1,2})-(\d{1,2})\s*")


def _valid_date_text(text: str) -> bool:
    import datetime as dt

    match = _DATE_TEXT.fullmatch(text)
    if not match:
        return False
    try:
        dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return False
    return True


@rule(exp.Date)
def date_function(node: exp.Date) -> exp.Expression:
    """date(x) is CAST(x AS date)."""
    value = node.this
    if isinstance(value, exp.Literal) and value.is_string and not _valid_date_text(value.this):
        raise AthenaRejects(f"Value cannot be cast to date: {value.this}")
    return typed(exp.Cast(this=value, to=exp.DataType.build("DATE")), "date")


@rule(exp.Cast)
def date_literal(node: exp.Cast) -> None:
    """CAST('2024-02-30' AS DATE) (and DATE '2024-02-30') fail as Athena fails: checked
    here for a literal; other casts are the casts module's."""
    value = node.this
    if (type(node) is exp.Cast and node.to.this == exp.DataType.Type.DATE and isinstance(value, exp.Literal)
            and value.is_string and not _valid_date_text(value.this)):
        raise AthenaRejects(f"Value cannot be cast to date: {value.this}")
    return None


# -- formatting and parsing -------------------------------------------------------------------

# sqlglot's Trino parser has already turned date_format's and date_parse's MySQL format into
# its own (Python strftime) spelling: %i is %M, %M is %B, %W is %A, %x is %G, %c is %-m, %u is
# %W... These are that spelling's specifiers, as DuckDB's strftime spells them.
_SPECIFIERS = {"a": "%a", "b": "%b", "-m": "%-m", "d": "%d", "-d": "%-d", "f": "%f", "H": "%H", "I": "%I",
               "M": "%M", "j": "%j", "-H": "%-H", "-I": "%-I", "B": "%B", "m": "%m", "p": "%p", "S": "%S",
               "v": "%V", "G": "%G", "A": "%A", "Y": "%Y", "y": "%y", "%": "%%"}
# the specifiers Trino refuses (createDateTimeFormatter: %D %U %u %V %w %X), by the letter the user wrote
_REFUSED = {"W": "u", "w": "w", "U": "U", "V": "V", "X": "X", "D": "D"}
_NOT_PARSED = ("f", "y", "G", "v", "a", "A", "b", "B")  # strptime reads these otherwise than Joda


def _mysql_to_strftime(fmt: str) -> tuple[str, str | None, list[str]]:
    """(DuckDB strftime format, the first specifier Trino refuses or None, the specifiers
    used) of a date_format format as sqlglot parsed it (DateTimeFunctions.createDateTimeFormatter:
    an unknown %x is the literal x)."""
    out: list[str] = []
    used: list[str] = []
    refused = None
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%" or i + 1 >= len(fmt):
            out.append(ch if ch != "%" else "")
            i += 1
            continue
        spec = fmt[i + 1:i + 3] if fmt[i + 1] == "-" else fmt[i + 1]
        i += 1 + len(spec)
        used.append(spec)
        if spec in _REFUSED:
            refused = refused or _REFUSED[spec]
        out.append(_SPECIFIERS.get(spec, spec.lstrip("-")))
    return "".join(out), refused, used


def _literal_format(node: exp.Expression, name: str) -> str:
    fmt = node.args.get("format")
    if fmt is None and isinstance(node, exp.Anonymous) and len(node.expressions) > 1:
        fmt = node.expressions[1]
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        raise NotEmulated(name, "with a format that is not a literal")
    return fmt.this


@rule(exp.TimeToStr)
def date_format(node: exp.TimeToStr) -> exp.Expression:
    """date_format(timestamp, mysql_format) -> varchar; %D %U %u %V %w %X fail with Trino's
    "%u not supported in date format string"."""
    fmt = _literal_format(node, "date_format")
    _temporal("date_format", node.this)
    strftime, refused, _ = _mysql_to_strftime(fmt)
    if refused is not None:
        out = _duck(f"CASE WHEN :x IS NULL THEN NULL ELSE {fail(f'%{refused} not supported in date format string')} END",
                    x=node.this)
    else:
        out = _duck(f"raw_strftime(:x, '{strftime.replace(chr(39), chr(39) * 2)}')", x=node.this)
    return typed(exp.Cast(this=out, to=exp.DataType.build("VARCHAR")), "varchar")


@rule(exp.StrToTime)
def date_parse(node: exp.StrToTime) -> exp.Expression:
    """date_parse(string, mysql_format) -> timestamp(3)."""
    fmt = _literal_format(node, "date_parse")
    strftime, refused, used = _mysql_to_strftime(fmt)
    if refused is not None:
        raise AthenaRejects(f"%{refused} not supported in date format string")
    for spec in used:
        if spec in _NOT_PARSED:
            raise NotEmulated("date_parse", "with this format (two-digit years, fractions, ISO weeks and names "
                              "parse otherwise)")
    quoted = strftime.replace("'", "''")
    out = _duck(f"CASE WHEN :s IS NULL THEN NULL ELSE coalesce(raw_try_strptime(:s, '{quoted}'), "
                f"{fail('Invalid format: ')[:-2]}' || '\"' || :s || '\"')) END", s=node.this)
    return typed(exp.Cast(this=out, to=exp.DataType.build("TIMESTAMP")), "timestamp(3)")


_JODA_LETTERS = "GCYxwevyDMdaKhHkmsSzZEQ"  # Joda's pattern letters, Q for the error


def _joda_to_strftime(pattern: str) -> str:
    """A Joda DateTimeFormat pattern as a DuckDB strftime format, for the letters whose
    output the two agree on; others are refused (Joda: "Illegal pattern component")."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = pattern.find("'", i + 1)
            if end == i + 1:
                out.append("'")
                i += 2
                continue
            if end < 0:
                end = len(pattern)
            out.append(pattern[i + 1:end].replace("''", "'").replace("%", "%%"))
            i = end + 1
            continue
        if not ch.isalpha():
            out.append("%%" if ch == "%" else ch)
            i += 1
            continue
        n = 1
        while i + n < len(pattern) and pattern[i + n] == ch:
            n += 1
        i += n
        spec = _joda_letter(ch, n)
        if ch in "zZ":  # FormatDateTime.datetimeFormatSpecifiesZone
            raise AthenaRejects("format_datetime for TIMESTAMP type, cannot use 'Z' nor 'z' in format, as this "
                                "type does not contain TZ information")
        if spec is None:
            if ch not in _JODA_LETTERS or ch == "Q":
                raise AthenaRejects(f"Illegal pattern component: {ch * n}")
            raise NotEmulated("format_datetime", f"pattern letter {ch * n}")
        out.append(spec)
    return "".join(out)


def _joda_letter(ch: str, n: int) -> str | None:
    if ch in "yY":
        return "%y" if n == 2 else "%Y" if n <= 4 else None
    if ch == "x":
        return "%G" if n in (1, 3, 4) else None
    if ch == "M":
        return {1: "%-m", 2: "%m", 3: "%b"}.get(n, "%B")
    if ch == "E":
        return "%a" if n <= 3 else "%A"
    two = {"d": ("%-d", "%d"), "H": ("%-H", "%H"), "h": ("%-I", "%I"), "m": ("%-M", "%M"),
           "s": ("%-S", "%S"), "w": (None, "%V")}
    if ch in two and n <= 2:
        return two[ch][n - 1]
    if ch == "D":
        return {1: "%-j", 3: "%j"}.get(n)
    if ch == "S":
        return {3: "%g", 6: "%f", 9: "%n"}.get(n)
    if ch == "a" and n == 1:
        return "%p"
    if ch == "e" and n == 1:
        return "%u"
    return None


@rule("format_datetime")
def format_datetime(node: exp.Anonymous) -> exp.Expression:
    """format_datetime(timestamp, joda_pattern) -> varchar (Joda's DateTimeFormat, English)."""
    pattern = _literal_format(node, "format_datetime")
    value = node.expressions[0]
    _temporal("format_datetime", value)
    strftime = _joda_to_strftime(pattern).replace("'", "''")
    return typed(exp.Cast(this=_duck(f"raw_strftime(:x, '{strftime}')", x=value),
                          to=exp.DataType.build("VARCHAR")), "varchar")


@rule(exp.FromISO8601Date)
def from_iso8601_date(node: exp.FromISO8601Date) -> exp.Expression:
    """from_iso8601_date(string) -> date: Joda's ISODateTimeFormat.dateElementParser, i.e.
    yyyy, yyyy-MM, yyyy-MM-dd, yyyy-Www, yyyy-Www-e and yyyy-DDD."""
    s = node.this
    week_monday = ("(make_date(CAST(substr(:s, 1, 4) AS INTEGER), 1, 4) - "
                   "CAST(isodow(make_date(CAST(substr(:s, 1, 4) AS INTEGER), 1, 4)) - 1 AS INTEGER) + "
                   "7 * (CAST(substr(:s, 7, 2) AS INTEGER) - 1))")
    template = (
        "CASE WHEN :s IS NULL THEN NULL "
        "WHEN regexp_full_match(:s, '\\d{4}-\\d{2}-\\d{2}') THEN coalesce(try_cast(:s AS DATE), "
        f"{fail('Invalid format: ')[:-2]}' || '\"' || :s || '\"')) "
        "WHEN regexp_full_match(:s, '\\d{4}-\\d{2}') THEN coalesce(try_cast(:s || '-01' AS DATE), "
        f"{fail('Invalid format: ')[:-2]}' || '\"' || :s || '\"')) "
        "WHEN regexp_full_match(:s, '\\d{4}') THEN make_date(CAST(:s AS INTEGER), 1, 1) "
        f"WHEN regexp_full_match(:s, '\\d{{4}}-W(0[1-9]|[1-4]\\d|5[0-3])') THEN {week_monday} "
        f"WHEN regexp_full_match(:s, '\\d{{4}}-W(0[1-9]|[1-4]\\d|5[0-3])-[1-7]') THEN {week_monday} + "
        "(CAST(substr(:s, 10, 1) AS INTEGER) - 1) "
        "WHEN regexp_full_match(:s, '\\d{4}-(00[1-9]|0[1-9]\\d|[1-2]\\d\\d|3[0-5]\\d|36[0-6])') THEN "
        "make_date(CAST(substr(:s, 1, 4) AS INTEGER), 1, 1) + (CAST(substr(:s, 6, 3) AS INTEGER) - 1) "
        f"ELSE {fail('Invalid format: ')[:-2]}' || '\"' || :s || '\"') END"
    )
    return typed(exp.Cast(this=_duck(template, s=s), to=exp.DataType.build("DATE")), "date")


# -- sequence ---------------------------------------------------------------------------------

_STEP_ZERO = "step must not be zero"
_DIRECTION = ("sequence stop value should be greater than or equal to start value if step is greater than "
              "zero otherwise stop should be less than or equal to start")
_TOO_MANY = "result of sequence function must not have more than 10000 entries"


def _checked_sequence(count: str, step: str, start: str, stop: str, body: str) -> str:
    """SequenceFunction.checkValidStep and checkMaxEntry around the array `body`."""
    return (f"CASE WHEN {start} IS NULL OR {stop} IS NULL OR {step} IS NULL THEN NULL "
            f"WHEN {step} = 0 THEN {fail(_STEP_ZERO)} "
            f"WHEN ({step} > 0 AND {stop} < {start}) OR ({step} < 0 AND {stop} > {start}) THEN {fail(_DIRECTION)} "
            f"WHEN {count} > 10000 THEN {fail(_TOO_MANY)} ELSE {body} END")


@rule(exp.GenerateSeries)
def sequence(node: exp.GenerateSeries) -> exp.Expression:
    """sequence(start, stop[, step]) (SequenceFunction.java): inclusive; without a step, 1 or
    -1 (a day for dates); a month step on dates adds i*step months to start (so Jan 31 by
    a month is Jan 31, Feb 29, Mar 31); at most 10000 entries."""
    start, stop, step = node.args.get("start"), node.args.get("end"), node.args.get("step")
    kinds = [types.of(start), types.of(stop)]
    if all(types.is_integer(k) for k in kinds) and (step is None or types.is_integer(types.of(step))):
        parts = {"a": start, "b": stop, "k": step if step is not None else exp.Literal.number(1)}
        k = "(CASE WHEN :b >= :a THEN 1 ELSE -1 END)" if step is None else "CAST(:k AS BIGINT)"
        body = f"generate_series(CAST(:a AS BIGINT), CAST(:b AS BIGINT), {k})"
        template = _checked_sequence(f"((:b - :a) // {k}) + 1", k, ":a", ":b", body)
        return typed(_duck(template, **parts), "array(bigint)")
    if all(types.is_date(k) for k in kinds):
        if step is None:
            k = "(CASE WHEN :b >= :a THEN 1 ELSE -1 END)"
        else:
            interval = _interval_literal(step)
            if interval is None:
                raise NotEmulated("sequence", "with a step that is not an interval literal")
            unit, amount = interval
            if unit in ("hour", "minute", "second"):
                raise AthenaRejects("sequence step must be a day interval if start and end values are dates")
            if unit in ("month", "year"):
                months = amount * (12 if unit == "year" else 1)
                m = _MONTHS_BETWEEN
                count = f"(({m}) // {months}) + 1" if months else "1"
                body = (f"list_transform(range(0, CAST(({m}) // {months} AS BIGINT) + 1), "
                        f"lambda i: CAST(:a + to_months(CAST(i AS BIGINT) * {months}) AS DATE))") if months else "NULL"
                template = _checked_sequence(count, str(months), ":a", ":b", body)
                return typed(_duck(template, a=start, b=stop), "array(date)")
            k = str(amount)
        body = f"list_transform(range(0, ((:b - :a) // {k}) + 1), lambda i: CAST(:a + CAST(i * {k} AS INTEGER) AS DATE))"
        template = _checked_sequence(f"((:b - :a) // {k}) + 1", k, ":a", ":b", body)
        return typed(_duck(template, a=start, b=stop), "array(date)")
    if all(types.is_timestamp(k) for k in kinds) and step is not None:
        interval = _interval_literal(step)
        if interval is None or interval[0] in ("month", "year"):
            raise NotEmulated("sequence", "of timestamps with this step")
        unit, amount = interval
        step_ms = amount * _MILLIS[unit]
        body = (f"list_transform(range(0, ((epoch_ms(:b) - epoch_ms(:a)) // {step_ms}) + 1), "
                f"lambda i: CAST(:a + to_milliseconds(CAST(i AS BIGINT) * {step_ms}) AS TIMESTAMP))")
        template = _checked_sequence(f"((epoch_ms(:b) - epoch_ms(:a)) // {step_ms}) + 1", str(step_ms),
                                     ":a", ":b", body) if step_ms else _checked_sequence("1", "0", ":a", ":b", "NULL")
        return typed(_duck(template, a=_as_timestamp(start), b=_as_timestamp(stop)), "array(timestamp(3))")
    shown = ", ".join(types.athena_name(types.of(n)) for n in (start, stop, step) if n is not None)
    raise NotEmulated("sequence", f"of {shown}")
