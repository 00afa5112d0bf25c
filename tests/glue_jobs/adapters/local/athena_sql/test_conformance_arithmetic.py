"""Conformance: arithmetic operators (Trino docs: functions/math "Mathematical operators",
language/types "Fixed-precision" decimal, and the operators' source: BigintOperators,
IntegerOperators, DecimalOperators, DoubleOperators in trinodb/trino core/trino-main).

Expected values are plain Python: integer arithmetic, decimal.Decimal with ROUND_HALF_UP for
Trino's decimal division (DecimalOperators.divide uses divideRoundUp: half away from zero), and
IEEE doubles for double arithmetic. Decimal result types follow DecimalOperators' signatures:
  + and -: decimal(min(38, max(p1-s1, p2-s2) + max(s1, s2) + 1), max(s1, s2))
  *:       decimal(min(38, p1 + p2), s1 + s2)
  /:       decimal(min(38, p1 + s2 + max(s2 - s1, 0)), max(s1, s2))
  %:       decimal(min(38, min(p1-s1, p2-s2) + max(s1, s2)), max(s1, s2))
with an integer operand widened to decimal(10,0) (bigint: decimal(19,0)) and a literal 2.5
typed decimal(2,1) (Athena v3 reads decimal literals as decimals)."""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import pytest
from athena_harness import PRICES, arrow_type, case_ids


def divide(a: str, b: str, scale: int) -> Decimal:
    """Trino's decimal quotient: exact, then rounded half up to the result's scale."""
    return (Decimal(a) / Decimal(b)).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


MSFT_0102_VOLUME = next(r[3] for r in PRICES if r[0] == "MSFT" and r[1].day == 2)
MSFT_0103_VOLUME = next(r[3] for r in PRICES if r[0] == "MSFT" and r[1].day == 3)
IBM_CLOSE = next(r[2] for r in PRICES if r[0] == "IBM")
AAPL_VOLUMES = [r[3] for r in PRICES if r[0] == "AAPL"]

# (sql, expected value, expected Athena type, Trino documentation section)
CASES = [
    ("select 7 / 2", 3, "integer", "functions/math#mathematical-operators: integer division truncates"),
    ("select -7 / 2", -3, "integer", "functions/math#mathematical-operators: truncation toward zero"),
    ("select sum(volume) / count(volume) from stocks.prices where symbol = 'AAPL'",
     sum(AAPL_VOLUMES) // len(AAPL_VOLUMES), "bigint", "functions/aggregate#sum: sum(bigint) is bigint; bigint / bigint"),
    ("select cast(7 as smallint) / cast(2 as smallint)", 3, "smallint",
     "functions/math#mathematical-operators: smallint / smallint is smallint (SmallintOperators.divide)"),
    ("select cast(7 as smallint) / 2", 3, "integer", "language/types#integer: smallint widens to integer"),
    ("select volume / 7 from stocks.prices where symbol = 'MSFT' and trade_date = date '2024-01-02'",
     MSFT_0102_VOLUME // 7, "bigint", "functions/math#mathematical-operators: bigint / integer is bigint"),
    ("select -7 % 3", -1, "integer", "functions/math#mathematical-operators: % takes the dividend's sign (Java %)"),
    ("select mod(7, -3)", 1, "integer", "functions/math#mod: mod(n, m) is n % m, the dividend's sign"),
    ("select 2147483647 + cast(1 as bigint)", 2147483648, "bigint",
     "language/types#bigint: integer + bigint is computed as bigint"),
    ("select 100.0 * 3 / 7", divide("300.0", "7", 1), "decimal(14,1)",
     "language/types#decimal: 100.0 is decimal(4,1); * integer is decimal(14,1); / integer keeps scale 1, half up"),
    ("select 1.5 / 0.25", divide("1.5", "0.25", 2), "decimal(5,2)", "language/types#decimal: decimal division scale max(s1, s2)"),
    ("select 2 / 3.0", divide("2", "3.0", 1), "decimal(12,1)", "language/types#decimal: 0.666... rounds half up to 0.7"),
    ("select -2 / 3.0", divide("-2", "3.0", 1), "decimal(12,1)", "language/types#decimal: rounding is symmetric (away from zero)"),
    ("select 1.00 / 8", divide("1.00", "8", 2), "decimal(3,2)",
     "language/types#decimal: 0.125 rounds half up to 0.13 (not to even)"),
    ("select -1.00 / 8", divide("-1.00", "8", 2), "decimal(3,2)", "language/types#decimal: -0.125 rounds to -0.13"),
    ("select 2.5 - 0.25", Decimal("2.25"), "decimal(4,2)", "language/types#decimal: subtraction precision and scale"),
    ("select 0.1 + 0.2", Decimal("0.3"), "decimal(2,1)", "language/types#decimal: decimal addition is exact"),
    ("select 1.5 * 2.25", Decimal("3.375"), "decimal(5,3)", "language/types#decimal: multiplication adds scales"),
    ("select 10.25 % 0.1", Decimal("0.05"), "decimal(2,2)", "language/types#decimal: decimal modulus"),
    ("select 1 + 2.5", Decimal("3.5"), "decimal(12,1)", "language/types#decimal: integer + decimal(2,1)"),
    ("select volume * 1.5 from stocks.prices where symbol = 'MSFT' and trade_date = date '2024-01-03'",
     Decimal(MSFT_0103_VOLUME) * Decimal("1.5"), "decimal(21,1)", "language/types#decimal: bigint * decimal(2,1)"),
    ("select close * 2 from stocks.prices where symbol = 'IBM'", IBM_CLOSE * 2, "double",
     "functions/math#mathematical-operators: double * integer is double"),
    ("select 1e0 / 0", math.inf, "double", "functions/math#floating-point-functions: double division by zero is Infinity"),
    ("select -1e0 / 0", -math.inf, "double", "functions/math: -1e0 / 0 is -Infinity (IEEE, DoubleOperators.divide)"),
    ("select 0e0 / 0", math.nan, "double", "functions/math: 0e0 / 0 is NaN (IEEE)"),
    ("select 5.5e0 % 0e0", math.nan, "double", "functions/math: double % 0 is NaN (Java %)"),
    ("select -5.5e0 % 2", math.fmod(-5.5, 2), "double", "functions/math: double % takes the dividend's sign"),
]


def same(actual, expected) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    return actual == expected and type(actual) is type(expected)


@pytest.mark.parametrize("sql, expected, athena_type, section", CASES, ids=case_ids(CASES))
def test_arithmetic_answers_as_athena(athena, sql, expected, athena_type, section):
    answer = athena.answer(sql)
    assert len(answer.rows) == 1 and same(answer.rows[0][0], expected), (section, answer.rows)
    assert answer.types == [arrow_type(athena_type)], section


REFUSALS = [
    ("select volume / 0 from stocks.prices", "Division by zero", "functions/math: integer division by zero fails"),
    ("select 7 % 0", "Division by zero", "functions/math: integer modulus by zero fails"),
    ("select 1.0 / 0", "Division by zero", "language/types#decimal: decimal division by zero fails"),
    ("select 9223372036854775807 + 1", "bigint addition overflow: 9223372036854775807 + 1",
     "language/types#bigint: BigintOperators.add overflows with this message"),
    ("select 2147483647 * 2", "integer multiplication overflow: 2147483647 * 2",
     "language/types#integer: IntegerOperators.multiply overflows with this message"),
]


@pytest.mark.parametrize("sql, message, section", REFUSALS, ids=case_ids(REFUSALS))
def test_arithmetic_fails_as_athena_does(athena, sql, message, section):
    athena.refused(sql, message, section, "//", "HUGEINT", "athena-twin")


def test_unaliased_arithmetic_is_named_as_athena_names_it(athena):
    assert athena.answer("select 1 + 1, 2.5 * 2 as x").names == ["_col0", "x"]
