"""The result metadata a translation carries (each output column's name and Athena type, as
GetQueryResults' ColumnInfo gives them): the local engine types the columns of a view from it
when a later statement reads the view, so a wrong name or type here is a wrong answer there."""
from __future__ import annotations

from glue_jobs.adapters.local.athena_sql.translate import OutputColumn, translate

SCHEMA = {"prices": {"symbol": "varchar", "trade_date": "date", "close": "double", "volume": "bigint"}}


def test_each_output_column_has_athenas_name_and_type():
    columns = translate("select symbol, (select max(volume) from stocks.prices), volume * 2, "
                        "cast(close as real) as c from stocks.prices", SCHEMA).columns
    assert columns == (OutputColumn("symbol", "varchar"), OutputColumn("_col1", "bigint"),
                       OutputColumn("_col2", "bigint"), OutputColumn("c", "real"))


def test_a_star_over_a_subquery_names_and_types_every_column():
    columns = translate("select * from (select volume * 2, trade_date from stocks.prices)", SCHEMA).columns
    assert columns == (OutputColumn("_col0", "bigint"), OutputColumn("trade_date", "date"))


CSV_SCHEMA = {"prices": {**SCHEMA["prices"], "$path": "varchar"}}


def test_a_star_leaves_out_the_path_column_when_the_query_names_other_columns():
    """Athena's "$path" is read by name only: a WHERE on another column does not bring it into `*`."""
    columns = translate("select * from stocks.prices where symbol = 'a'", CSV_SCHEMA).columns
    assert [c.name for c in columns] == ["symbol", "trade_date", "close", "volume"]


def test_a_lambda_in_the_select_list_leaves_the_other_columns_typed():
    """Typing a lambda's parameters annotates the query again, with its tables' columns."""
    columns = translate("select transform(array[volume], x -> x * 2), close + 1 from stocks.prices", SCHEMA).columns
    assert columns == (OutputColumn("_col0", "array(bigint)"), OutputColumn("_col1", "double"))


def test_bitwise_functions_are_bigint_as_trino_types_them():
    """functions/bitwise: bitwise_and, bitwise_or, bitwise_xor and bitwise_not return bigint (Trino's
    typing; sqlglot's default would say integer for integer arguments)."""
    columns = translate("select bitwise_and(5, 3), bitwise_or(5, 3), bitwise_xor(5, 3), bitwise_not(5)", SCHEMA).columns
    assert [c.athena_type for c in columns] == ["bigint"] * 4


def test_a_lambdas_body_is_typed_after_its_parameters():
    """functions/lambda: the parameter takes the array's element type (integer here), and the
    body is typed from it, so transform's result is array(integer) for bodies sqlglot types from
    their arguments only (coalesce, if, CASE, nullif)."""
    columns = translate("select transform(array[cast(1 as integer)], x -> coalesce(x, 0)), "
                        "transform(array[cast(1 as integer)], x -> if(x > 0, x, 0)), "
                        "transform(array[cast(1 as integer)], x -> case when x > 0 then x end), "
                        "transform(array[cast(1 as integer)], x -> nullif(x, 0))", SCHEMA).columns
    assert [c.athena_type for c in columns] == ["array(integer)"] * 4
