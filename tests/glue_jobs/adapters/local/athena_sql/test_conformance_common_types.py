"""Expressions whose Trino type is the common super type of their branches or rows (Trino's
TypeCoercion: integer and decimal(2,1) meet at decimal(11,1), decimal(2,1) and decimal(3,2) at
decimal(3,2)), where sqlglot's own guess is double: the twin answers with Trino's type and values,
never casting a result column to a type it merely inferred."""
from __future__ import annotations

from decimal import Decimal

import pytest
from athena_harness import arrow_type, case_ids

# (sql, rows, athena type of the one column, Trino documentation section)
CASES = [
    ("select if(volume > 30000000, 1, 2.5) from stocks.prices where symbol = 'MSFT' order by trade_date",
     [Decimal("2.5"), Decimal("2.5")], "decimal(11,1)", "functions/conditional: if"),
    ("select case when volume > 30000000 then 1 else 2.5 end from stocks.prices where symbol = 'AAPL' "
     "order by trade_date", [Decimal("1.0"), Decimal("1.0"), Decimal("1.0")], "decimal(11,1)",
     "functions/conditional: case"),
    ("select x from (values (1.5), (2.25)) t(x) order by x", [Decimal("1.50"), Decimal("2.25")], "decimal(3,2)",
     "sql/values"),
]


@pytest.mark.parametrize("sql, rows, athena_type, section", CASES, ids=case_ids(CASES))
def test_a_common_super_type_answers_as_athena(athena, sql, rows, athena_type, section):
    answer = athena.answer(sql)
    assert answer.types == [arrow_type(athena_type)], section
    assert [r[0] for r in answer.rows] == rows, section
