"""How Athena resolves the names a query uses and types what it computes (sql/select, language/
reserved#identifiers, functions/lambda): a table of the current database needs no database name,
identifiers match whatever their case, quoted or not, and a lambda in the select list does not
change how the rest of the list is typed."""
from __future__ import annotations

import pyarrow as pa
import pytest
from athena_harness import case_ids

# (statement, Arrow types, rows, Trino documentation section)
CASES = [
    ("select close from prices where symbol = 'IBM'", [pa.float64()], [(163.55,)],
     "sql/select: a table named without its database is read from the session's (stocks)"),
    ("select \"Close\", \"SYMBOL\" from stocks.prices where symbol = 'IBM'", [pa.float64(), pa.string()],
     [(163.55, "IBM")], "language/reserved#identifiers: identifiers are case-insensitive, quoted ones too"),
    ("select transform(array[1], x -> x * 2), volume / 2 from stocks.prices where symbol = 'MSFT' order by 2",
     [pa.list_(pa.int32()), pa.int64()], [([2], 11541750), ([2], 12629300)],
     "functions/lambda beside a bigint column: volume / 2 stays an integer division"),
    ("select transform(array[5], x -> bitwise_and(x, 3))", [pa.list_(pa.int64())], [([1],)],
     "functions/bitwise#bitwise_and in a lambda: bigint, typed as Trino types it"),
]


@pytest.mark.parametrize("sql,types,rows,section", CASES, ids=case_ids(CASES))
def test_names_resolve_and_types_hold_as_in_athena(athena, sql, types, rows, section):
    answer = athena.answer(sql)
    assert (answer.types, answer.rows) == (types, rows), section


def test_a_star_of_an_unknown_relation_is_refused_naming_it(athena):
    """sql/select: `nope.*` names no relation of the FROM clause; the refusal names it as the user
    wrote it (and no database the engine did not get)."""
    athena.refused("select nope.* from stocks.prices", "nope", "sql/select#select-clause", "None")


def test_a_star_of_an_unknown_relation_is_refused_with_athenas_words(athena):
    """Trino's analyzer refuses `nope.*` with 'Unable to resolve reference nope' (TABLE_NOT_FOUND),
    not as a missing table of the catalog; a qualifier is lower-cased as Trino's names are."""
    athena.refused("select nope.* from stocks.prices", "Unable to resolve reference nope", "sql/select#select-clause",
                   "does not exist")
    athena.refused("select NOPE.* from (select 1 as a) x", "Unable to resolve reference nope", "sql/select#select-clause")


def test_bitwise_functions_answer_bigint(athena):
    """functions/bitwise: bigint in, bigint out, also for integer arguments (DuckDB's & and ~
    would keep an INTEGER)."""
    answer = athena.answer("select bitwise_and(5, 3), bitwise_or(5, 3), bitwise_xor(5, 3), bitwise_not(5)")
    assert (answer.types, answer.rows) == ([pa.int64()] * 4, [(1, 7, 6, -6)])


NESTED_4 = ("select transform(array[5], a -> transform(array[a], b -> transform(array[b], "
            "c -> transform(array[c], d -> d / 2))))")


def test_four_nested_lambdas_over_arrays_of_their_parameters_divide_as_integers(athena):
    """functions/lambda: each level's array is built from the level above's parameter, typed one
    level per round; at four levels the innermost division is still an integer division."""
    answer = athena.answer(NESTED_4)
    assert (answer.types, answer.rows) == ([pa.list_(pa.list_(pa.list_(pa.list_(pa.int32()))))], [([[[[2]]]],)])


def test_five_nested_lambdas_over_arrays_of_their_parameters_divide_as_integers(athena):
    """However deep the nesting: each level is typed in its own round, as many as there are lambdas."""
    answer = athena.answer("select transform(array[5], a -> transform(array[a], b -> transform(array[b], "
                           "c -> transform(array[c], d -> transform(array[d], e -> e / 2)))))")
    assert answer.rows == [([[[[[2]]]]],)]
