"""Statements other than a plain SELECT, as Athena answers them (sql/values, sql/select#union,
sql/create-view): a bare VALUES names its columns `_col0`, `_col1`, ...; a UNION is named and typed
by its first SELECT, each side translated; a view's query is translated like any query, so the view
answers (names, types, rows) as Athena's would."""
from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest
from athena_harness import case_ids

from glue_jobs.adapters.local.athena_sql.errors import AthenaRejects
from glue_jobs.adapters.local.athena_sql.translate import OutputColumn, translate

# (statement, names, Arrow types, rows, Trino documentation section)
CASES = [
    ("values (7 / 2, 'a'), (9 / 2, 'b')", ["_col0", "_col1"], [pa.int32(), pa.string()], [(3, "a"), (4, "b")],
     "sql/values: a row of two columns, integer division of integers"),
    ("values 7 / 2, 1", ["_col0"], [pa.int32()], [(3,), (1,)],
     "sql/values: one column, each row a bare expression (not a row constructor)"),
    ("values (date_add('day', 1, date '2024-01-02'), 'a')", ["_col0", "_col1"], [pa.date32(), pa.string()],
     [(dt.date(2024, 1, 3), "a")], "functions/datetime#date_add in VALUES: read as Athena SQL (unit first)"),
    ("select 7 / 2 union all select 1 + 1 as b", ["_col0"], [pa.int32()], [(3,), (2,)],
     "sql/select#union: the first SELECT names the columns; both sides are Athena SQL"),
    ("select 1 + 1 as a union all select 7 / 2", ["a"], [pa.int32()], [(2,), (3,)],
     "sql/select#union: the second SELECT divides as Athena does too"),
]


@pytest.mark.parametrize("sql,names,types,rows,section", CASES, ids=case_ids(CASES))
def test_statement_answers_as_athena(athena, sql, names, types, rows, section):
    answer = athena.answer(sql)
    assert (answer.names, answer.types, answer.rows) == (names, types, rows), section


VIEW_SCHEMA = {"prices": {"symbol": "varchar", "volume": "bigint", "close": "double"}}
VIEW = ("create or replace view stocks.v as "
        "select symbol, volume / 2 as half, close + 1 from stocks.prices")


def test_a_views_columns_are_named_and_typed_as_athena_names_them():
    """sql/create-view: Athena records the view's columns as its query's result metadata."""
    assert translate(VIEW, VIEW_SCHEMA).columns == (
        OutputColumn("symbol", "varchar"), OutputColumn("half", "bigint"), OutputColumn("_col2", "double"))


# VIEW's query under another view's name: translate caches by text, and mutmut's first pass
# records a test as reaching the translation only if it translates, so a test repeating the
# previous test's text would never be run against the mutants of _statement
READ_VIEW = VIEW.replace("view stocks.v as", "view stocks.halves as")


def test_a_view_made_from_its_translation_answers_as_athenas_view():
    """The view DuckDB is given divides integers as Athena does and names the unnamed column
    `_col2`, so reading it answers as reading Athena's view does."""
    con = duckdb.connect()
    con.execute("create schema stocks")
    con.execute("create table stocks.prices (symbol varchar, volume bigint, close double)")
    con.execute("insert into stocks.prices values ('AAPL', 7, 1.5)")
    for statement in translate(READ_VIEW, VIEW_SCHEMA).duckdb():
        con.execute(statement)
    result = con.sql("select * from stocks.halves").to_arrow_table()
    assert result.column_names == ["symbol", "half", "_col2"]
    assert result.schema.types == [pa.string(), pa.int64(), pa.float64()]
    assert result.to_pylist() == [{"symbol": "AAPL", "half": 3, "_col2": 2.5}]


def test_a_view_over_a_missing_table_is_refused_with_athenas_message():
    """sql/create-view: the view's query names a table the database does not have."""
    with pytest.raises(AthenaRejects, match=r"^Table 'awsdatacatalog\.stocks\.nope' does not exist$"):
        translate("create or replace view stocks.v as select * from stocks.nope", VIEW_SCHEMA)
