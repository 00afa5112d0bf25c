"""Result column names as Athena gives them (Trino's StatementAnalyzer: an output field that is
neither aliased nor a column reference is named `_col` + its position in the output row, a CAST
too), here after a star, whose width the twin only knows once it has expanded it."""
from __future__ import annotations

from athena_harness import PRICE_COLUMNS

NAMES = [name for name, _ in PRICE_COLUMNS]


def test_an_expression_after_a_star_is_named_by_its_position_in_the_output(athena):
    answer = athena.answer("select *, volume * 2 from stocks.prices where symbol = 'MSFT' order by trade_date")
    assert answer.names == NAMES + [f"_col{len(NAMES)}"]
    assert [row[-1] for row in answer.rows] == [2 * 25258600, 2 * 23083500]


def test_a_cast_after_a_qualified_star_is_named_by_its_position_not_after_its_column(athena):
    answer = athena.answer("select p.*, cast(p.volume as double), p.symbol from stocks.prices p "
                           "where p.symbol = 'MSFT' order by 7 desc")
    assert answer.names == NAMES + [f"_col{len(NAMES)}", "symbol"]
    assert [row[len(NAMES)] for row in answer.rows] == [25258600.0, 23083500.0]


def test_ordering_by_the_position_of_an_expression_after_a_star_orders_by_it(athena):
    answer = athena.answer("select *, 0 - volume from stocks.prices where symbol = 'AAPL' order by 7")
    assert answer.names[-1] == f"_col{len(NAMES)}"
    assert [row[-1] for row in answer.rows] == [-82488700, -71983600, -58414500]


def test_a_scalar_subquery_in_the_select_list_is_named_by_its_position(athena):
    answer = athena.answer("select symbol, (select max(volume) from stocks.prices) from stocks.prices "
                           "where symbol = 'IBM'")
    assert answer.names == ["symbol", "_col1"]
    assert answer.rows == [("IBM", 82488700)]


def test_an_unnamed_column_of_a_subquery_read_by_a_star_is_named_by_its_position(athena):
    answer = athena.answer("select * from (select volume * 2, symbol from stocks.prices where symbol = 'MSFT') "
                           "order by 1")
    assert answer.names == ["_col0", "symbol"]
    assert answer.rows == [(2 * 23083500, "MSFT"), (2 * 25258600, "MSFT")]


def test_an_expression_before_a_star_keeps_its_position(athena):
    answer = athena.answer("select volume * 2, * from stocks.prices where symbol = 'MSFT' order by trade_date")
    assert answer.names == ["_col0"] + NAMES
