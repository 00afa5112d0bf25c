"""Conformance: arrays, maps, lambdas and UNNEST (Trino docs: functions/array, functions/map,
functions/lambda, sql/select#unnest). Expected values are read off Trino's documentation
and its source (core/trino-main/src/main/java/io/trino/operator/scalar/: ArrayContains,
ArrayMinFunction, ArrayDistinctFunction, ArrayPositionFunction, ArraySliceFunction,
ArraySubscriptOperator, MapSubscriptOperator, MapConstructor), never from DuckDB."""
from __future__ import annotations

import pytest
from athena_harness import D, arrow_type, case_ids

# (sql, expected value, expected Athena type, Trino documentation section)
CASES = [
    ("select cardinality(array[1, 2, 3])", 3, "bigint", "functions/array#cardinality: bigint"),
    ("select cardinality(array[])", 0, "bigint", "functions/array#cardinality"),
    ("select element_at(array[1, 2, 3], 5)", None, "integer", "functions/array#element_at: NULL past the end"),
    ("select element_at(array[1, 2, 3], -1)", 3, "integer", "functions/array#element_at: index < 0 counts from the end"),
    ("select element_at(array[1, 2, 3], -4)", None, "integer", "functions/array#element_at: NULL before the start"),
    ("select array[10, 20, 30][2]", 20, "integer", "functions/array#subscript-operator: 1-based"),
    ("select contains(array[1, 2, 3], 2)", True, "boolean", "functions/array#contains"),
    ("select contains(array[1, 2, 3], 4)", False, "boolean", "functions/array#contains"),
    # ArrayContains.java: no match but a NULL element -> NULL
    ("select contains(array[1, null], 3)", None, "boolean", "functions/array#contains: NULL element, no match"),
    ("select contains(array[1, null], 1)", True, "boolean", "functions/array#contains: a match wins over NULL"),
    ("select array_join(array['a', null, 'b'], ',')", "a,b", "varchar", "functions/array#array_join: NULLs omitted"),
    ("select array_join(array['a', null, 'b'], ',', 'N')", "a,N,b", "varchar",
     "functions/array#array_join: null_replacement"),
    ("select array_join(array[1, null, 3], '-')", "1-3", "varchar", "functions/array#array_join: integers cast to varchar"),
    # ArrayMinFunction.java: `if (block.isNull(position)) return null;`
    ("select array_min(array[3, null, 1])", None, "integer", "functions/array#array_min: NULL when any element is"),
    ("select array_min(array[3, 2, 1])", 1, "integer", "functions/array#array_min"),
    ("select array_max(array[3, 7, 1])", 7, "integer", "functions/array#array_max"),
    ("select array_max(array[1, null])", None, "integer", "functions/array#array_max: NULL when any element is"),
    ("select array_sort(array[3, null, 1, 2])", [1, 2, 3, None], "array(integer)",
     "functions/array#array_sort: NULLs at the end"),
    ("select array_sort(array['b', 'c', 'a'])", ["a", "b", "c"], "array(varchar)", "functions/array#array_sort"),
    # ArrayDistinctFunction.java: first occurrences in order, one NULL kept
    ("select array_distinct(array['b', null, 'a', 'b', null])", ["b", None, "a"], "array(varchar)",
     "functions/array#array_distinct"),
    ("select array_distinct(array[3, 1, 3, 2, 1])", [3, 1, 2], "array(integer)", "functions/array#array_distinct: order kept"),
    ("select array_position(array[10, 20, 30], 20)", 2, "bigint", "functions/array#array_position"),
    ("select array_position(array[10, 20], 99)", 0, "bigint", "functions/array#array_position: 0 if not found"),
    ("select array_position(array[1, null, 3], 3)", 3, "bigint", "functions/array#array_position: NULLs skipped"),
    ("select slice(array[1, 2, 3, 4], 2, 2)", [2, 3], "array(integer)", "functions/array#slice: (start, length)"),
    ("select slice(array[1, 2, 3, 4], -2, 5)", [3, 4], "array(integer)", "functions/array#slice: negative start"),
    ("select slice(array[1, 2, 3, 4], -9, 2)", [], "array(integer)", "functions/array#slice: start before the first -> []"),
    ("select transform(array[5, 6], x -> x + 1)", [6, 7], "array(integer)", "functions/array#transform"),
    # Trino types the lambda parameter: integer / integer truncates inside a lambda too
    ("select transform(array[7, 8], x -> x / 2)", [3, 4], "array(integer)",
     "functions/lambda + functions/math#mathematical-operators"),
    ("select transform(array['x', 'abc'], x -> x || '0')", ["x0", "abc0"], "array(varchar)", "functions/array#transform"),
    ("select filter(array[5, -6, null, 7], x -> x > 0)", [5, 7], "array(integer)", "functions/array#filter"),
    ("select filter(array[5, null, 7, null], x -> x is not null)", [5, 7], "array(integer)", "functions/array#filter"),
    ("select reduce(array[5, 20, 50], 0, (s, x) -> s + x, s -> s)", 75, "integer", "functions/array#reduce"),
    ("select reduce(array[5, 20, null, 50], 0, (s, x) -> s + x, s -> s)", None, "integer", "functions/array#reduce: NULL element"),
    ("select reduce(array[5, 20, null, 50], 0, (s, x) -> s + coalesce(x, 0), s -> s)", 75, "integer",
     "functions/array#reduce"),
    # the output function is applied to the final state
    ("select reduce(array[1, 2, 3], 0, (s, x) -> s + x, s -> s * 10)", 60, "integer",
     "functions/array#reduce: outputFunction"),
    ("select reduce(array[], 0, (s, x) -> s + x, s -> s)", 0, "integer", "functions/array#reduce: empty array"),
    ("select flatten(array[array[1, 2], array[3]])", [1, 2, 3], "array(integer)", "functions/array#flatten"),
    ("select split('a,b,,c', ',')", ["a", "b", "", "c"], "array(varchar)", "functions/string#split"),
    ("select element_at(map(array['a', 'b'], array[1, 2]), 'b')", 2, "integer", "functions/map#element_at"),
    ("select element_at(map(array['a', 'b'], array[1, 2]), 'c')", None, "integer", "functions/map#element_at: NULL if missing"),
    ("select map(array['a', 'b'], array[1, 2])['a']", 1, "integer", "functions/map#subscript-operator"),
    ("select map_keys(map(array['a', 'b'], array[1, 2]))", ["a", "b"], "array(varchar)", "functions/map#map_keys"),
    ("select map_values(map(array['a', 'b'], array[1, 2]))", [1, 2], "array(integer)", "functions/map#map_values"),
    ("select array[1, 2]", [1, 2], "array(integer)", "functions/array: ARRAY[...] of integers"),
    # Trino: 1 is integer -> decimal(10,0); common super type with decimal(2,1) is decimal(11,1)
    ("select array[1, 1.2, 4]", [D("1.0"), D("1.2"), D("4.0")], "array(decimal(11,1))",
     "functions/array: ARRAY[1, 1.2, 4] -- [1.0, 1.2, 4.0]"),
    ("select cardinality(filter(array[5, -6, null, 7], x -> x > 0))", 2, "bigint", "functions/array#filter"),
]


@pytest.mark.parametrize("sql, expected, athena_type, section", CASES, ids=case_ids(CASES))
def test_collections_answer_as_athena(athena, sql, expected, athena_type, section):
    answer = athena.answer(sql)
    assert answer.rows == [(expected,)], section
    assert answer.types == [arrow_type(athena_type)], section
    assert answer.names == ["_col0"], section


def test_map_result_type(athena):
    import pyarrow as pa

    answer = athena.answer("select map(array['a', 'b'], array[1, 2]) as m")
    assert answer.rows == [([("a", 1), ("b", 2)],)]
    assert answer.types == [pa.map_(pa.string(), pa.int32())]


def test_unnest_with_ordinality(athena):
    answer = athena.answer("select x, n from unnest(array[10, 20]) with ordinality as t(x, n)")  # sql/select#unnest
    assert answer.rows == [(10, 1), (20, 2)]
    assert answer.types == [arrow_type("integer"), arrow_type("bigint")]


def test_unnest_in_a_cross_join(athena):
    answer = athena.answer("select symbol, t.x from stocks.prices cross join unnest(array[1, 2]) as t(x) "
                           "where symbol = 'IBM' order by t.x")  # sql/select#unnest
    assert answer.rows == [("IBM", 1), ("IBM", 2)]


# ArraySubscriptOperator / ArrayElementAtFunction / ArraySliceFunction / MapSubscriptOperator /
# MapConstructor messages, word for word
FAILURES = [
    ("select array[1, 2, 3][5]", "Array subscript must be less than or equal to array length: 5 > 3"),
    ("select array[1, 2, 3][0]", "SQL array indices start at 1"),
    ("select array[1, 2, 3][-1]", "Array subscript is negative: -1"),
    ("select element_at(array[1, 2, 3], 0)", "SQL array indices start at 1"),
    ("select map(array['a', 'b'], array[1, 2])['c']", "Key not present in map: c"),
    ("select slice(array[1, 2, 3], 1, -1)", "length must be greater than or equal to 0"),
    ("select map(array['a', 'a'], array[1, 2])", "Duplicate map keys (a) are not allowed"),
    ("select map(array['a'], array[1, 2])", "Key and value arrays must be the same length"),
]


@pytest.mark.parametrize("sql, message", FAILURES, ids=case_ids(FAILURES))
def test_failures_read_as_athena_words_them(athena, sql, message):
    text = athena.refusal(sql)
    assert text.endswith(message), text
    assert "DuckDB" not in text and "athena-twin" not in text and "list_" not in text.lower()


REFUSED = [
    ("select array_sort(array[2, 1], (x, y) -> if(x < y, 1, -1))", "array_sort(array, function)"),
    ("select k from unnest(map(array['a'], array[1])) as t(k, v)", "UNNEST of a map"),
    ("select array_join(array[1.5e0], ',')", "array_join"),
    ("select split('a,b,c', ',', 2)", "split(string, delimiter, limit)"),
]


@pytest.mark.parametrize("sql, construct", REFUSED, ids=case_ids(REFUSED))
def test_not_emulated_is_refused_as_such(athena, sql, construct):
    text = athena.refusal(sql)
    assert f"valid Athena SQL that the local engine does not support yet: {construct}" in text
    assert "DuckDB" not in text and "list_" not in text.lower()
