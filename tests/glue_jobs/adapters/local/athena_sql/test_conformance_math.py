"""Conformance: mathematical functions (Trino docs: functions/math, functions/comparison
greatest/least; source: io.trino.operator.scalar.MathFunctions).

Expected values are plain Python re-statements of MathFunctions:
- round(double x, d) = -(Math.round(-x * 10^d) / 10^d) for x < 0, else Math.round(x * 10^d) / 10^d,
  Math.round being half up on the exact double (e.g. 2.675 * 100 is exactly 267.5 in doubles,
  so round(2.675e0, 2) is 2.68, while 1.005 * 100 is 100.49999999999999 and gives 1.0);
- round(decimal(p,s)) is decimal(min(38, p - s + min(1, s)), 0), round(decimal(p,s), d) is
  decimal(min(38, p + 1), s) (RoundN), both half up; round(integer, d < 0) is
  LongMath.divide(x, 10^-d, HALF_UP) * 10^-d;
- floor/ceiling(decimal(p,s)) is decimal(p - s + min(s, 1), 0), truncate(decimal(p,s)) is
  decimal(max(1, p - s), 0), truncate(decimal(p,s), d) keeps decimal(p,s);
- sign(double) is a double, sign(decimal) decimal(1,0), sign(bigint) bigint;
- width_bucket as MathFunctions.widthBucket."""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import pytest
from athena_harness import PRICES, arrow_type, case_ids


def java_round(value: float) -> int:
    """Java's Math.round for a non-negative double: the nearest long, ties up, computed on
    the double's exact value."""
    return int(Decimal(value).to_integral_value(rounding=ROUND_HALF_UP))


def trino_round(x: float, d: int) -> float:
    factor = 10.0 ** d  # Math.pow(10, d): exact for these d
    if x < 0:
        return -(java_round(-x * factor) / factor)
    return java_round(x * factor) / factor


def width_bucket(operand: float, bound1: float, bound2: float, count: int) -> int:
    lower, upper = min(bound1, bound2), max(bound1, bound2)
    if operand < lower:
        result = 0
    elif operand >= upper:
        result = count + 1
    else:
        result = int(float(count) * (operand - lower) / (upper - lower) + 1)
    return count - result + 1 if bound1 > bound2 else result


IBM_CLOSE = next(r[2] for r in PRICES if r[0] == "IBM")
MSFT_0102_VOLUME = next(r[3] for r in PRICES if r[0] == "MSFT" and r[1].day == 2)
IBM = "from stocks.prices where symbol = 'IBM'"
MSFT = "from stocks.prices where symbol = 'MSFT' and trade_date = date '2024-01-02'"

# (sql, expected value, expected Athena type, Trino documentation section)
CASES = [
    ("select round(2.675e0, 2)", trino_round(2.675, 2), "double", "functions/math#round: half up after scaling in double"),
    ("select round(1.005e0, 2)", trino_round(1.005, 2), "double", "functions/math#round: 1.005 * 100 is below 100.5"),
    ("select round(2.5e0)", 3.0, "double", "functions/math#round: round(double) is a double, half up"),
    ("select round(-2.5e0)", -3.0, "double", "functions/math#round: symmetric for negatives (away from zero)"),
    ("select round(125.5e0, -1)", trino_round(125.5, -1), "double", "functions/math#round: negative d"),
    (f"select round(close, 1) {IBM}", trino_round(IBM_CLOSE, 1), "double", "functions/math#round: a double column"),
    ("select round(2.5)", Decimal("3"), "decimal(2,0)", "functions/math#round: decimal(p,s) -> decimal(p-s+1, 0)"),
    ("select round(-2.5)", Decimal("-3"), "decimal(2,0)", "functions/math#round: decimal half up, symmetric"),
    ("select round(1.25, 1)", Decimal("1.30"), "decimal(4,2)", "functions/math#round: round(decimal(p,s), d) is decimal(p+1, s)"),
    ("select round(1250, -2)", 1300, "integer", "functions/math#round: round(integer, d) is an integer, half up"),
    ("select round(-1250, -2)", -1300, "integer", "functions/math#round: integer half up away from zero"),
    (f"select round(volume) {MSFT}", MSFT_0102_VOLUME, "bigint", "functions/math#round: round(bigint) is bigint"),
    ("select truncate(2.757, 2)", Decimal("2.750"), "decimal(4,3)", "functions/math#truncate: truncate(decimal, n) keeps the type"),
    ("select truncate(-2.7e0)", -2.0, "double", "functions/math#truncate: toward zero"),
    ("select truncate(12.5)", Decimal("12"), "decimal(2,0)", "functions/math#truncate: decimal(max(1, p - s), 0)"),
    ("select floor(2.5)", Decimal("2"), "decimal(2,0)", "functions/math#floor: decimal(p - s + min(s, 1), 0)"),
    ("select ceil(-2.5)", Decimal("-2"), "decimal(2,0)", "functions/math#ceil: decimal(p - s + min(s, 1), 0)"),
    ("select ceiling(2.1e0)", 3.0, "double", "functions/math#ceiling: a double stays a double"),
    (f"select floor(volume) {MSFT}", MSFT_0102_VOLUME, "bigint", "functions/math#floor: bigint stays bigint"),
    ("select abs(-2.5)", Decimal("2.5"), "decimal(2,1)", "functions/math#abs: same type as the argument"),
    ("select abs(-7)", 7, "integer", "functions/math#abs: integer stays integer"),
    ("select sign(-2.5e0)", -1.0, "double", "functions/math#sign: sign(double) is a double"),
    ("select sign(-2.5)", Decimal("-1"), "decimal(1,0)", "functions/math#sign: sign(decimal) is decimal(1,0)"),
    (f"select sign(volume) {MSFT}", 1, "bigint", "functions/math#sign: sign(bigint) is bigint"),
    ("select sign(nan())", math.nan, "double", "functions/math#sign: Math.signum(NaN) is NaN"),
    ("select sqrt(16)", 4.0, "double", "functions/math#sqrt: a double"),
    ("select sqrt(-1e0)", math.nan, "double", "functions/math#sqrt: Math.sqrt of a negative is NaN"),
    ("select power(2, 10)", 1024.0, "double", "functions/math#power: power(integer, integer) is a double"),
    ("select pow(2, -1)", 0.5, "double", "functions/math#pow"),
    ("select ln(0e0)", -math.inf, "double", "functions/math#ln: Math.log(0) is -Infinity"),
    ("select exp(0)", 1.0, "double", "functions/math#exp"),
    ("select log10(1000)", 3.0, "double", "functions/math#log10: Math.log10"),
    ("select log2(8)", math.log(8) / math.log(2), "double", "functions/math#log2: Math.log(x) / Math.log(2)"),
    ("select log(2, 1024)", math.log(1024) / math.log(2), "double", "functions/math#log: Math.log(x) / Math.log(b)"),
    ("select width_bucket(5.3e0, 0.2e0, 10.6e0, 5)", width_bucket(5.3, 0.2, 10.6, 5), "bigint", "functions/math#width_bucket"),
    ("select width_bucket(-1, 0, 10, 5)", 0, "bigint", "functions/math#width_bucket: below the lower bound is 0"),
    ("select width_bucket(10, 0, 10, 5)", 6, "bigint", "functions/math#width_bucket: at the upper bound is count + 1"),
    ("select width_bucket(5.3e0, 10.6e0, 0.2e0, 5)", width_bucket(5.3, 10.6, 0.2, 5), "bigint",
     "functions/math#width_bucket: descending bounds count from the top"),
    ("select greatest(1, 2.5)", Decimal("2.5"), "decimal(11,1)", "functions/comparison#greatest: common super type"),
    ("select greatest(3, 7, 5)", 7, "integer", "functions/comparison#greatest"),
    ("select least(1, null)", None, "integer", "functions/comparison#least: NULL if any argument is NULL"),
    ("select greatest(1, 2e0)", 2.0, "double", "functions/comparison#greatest: integer and double give a double"),
    (f"select greatest(volume, 0) {MSFT}", MSFT_0102_VOLUME, "bigint", "functions/comparison#greatest: bigint"),
    ("select is_nan(nan())", True, "boolean", "functions/math#is_nan"),
    ("select is_finite(infinity())", False, "boolean", "functions/math#is_finite"),
    ("select is_infinite(-infinity())", True, "boolean", "functions/math#is_infinite"),
    ("select e()", math.e, "double", "functions/math#e: Math.E"),
    ("select pi()", math.pi, "double", "functions/math#pi: Math.PI"),
]


def same(actual, expected) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    return actual == expected and type(actual) is type(expected)


@pytest.mark.parametrize("sql, expected, athena_type, section", CASES, ids=case_ids(CASES))
def test_math_answers_as_athena(athena, sql, expected, athena_type, section):
    answer = athena.answer(sql)
    assert len(answer.rows) == 1 and same(answer.rows[0][0], expected), (section, answer.rows)
    assert answer.types == [arrow_type(athena_type)], section


def test_random_is_a_double_below_one_and_random_n_an_integer_below_n(athena):
    """functions/math#random: random() is a double in [0, 1); random(n) of n's type in [0, n)."""
    answer = athena.answer("select random(), random(10)")
    assert answer.types == [arrow_type("double"), arrow_type("integer")]
    value, bounded = answer.rows[0]
    assert 0 <= value < 1 and 0 <= bounded < 10


def test_width_bucket_with_equal_bounds_fails_as_athena_does(athena):
    """functions/math#width_bucket: MathFunctions.widthBucket's checkCondition message."""
    text = athena.refusal("select width_bucket(1, 1, 1, 2)")
    assert "bounds cannot equal each other" in text
    assert "athena-twin" not in text and "DuckDB" not in text
