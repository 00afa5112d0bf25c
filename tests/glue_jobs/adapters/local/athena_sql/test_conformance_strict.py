"""Conformance: what Athena refuses before running (analysis errors), refused locally in Athena's
words, and the comparisons it accepts still answered. Wording from Trino's
core/trino-main/.../sql/analyzer/ExpressionAnalyzer.java and StatementAnalyzer.java
("Cannot apply operator: %s %s %s", "Cannot check if %s is BETWEEN %s and %s", "Column '%s'
cannot be resolved", "Table '%s' does not exist", "Function '%s' not registered",
"Unexpected parameters (%s) for function %s"); the grammar from sql/select (OFFSET before LIMIT)."""
from __future__ import annotations

import pytest
from athena_harness import PRICES, case_ids

# (sql, words the user reads, Trino documentation section)
REFUSALS = [
    ("select symbol from stocks.prices where symbol = 1", "Cannot apply operator: varchar = integer",
     "functions/comparison: no comparison between varchar and integer"),
    ("select symbol from stocks.prices where volume = 'x'", "Cannot apply operator: bigint = varchar(1)",
     "functions/comparison: a string literal is varchar(n)"),
    ("select symbol from stocks.prices where trade_date >= '2024-01-01'", "Cannot apply operator: date >= varchar(10)",
     "functions/comparison: a date against a string literal"),
    ("select symbol from stocks.prices where trade_date between '2024-01-01' and '2024-02-01'",
     "Cannot check if date is BETWEEN varchar(10) and varchar(10)", "functions/comparison#range-operator-between"),
    ("select symbol from stocks.prices where trade_date in ('2024-01-02')",
     "IN value and list items must be the same type: date", "functions/comparison#in"),
    ("select lower(volume) from stocks.prices", "Unexpected parameters (bigint) for function lower",
     "functions/string#lower: lower(varchar)"),
    ("select nope from stocks.prices", "Column 'nope' cannot be resolved", "sql/select"),
    ("select * from stocks.nope", "Table 'awsdatacatalog.stocks.nope' does not exist", "sql/select"),
    ("select frobnicate(1)", "Function 'frobnicate' not registered", "functions"),
    ("select symbol from stocks.prices limit 1 offset 1", "mismatched input 'OFFSET'", "sql/select#offset-clause"),
]


@pytest.mark.parametrize("sql, words, section", REFUSALS, ids=case_ids(REFUSALS))
def test_refused_before_running_in_athenas_words(athena, sql, words, section):
    athena.refused(sql, words, section)


def test_comparisons_athena_accepts_still_answer(athena):
    # numbers of different types compare (integer, bigint, decimal, double); dates with dates
    expected = sum(1 for r in PRICES if r[3] is not None and r[3] > 1.5 and r[2] is not None and r[2] < 200)
    assert athena.value("select count(*) from stocks.prices where volume > 1.5 and close < 200") == expected
    rows = athena.answer("select symbol from stocks.prices where trade_date = date '2024-01-02' order by symbol").rows
    assert rows == sorted((r[0],) for r in PRICES if r[1].isoformat() == "2024-01-02")
    assert athena.value("select count(*) from stocks.prices where traded_at < timestamp '2024-01-03 00:00:00.000'") == \
        sum(1 for r in PRICES if r[5] is not None and r[5].isoformat() < "2024-01-03")
