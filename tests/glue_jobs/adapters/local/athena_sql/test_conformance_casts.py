"""Conformance: CAST and TRY_CAST (Trino docs: functions/conversion; source: io.trino.type
DoubleOperators, VarcharOperators, DecimalConversions, and the casts to varchar(x)).

Expected values in plain Python:
- double -> bigint is DoubleMath.roundToLong(x, HALF_UP), -> integer/smallint Math.round of the
  magnitude: both half away from zero on the exact double;
- double -> decimal(p,s) is BigDecimal.valueOf(x).setScale(s, HALF_UP): the double's shortest
  decimal text (Python's repr gives the same digits) rounded half up;
- double -> varchar is DecimalFormat("0.0###################E0") (Trino PR 10657, in every
  release since 369): the shortest digits as d.ddd, 'E', the decimal exponent; 0 is '0E0';
- varchar -> bigint is Long.parseLong (no spaces, no decimal point), -> integer
  Integer.parseInt ("Cannot cast '...' to INT"), -> double Double.parseDouble;
- varchar(x) -> varchar(n) truncates; a number that does not fit varchar(n) fails."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from athena_harness import PRICES, arrow_type, case_ids


def half_up(x: float) -> int:
    return int(Decimal(x).to_integral_value(rounding=ROUND_HALF_UP))


def to_decimal(x: float, scale: int) -> Decimal:
    return Decimal(repr(x)).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def trino_varchar(x: float) -> str:
    """DecimalFormat("0.0###################E0").format(x) for a finite, non-zero double."""
    sign, digits, exponent = Decimal(repr(x)).normalize().as_tuple()
    text = "".join(map(str, digits))
    scientific = exponent + len(text) - 1
    return ("-" if sign else "") + text[0] + "." + (text[1:] or "0") + "E" + str(scientific)


IBM_CLOSE = next(r[2] for r in PRICES if r[0] == "IBM")
IBM = "from stocks.prices where symbol = 'IBM'"

# (sql, expected value, expected Athena type, Trino documentation section)
CASES = [
    ("select cast(2.5e0 as bigint)", half_up(2.5), "bigint", "functions/conversion#cast: double to bigint rounds half up"),
    ("select cast(-2.5e0 as bigint)", -half_up(2.5), "bigint", "functions/conversion#cast: half away from zero"),
    ("select cast(0.49999999999999994e0 as bigint)", 0, "bigint", "functions/conversion#cast: on the exact double"),
    ("select cast(2.5e0 as integer)", 3, "integer", "functions/conversion#cast: double to integer rounds half up"),
    ("select cast(-1234.5e0 as smallint)", -1235, "smallint", "functions/conversion#cast: double to smallint"),
    (f"select cast(close as bigint) {IBM}", half_up(IBM_CLOSE), "bigint", "functions/conversion#cast: a double column"),
    ("select cast(1.005e0 as decimal(4,2))", to_decimal(1.005, 2), "decimal(4,2)",
     "functions/conversion#cast: BigDecimal.valueOf(1.005) rounds half up to 1.01"),
    ("select cast(2.675e0 as decimal(4,2))", to_decimal(2.675, 2), "decimal(4,2)", "functions/conversion#cast: double to decimal"),
    ("select cast(-0.125e0 as decimal(3,2))", to_decimal(-0.125, 2), "decimal(3,2)", "functions/conversion#cast: symmetric"),
    ("select cast('-42' as bigint)", -42, "bigint", "functions/conversion#cast: varchar to bigint"),
    ("select try_cast('1.5' as bigint)", None, "bigint", "functions/conversion#try_cast: NULL where cast fails"),
    ("select try_cast('abc' as double)", None, "double", "functions/conversion#try_cast"),
    ("select cast('1.5' as double)", 1.5, "double", "functions/conversion#cast: varchar to double"),
    ("select cast(1.5e0 as varchar)", trino_varchar(1.5), "varchar", "functions/conversion#cast: double to varchar, E form"),
    ("select cast(1e10 as varchar)", trino_varchar(1e10), "varchar", "functions/conversion#cast: 1.0E10"),
    ("select cast(0.001e0 as varchar)", trino_varchar(0.001), "varchar", "functions/conversion#cast: 1.0E-3"),
    ("select cast(-1e-4 as varchar)", trino_varchar(-1e-4), "varchar", "functions/conversion#cast: negative"),
    ("select cast(100e0 as varchar)", trino_varchar(100.0), "varchar", "functions/conversion#cast: 1.0E2"),
    ("select cast(1 / 3e0 as varchar)", trino_varchar(1 / 3), "varchar", "functions/conversion#cast: shortest digits"),
    ("select cast(0e0 as varchar)", "0E0", "varchar", "functions/conversion#cast: zero is 0E0"),
    (f"select cast(close as varchar) {IBM}", trino_varchar(IBM_CLOSE), "varchar", "functions/conversion#cast: a double column"),
    ("select cast('abcdef' as varchar(3))", "abc", "varchar(3)", "functions/conversion#cast: varchar(n) truncates"),
    ("select cast(123 as varchar(3))", "123", "varchar(3)", "functions/conversion#cast: an integer that fits varchar(3)"),
    ("select cast(true as varchar)", "true", "varchar", "functions/conversion#cast: boolean to varchar"),
    ("select cast(date '2024-01-02' as varchar)", "2024-01-02", "varchar", "functions/conversion#cast: date to varchar"),
    ("select cast(1.50 as varchar)", "1.50", "varchar", "functions/conversion#cast: a decimal keeps its scale"),
]


@pytest.mark.parametrize("sql, expected, athena_type, section", CASES, ids=case_ids(CASES))
def test_casts_answer_as_athena(athena, sql, expected, athena_type, section):
    answer = athena.answer(sql)
    assert answer.rows == [(expected,)], section
    assert answer.types == [arrow_type(athena_type)], section
    assert answer.names == ["_col0"], "an unaliased CAST is named _col0, as Athena names it"


REFUSALS = [
    ("select cast('1.5' as bigint)", "Cannot cast '1.5' to BIGINT", "functions/conversion#cast: Long.parseLong"),
    ("select cast(' 1' as integer)", "Cannot cast ' 1' to INT", "functions/conversion#cast: Integer.parseInt"),
    ("select cast('abc' as double)", "Cannot cast 'abc' to DOUBLE", "functions/conversion#cast: Double.parseDouble"),
    ("select cast(1e19 as bigint)", "Unable to cast 1.0E19 to bigint", "functions/conversion#cast: out of range"),
    ("select cast(3e9 as integer)", "Out of range for integer: 3.0E9", "functions/conversion#cast: out of range"),
    ("select cast(nan() as bigint)", "Unable to cast NaN to bigint", "functions/conversion#cast: NaN"),
    ("select cast(nan() as integer)", "Cannot cast double NaN to integer", "functions/conversion#cast: NaN"),
    ("select cast(infinity() as decimal(4,2))", "Cannot cast DOUBLE 'Infinity' to DECIMAL(4, 2)",
     "functions/conversion#cast: DecimalConversions"),
    ("select cast(123.4e0 as decimal(3,1))", "Cannot cast DOUBLE '123.4' to DECIMAL(3, 1)",
     "functions/conversion#cast: a value too wide for the decimal"),
    ("select cast(12345 as varchar(3))", "Value 12345 cannot be represented as varchar(3)",
     "functions/conversion#cast: a number longer than varchar(n)"),
]


@pytest.mark.parametrize("sql, message, section", REFUSALS, ids=case_ids(REFUSALS))
def test_casts_fail_as_athena_does(athena, sql, message, section):
    athena.refused(sql, message, section, "HUGEINT", "REGEXP_FULL_MATCH", "TRY_CAST", "athena-twin")
