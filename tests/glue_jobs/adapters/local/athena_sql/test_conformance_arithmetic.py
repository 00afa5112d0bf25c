"""Conformance: arithmetic operators (Trino docs: functions/math, "Mathematical operators")."""
from __future__ import annotations

import pyarrow as pa
import pytest

from athena_harness import arrow_type

# (sql, expected value, expected Athena type, Trino documentation section)
CASES = [
    ("select 7 / 2", 3, "integer", "functions/math#mathematical-operators: integer division truncates"),
    ("select -7 / 2", -3, "integer", "functions/math#mathematical-operators: truncation toward zero"),
    ("select sum(volume) / count(volume) from stocks.prices where symbol = 'AAPL'",
     (82488700 + 58414500 + 71983600) // 3, "bigint", "functions/aggregate#sum: sum(bigint) is bigint; bigint / bigint"),
]


@pytest.mark.parametrize("sql, expected, athena_type, section", CASES, ids=[c[0] for c in CASES])
def test_arithmetic_answers_as_athena(athena, sql, expected, athena_type, section):
    answer = athena.answer(sql)
    assert answer.rows == [(expected,)], section
    assert answer.types == [arrow_type(athena_type)], section


def test_integer_division_by_zero_fails_as_athena_does(athena):
    message = athena.refusal("select volume / 0 from stocks.prices")
    assert "Division by zero" in message
    assert "DuckDB" not in message and "//" not in message
    assert pa is not None
