"""Conformance: date and time functions and operators (Trino docs: functions/datetime), and
`sequence` (functions/array).

Expected answers come from Trino's documentation and source, not from running anything:
DateTimeFunctions.java (Joda-Time, UTC chronology), timestamp/DateDiff.java, SequenceFunction.java,
DateTimeOperators.java, and Joda's field arithmetic (BasicMonthOfYearDateTimeField.getDifferenceAsLong:
whole months, the end's day clamped at its month's last day; year differences likewise). Plain
Python's datetime checks the calendar facts (ISO weeks, weekdays)."""
from __future__ import annotations

import datetime as dt

import pytest
from athena_harness import arrow_type, case_ids

D = dt.date
T = dt.datetime

# ISO facts the expectations below rely on, from Python's calendar (not from the engine)
assert D(2024, 1, 7).isoweekday() == 7 and D(2024, 1, 8).isoweekday() == 1
assert D(2021, 1, 3).isocalendar()[:2] == (2020, 53) and D(2024, 12, 30).isocalendar()[:2] == (2025, 1)
assert D(2024, 1, 5).strftime("%A") == "Friday"

# (sql, expected value, expected Athena type, Trino documentation section)
CASES = [
    # date_diff: whole elapsed units (Joda getDifferenceAsLong), b - a
    ("select date_diff('year', date '2023-01-01', date '2023-12-31')", 0, "bigint",
     "functions/datetime#date_diff: a year minus a day is 0 years"),
    ("select date_diff('month', date '2023-01-01', date '2023-12-31')", 11, "bigint",
     "functions/datetime#date_diff: ... and 11 months"),
    ("select date_diff('month', date '2024-01-31', date '2024-02-29')", 1, "bigint",
     "functions/datetime#date_diff: Joda months: Feb 29 is the month's last day, so Jan 31 -> Feb 29 is a month"),
    ("select date_diff('month', date '2024-01-31', date '2024-02-28')", 0, "bigint",
     "functions/datetime#date_diff: Feb 28 2024 is not the month's end: no whole month"),
    ("select date_diff('month', date '2024-02-29', date '2024-01-31')", -1, "bigint",
     "functions/datetime#date_diff: negative span = -(whole months from Jan 31 to Feb 29)"),
    ("select date_diff('day', date '2024-03-01', date '2024-02-01')", -29, "bigint",
     "functions/datetime#date_diff: days, negative, leap February"),
    ("select date_diff('week', date '2024-01-01', date '2024-01-14')", 1, "bigint",
     "functions/datetime#date_diff: 13 days is 1 whole week"),
    ("select date_diff('week', date '2024-01-14', date '2024-01-01')", -1, "bigint",
     "functions/datetime#date_diff: weeks truncate toward zero"),
    ("select date_diff('quarter', date '2024-01-15', date '2024-07-14')", 1, "bigint",
     "functions/datetime#date_diff: quarters = whole months (5) / 3 (QuarterOfYearDateTimeField)"),
    ("select date_diff('year', date '2024-02-29', date '2025-02-28')", 1, "bigint",
     "functions/datetime#date_diff: Joda year difference balances Feb 29 against a common year"),
    ("select date_diff('year', date '2025-02-28', date '2024-02-29')", -1, "bigint",
     "functions/datetime#date_diff: negative years = -(years from Feb 29 2024 to Feb 28 2025)"),
    ("select date_diff('month', timestamp '2024-01-31 10:00:00.000', timestamp '2024-02-29 09:00:00.000')", 0,
     "bigint", "functions/datetime#date_diff: the time of day counts in a month's remainder"),
    ("select date_diff('hour', timestamp '2024-01-01 10:59:59.999', timestamp '2024-01-01 11:00:00.000')", 0,
     "bigint", "functions/datetime#date_diff: 1 ms is no whole hour (not a boundary count)"),
    ("select date_diff('minute', timestamp '2024-01-01 10:00:30.000', timestamp '2024-01-01 09:58:00.000')", -2,
     "bigint", "functions/datetime#date_diff: -150 s is -2 whole minutes"),
    ("select date_diff('second', timestamp '2020-03-01 00:00:00.000', timestamp '2020-03-02 00:00:00.000')", 86400,
     "bigint", "functions/datetime#date_diff: the documented example"),
    ("select date_diff('millisecond', timestamp '2024-01-01 00:00:00.000', timestamp '2024-01-01 00:00:01.234')",
     1234, "bigint", "functions/datetime#date_diff: milliseconds"),
    ("select date_diff('day', min(trade_date), max(trade_date)) from stocks.prices", 2, "bigint",
     "functions/datetime#date_diff: over date columns"),
    # date_add: of the type of its argument; months clamp
    ("select date_add('month', 1, date '2024-01-31')", D(2024, 2, 29), "date",
     "functions/datetime#date_add: a date stays a date; Jan 31 + 1 month clamps to Feb 29"),
    ("select date_add('day', -1, date '2024-03-01')", D(2024, 2, 29), "date", "functions/datetime#date_add"),
    ("select date_add('year', 1, date '2024-02-29')", D(2025, 2, 28), "date",
     "functions/datetime#date_add: Feb 29 + 1 year clamps to Feb 28"),
    ("select date_add('quarter', 1, date '2024-11-30')", D(2025, 2, 28), "date",
     "functions/datetime#date_add: a quarter is 3 months"),
    ("select date_add('week', 2, date '2024-01-01')", D(2024, 1, 15), "date", "functions/datetime#date_add"),
    ("select date_add('hour', 9, timestamp '2020-03-01 00:00:00.000')", T(2020, 3, 1, 9), "timestamp(3)",
     "functions/datetime#date_add: the documented example"),
    ("select date_add('second', 86, timestamp '2020-03-01 00:00:00.000')", T(2020, 3, 1, 0, 1, 26),
     "timestamp(3)", "functions/datetime#date_add: the documented example"),
    # date_trunc: of the type of its argument
    ("select date_trunc('month', date '2024-05-17')", D(2024, 5, 1), "date",
     "functions/datetime#date_trunc: a date stays a date"),
    ("select date_trunc('week', date '2024-01-07')", D(2024, 1, 1), "date",
     "functions/datetime#date_trunc: weeks start on Monday"),
    ("select date_trunc('quarter', date '2024-05-17')", D(2024, 4, 1), "date", "functions/datetime#date_trunc"),
    ("select date_trunc('hour', timestamp '2001-08-22 03:04:05.321')", T(2001, 8, 22, 3), "timestamp(3)",
     "functions/datetime#truncation-function: the documented table"),
    ("select date_trunc('second', timestamp '2001-08-22 03:04:05.321')", T(2001, 8, 22, 3, 4, 5), "timestamp(3)",
     "functions/datetime#truncation-function: the documented table"),
    # date and time operators
    ("select date '2012-08-08' + interval '2' day", D(2012, 8, 10), "date",
     "functions/datetime#date-and-time-operators: date + interval is a date"),
    ("select date '2024-03-31' - interval '1' month", D(2024, 2, 29), "date",
     "functions/datetime#date-and-time-operators: month arithmetic clamps at the month's end"),
    ("select interval '3' year + date '2001-01-22'", D(2004, 1, 22), "date",
     "functions/datetime#date-and-time-operators: interval + date"),
    ("select timestamp '2012-10-31 01:00:00.000' + interval '1' month", T(2012, 11, 30, 1), "timestamp(3)",
     "functions/datetime#date-and-time-operators: the documented example"),
    ("select timestamp '2012-08-08 01:00:00.000' - interval '29' hour", T(2012, 8, 6, 20), "timestamp(3)",
     "functions/datetime#date-and-time-operators: the documented example"),
    # extraction: bigint, ISO
    ("select extract(dow from date '2024-01-07')", 7, "bigint", "functions/datetime#extraction-function: ISO, Sunday 7"),
    ("select day_of_week(date '2024-01-08')", 1, "bigint", "functions/datetime#day_of_week: Monday 1"),
    ("select dow(date '2024-01-07')", 7, "bigint", "functions/datetime#dow"),
    ("select day_of_year(date '2024-12-31')", 366, "bigint", "functions/datetime#day_of_year"),
    ("select doy(date '2023-12-31')", 365, "bigint", "functions/datetime#doy"),
    ("select week(date '2021-01-03')", 53, "bigint", "functions/datetime#week: ISO week"),
    ("select week_of_year(date '2024-12-30')", 1, "bigint", "functions/datetime#week_of_year: ISO week"),
    ("select year_of_week(date '2021-01-03')", 2020, "bigint", "functions/datetime#year_of_week"),
    ("select yow(date '2024-12-30')", 2025, "bigint", "functions/datetime#yow"),
    ("select extract(year_of_week from date '2021-01-03')", 2020, "bigint", "functions/datetime#extraction-function"),
    ("select quarter(date '2024-05-17')", 2, "bigint", "functions/datetime#quarter"),
    ("select month(date '2024-05-17')", 5, "bigint", "functions/datetime#month"),
    ("select day(date '2024-05-17')", 17, "bigint", "functions/datetime#day"),
    ("select day_of_month(date '2024-05-17')", 17, "bigint", "functions/datetime#day_of_month"),
    ("select max(year(trade_date)) from stocks.prices", 2024, "bigint", "functions/datetime#year: bigint"),
    ("select extract(week from date '2021-01-03')", 53, "bigint", "functions/datetime#extraction-function"),
    ("select hour(timestamp '2024-01-01 13:45:30.250')", 13, "bigint", "functions/datetime#hour"),
    ("select minute(timestamp '2024-01-01 13:45:30.250')", 45, "bigint", "functions/datetime#minute"),
    ("select second(timestamp '2024-01-01 13:45:30.250')", 30, "bigint", "functions/datetime#second"),
    ("select millisecond(timestamp '2024-01-01 13:45:30.250')", 250, "bigint", "functions/datetime#millisecond"),
    # timestamps read from the catalog are timestamp(3), micros rounded half-up (Timestamps.round)
    ("select traded_at from stocks.prices where symbol = 'AAPL' and trade_date = date '2024-01-02'",
     T(2024, 1, 2, 15, 59, 59, 123000), "timestamp(3)", "language/types#timestamp: millisecond precision"),
    ("select traded_at from stocks.prices where symbol = 'AAPL' and trade_date = date '2024-01-03'",
     T(2024, 1, 3, 15, 59, 59), "timestamp(3)", "language/types#timestamp: .999999 rounds up to the next second"),
    ("select traded_at from stocks.prices where symbol = 'MSFT' and trade_date = date '2024-01-03'",
     T(2024, 1, 3, 9, 30, 0, 1000), "timestamp(3)", "language/types#timestamp: 500 micros round half-up"),
    ("select millisecond(traded_at) from stocks.prices where symbol = 'AAPL' and trade_date = date '2024-01-02'",
     123, "bigint", "functions/datetime#millisecond: of the millisecond value"),
    # date_format: MySQL specifiers (DateTimeFunctions.createDateTimeFormatter)
    ("select date_format(timestamp '2022-10-20 05:10:00.000', '%m-%d-%Y %H')", "10-20-2022 05", "varchar",
     "functions/datetime#date_format: the documented example"),
    ("select date_format(date '2021-01-03', '%x-%v')", "2020-53", "varchar",
     "functions/datetime#mysql-date-functions: %x %v are the ISO week-year and week"),
    ("select date_format(timestamp '2024-01-05 14:07:09.123', '%a %b %c %e %k %l %p %i %s %j %W %M %y')",
     "Fri Jan 1 5 14 2 PM 07 09 005 Friday January 24", "varchar", "functions/datetime#mysql-date-functions"),
    ("select date_format(timestamp '2024-01-05 14:07:09.123', '%f|%T|%r|%%|%q')",
     "123000|14:07:09|02:07:09 PM|%|q", "varchar",
     "functions/datetime#mysql-date-functions: %f prints 6 digits of millis; %q is a literal q"),
    # format_datetime: Joda patterns
    ("select format_datetime(timestamp '2024-01-05 14:07:09.123', 'yyyy-MM-dd HH:mm:ss.SSS')",
     "2024-01-05 14:07:09.123", "varchar", "functions/datetime#format_datetime: Joda DateTimeFormat"),
    ("select format_datetime(date '2024-01-05', 'EEE, d MMM yyyy')", "Fri, 5 Jan 2024", "varchar",
     "functions/datetime#format_datetime: text fields"),
    ("select format_datetime(timestamp '2024-01-05 14:07:09.123', 'EEEE MMMM hh:mm a')",
     "Friday January 02:07 PM", "varchar", "functions/datetime#format_datetime: 12-hour clock"),
    ("select format_datetime(date '2024-05-17', 'yyyy ''Q''')", "2024 Q", "varchar",
     "functions/datetime#format_datetime: quoted literal text"),
    # date_parse, from_iso8601_date, to_unixtime, last_day_of_month, date()
    ("select date_parse('2022/10/20/05', '%Y/%m/%d/%H')", T(2022, 10, 20, 5), "timestamp(3)",
     "functions/datetime#date_parse: the documented example"),
    ("select date_parse('2024-01-05 14:07:09', '%Y-%m-%d %H:%i:%s')", T(2024, 1, 5, 14, 7, 9), "timestamp(3)",
     "functions/datetime#date_parse"),
    ("select from_iso8601_date('2020-05-11')", D(2020, 5, 11), "date", "functions/datetime#from_iso8601_date"),
    ("select from_iso8601_date('2020-W10')", D(2020, 3, 2), "date",
     "functions/datetime#from_iso8601_date: the documented week date"),
    ("select from_iso8601_date('2020-123')", D(2020, 5, 2), "date",
     "functions/datetime#from_iso8601_date: the documented ordinal date"),
    ("select to_unixtime(timestamp '2024-01-01 00:00:00.500')",
     dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc).timestamp() + 0.5, "double", "functions/datetime#to_unixtime"),
    ("select last_day_of_month(date '2024-02-10')", D(2024, 2, 29), "date", "functions/datetime#last_day_of_month"),
    ("select last_day_of_month(timestamp '2023-02-10 10:00:00.000')", D(2023, 2, 28), "date",
     "functions/datetime#last_day_of_month: of a timestamp, a date"),
    ("select date('2024-02-29')", D(2024, 2, 29), "date", "functions/datetime#date"),
    ("select count(*) from stocks.prices where trade_date = date '2024-01-03'", 2, "bigint",
     "language/types#date: a date compared with a date"),
    # sequence (functions/array#sequence; SequenceFunction.java)
    ("select sequence(date '2024-01-01', date '2024-01-03')", [D(2024, 1, 1), D(2024, 1, 2), D(2024, 1, 3)],
     "array(date)", "functions/array#sequence: dates without a step go by a day"),
    ("select sequence(date '2024-01-03', date '2024-01-01')", [D(2024, 1, 3), D(2024, 1, 2), D(2024, 1, 1)],
     "array(date)", "functions/array#sequence: ... or back by a day"),
    ("select sequence(date '2024-01-31', date '2024-05-01', interval '1' month)",
     [D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31), D(2024, 4, 30)], "array(date)",
     "functions/array#sequence: each entry is start + i months (sequenceDateYearToMonth)"),
    ("select sequence(date '2024-01-01', date '2024-01-10', interval '3' day)",
     [D(2024, 1, 1), D(2024, 1, 4), D(2024, 1, 7), D(2024, 1, 10)], "array(date)",
     "functions/array#sequence: a day step"),
    ("select sequence(1, 5)", [1, 2, 3, 4, 5], "array(bigint)", "functions/array#sequence"),
    ("select sequence(5, 1)", [5, 4, 3, 2, 1], "array(bigint)", "functions/array#sequence: default step -1"),
    ("select sequence(1, 10, 4)", [1, 5, 9], "array(bigint)", "functions/array#sequence: with a step"),
]


@pytest.mark.parametrize("sql, expected, athena_type, section", CASES, ids=case_ids(CASES))
def test_datetime_answers_as_athena(athena, sql, expected, athena_type, section):
    answer = athena.answer(sql)
    assert answer.rows == [(expected,)], section
    assert answer.types == [arrow_type(athena_type)], section


def test_timestamp_columns_have_millisecond_precision_in_every_row(athena):
    answer = athena.answer("select symbol, traded_at from stocks.prices order by symbol, trade_date")
    assert answer.types[1] == arrow_type("timestamp(3)")
    assert [r[1] for r in answer.rows] == [
        T(2024, 1, 2, 15, 59, 59, 123000), T(2024, 1, 3, 15, 59, 59), T(2024, 1, 4, 16, 0),  # AAPL
        T(2024, 1, 2, 10, 0),  # IBM
        None, T(2024, 1, 3, 9, 30, 0, 1000),  # MSFT
    ]


def test_current_date_is_a_date_in_utc(athena):
    before = dt.datetime.now(dt.timezone.utc).date()
    answer = athena.answer("select current_date")
    after = dt.datetime.now(dt.timezone.utc).date()
    assert answer.types == [arrow_type("date")]
    assert answer.rows[0][0] in (before, after)


# (sql, words Athena's message has, Trino source or documentation section)
REFUSALS = [
    ("select date_format(trade_date, '%u') from stocks.prices", "%u not supported in date format string",
     "functions/datetime#mysql-date-functions: %D %U %u %V %w %X are not supported"),
    ("select date_format(date '2024-01-01', '%w')", "%w not supported in date format string",
     "functions/datetime#mysql-date-functions"),
    ("select date_diff('hour', date '2024-01-01', date '2024-01-02')", "'hour' is not a valid DATE field",
     "DateTimeFunctions.getDateField"),
    ("select date_add('hour', 1, date '2024-01-01')", "'hour' is not a valid DATE field",
     "DateTimeFunctions.getDateField"),
    ("select date_trunc('fortnight', timestamp '2024-01-01 00:00:00.000')",
     "'fortnight' is not a valid Timestamp field", "DateTimeFunctions.getTimestampField"),
    ("select date '2001-01-22' + interval '3' hour", "Cannot add hour, minutes or seconds to a date",
     "DateTimeOperators.datePlusIntervalDayToSecond"),
    ("select date '2001-01-22' - interval '3' hour", "Cannot subtract hour, minutes or seconds from a date",
     "DateTimeOperators.dateMinusIntervalDayToSecond"),
    ("select format_datetime(date '2024-05-17', 'yyyy Q')", "Illegal pattern component: Q",
     "functions/datetime#format_datetime: Joda has no quarter letter"),
    ("select format_datetime(timestamp '2024-05-17 00:00:00.000', 'HH:mm z')",
     "cannot use 'Z' nor 'z' in format", "FormatDateTime.datetimeFormatSpecifiesZone"),
    ("select date_parse('x', '%Y')", 'Invalid format: "x"', "functions/datetime#date_parse"),
    ("select from_iso8601_date('2020-05-11T10:00')", 'Invalid format: "2020-05-11T10:00"',
     "functions/datetime#from_iso8601_date"),
    ("select cast('2024-02-30' as date)", "Value cannot be cast to date: 2024-02-30", "functions/conversion#cast"),
    ("select count(*) from stocks.prices where trade_date >= '2024-01-03'",
     "Cannot apply operator: date >= varchar(10)", "language/types#date: no implicit cast from varchar"),
    ("select count(*) from stocks.prices where trade_date between '2024-01-01' and '2024-01-31'",
     "Cannot check if date is BETWEEN varchar(10) and varchar(10)", "language/types#date"),
    ("select sequence(1, 5, 0)", "step must not be zero", "SequenceFunction.checkValidStep"),
    ("select sequence(5, 1, 1)", "sequence stop value should be greater than or equal to start value",
     "SequenceFunction.checkValidStep"),
    ("select sequence(1, 20000)", "result of sequence function must not have more than 10000 entries",
     "SequenceFunction.checkMaxEntry"),
    ("select sequence(date '2024-01-01', date '2024-01-02', interval '1' hour)",
     "sequence step must be a day interval if start and end values are dates", "SequenceFunction"),
]


@pytest.mark.parametrize("sql, words, section", REFUSALS, ids=case_ids(REFUSALS))
def test_datetime_refuses_as_athena(athena, sql, words, section):
    athena.refused(sql, words, section, "epoch")


def test_from_unixtime_is_refused_as_not_supported_yet(athena):
    message = athena.refusal("select from_unixtime(0)")
    assert "valid Athena SQL that the local engine does not support yet: from_unixtime" in message
