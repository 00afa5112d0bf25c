"""What people read when the audit holds rows back or blocks a run: the quarantine reasons
(values formatted for people, a missing value named as missing) and the blocked-publish
message (each failed rule, its example and threshold, and what to do next)."""
import datetime as dt
import math

import pandas as pd

from glue_jobs.audit import rules as audit_rules

AS_OF = dt.date(2024, 3, 8)

BOOK = audit_rules.parse_rules("""
model: stocks.tmp_daily_prices
raw_header: [timestamp, open, high, low, close, volume]
row_rules:
  - name: shown
    expectation: expect_column_values_to_be_null
    kwargs: {column: parse_error}
    reason: "{symbol} {date} ({weekday}): open {open}, close {close}, high {high}, volume {volume}, fetched {fetched_at}, as of {as_of}"
  - name: misspelt
    expectation: expect_column_values_to_be_null
    kwargs: {column: parse_error}
    reason: "{symbol} {date}: {opne} is not a column"
""")


def _reasons(row):
    return audit_rules.quarantine_labels({"shown": [0], "misspelt": [0]}, {0: row}, BOOK, AS_OF)[0]


def test_a_reason_shows_missing_values_as_missing_and_numbers_and_times_as_people_write_them():
    row = {"symbol": "AAA", "trade_day": "2024-03-07", "open": None, "close": math.nan, "high": 10.123456789012,
           "volume": 1200, "fetched_at": pd.Timestamp("2024-03-07 21:30:05.25"), "raw_line": "2024-03-07,,,,"}
    rules, reason = _reasons(row)
    assert rules == "shown,misspelt"
    assert reason == ("AAA 2024-03-07 (Thursday): open missing, close missing, high 10.12345679, volume 1200, "
                      "fetched 2024-03-07 21:30:05, as of 2024-03-08; "
                      "AAA 2024-03-07: {opne} is not a column")


def test_a_reason_for_a_row_whose_date_did_not_parse_names_the_raw_timestamp():
    # the rule frame gives a missing day as NaN (a pandas category), a hand-made row as None
    row = {"symbol": "AAA", "trade_day": math.nan, "open": 1.5, "close": 2.0, "high": 3.0, "volume": 5,
           "fetched_at": pd.NaT, "raw_line": "03/07/2024,1.5,3,1,2,5"}
    _, reason = _reasons(row)
    assert reason.startswith("AAA 03/07/2024 (unknown weekday): open 1.5, close 2, high 3, volume 5, "
                             "fetched missing, as of 2024-03-08; ")
    no_line = dict(row, trade_day=None, raw_line=None)
    assert _reasons(no_line)[1].startswith("AAA (no date) (unknown weekday): ")


def test_a_reason_writes_an_extreme_price_in_lower_case_notation():
    # a price too small or too large for ten digits (a bad body's value) is written in the
    # lower-case notation Python prints everywhere else in the logs: 1e-07, not 1E-07
    row = {"symbol": "AAA", "trade_day": "2024-03-07", "open": 1.2e-07, "close": 3e20, "high": math.inf,
           "volume": 5, "fetched_at": None, "raw_line": ""}
    _, reason = _reasons(row)
    assert reason.startswith("AAA 2024-03-07 (Thursday): open 1.2e-07, close 3e+20, high inf, volume 5, ")


def test_the_count_of_disagreeing_rows_reads_as_a_whole_number():
    row = {"symbol": "AAA", "trade_day": "2024-03-07", "rows_for_key": 3.0}
    assert audit_rules.row_values(row, AS_OF)["rows_for_key"] == "3"
    assert audit_rules.row_values(dict(row, rows_for_key=math.nan), AS_OF)["rows_for_key"] == "missing"


def test_the_blocked_message_lists_each_failed_rule_with_its_example_and_threshold_and_what_to_do():
    failed = [
        audit_rules.outcome("schema_as_expected", "batch", False, 1, "at most 0 raw bodies with another header", 1,
                            "raw/daily/x/ has header 'timestamp,open'"),
        audit_rules.outcome("row_count_within_bounds", "batch", False, 10, ">= 10 rows", 0, None),
    ]
    assert audit_rules.blocked_message("r1", failed) == "\n".join([
        "the audit blocked the publish of run r1: nothing was written to stocks.daily_prices.",
        "  - schema_as_expected: raw/daily/x/ has header 'timestamp,open' "
        "(threshold: at most 0 raw bodies with another header)",
        "  - row_count_within_bounds: failed (threshold: >= 10 rows)",
        "  Inspect stocks.tmp_daily_prices and stocks.tmp_daily_prices_quarantine (kept until the next run), "
        "fix the source or the threshold setting named in sql/wap/audit/daily_prices.yml, "
        "then run `tickerlake wap` again.",
    ])
