import datetime as dt

import pytest

from glue_jobs.lake import sql_files
from glue_jobs.lake.sql_files import Identifier, SqlTemplateError, literal, render, render_text


@pytest.mark.parametrize(
    ("value", "sql"),
    [
        ("AAPL", "'AAPL'"),
        ("O'Neil'; drop table x; --", "'O''Neil''; drop table x; --'"),
        (2024, "2024"),
        (1.5, "1.5"),
        (True, "true"),
        (None, "null"),
        (dt.date(2024, 3, 8), "date '2024-03-08'"),
        (dt.datetime(2024, 3, 8, 21, 30, 5), "timestamp '2024-03-08 21:30:05'"),
        (["a", "b'c"], "'a', 'b''c'"),
        ([], "null"),
    ],
)
def test_literals_are_quoted_so_nothing_escapes_them(value, sql):
    assert literal(value) == sql


@pytest.mark.parametrize("bad", ["stocks.daily_prices; drop", "a b", "x.y.z", "1table", "t--", ""])
def test_odd_identifiers_are_refused(bad):
    with pytest.raises(SqlTemplateError, match="not a plain SQL identifier"):
        Identifier(bad)


def test_non_finite_numbers_have_no_literal():
    with pytest.raises(SqlTemplateError, match="nan has no SQL literal"):
        literal(float("nan"))


def test_render_substitutes_identifiers_and_literals():
    sql = render_text(
        "select * from {{table}} where symbol = {{ symbol }} and run_id in ({{runs}})",
        {"table": Identifier("stocks.daily_prices"), "symbol": "IBM", "runs": ["r1", "r2"]},
    )
    assert sql == "select * from stocks.daily_prices where symbol = 'IBM' and run_id in ('r1', 'r2')"


def test_a_missing_or_unused_parameter_is_an_error_not_a_silent_query():
    with pytest.raises(SqlTemplateError, match="needs parameter"):
        render_text("select {{a}}", {})
    with pytest.raises(SqlTemplateError, match="no placeholder for parameter"):
        render_text("select 1", {"a": 1})


def test_files_load_by_name_and_render_with_a_naming_comment():
    sql = render("wap/publish/merge.sql", {"trade_year": 2024, "first_date": dt.date(2024, 10, 1),
                                          "last_date": dt.date(2024, 12, 31)})
    assert sql.startswith("-- sql/wap/publish/merge.sql\n")
    assert "trade_year = 2024" in sql and "date '2024-10-01'" in sql and "{{" not in sql


def test_unknown_or_escaping_names_are_refused():
    with pytest.raises(SqlTemplateError, match="does not exist"):
        sql_files.load("no_such_file.sql")
    with pytest.raises(SqlTemplateError, match="not a SQL file name"):
        sql_files.load("../pyproject.toml")


def test_table_refs_skip_ctes_and_view_order_puts_dependencies_first():
    refs = sql_files.table_refs("with a as (select * from stocks.x) select * from a join stocks.y using (k)")
    assert refs == {"stocks.x", "stocks.y"}
    order = sql_files.view_order({
        "volatility_20d": "create view stocks.volatility_20d as select * from stocks.daily_returns",
        "daily_returns": "create view stocks.daily_returns as select * from stocks.daily_prices",
    })
    assert order == ["daily_returns", "volatility_20d"]


def test_every_wap_sql_file_parses_as_athena_sql():
    import sqlglot

    names = [p.relative_to(sql_files.sql_dir()).as_posix() for p in (sql_files.sql_dir() / "wap").rglob("*.sql")]
    names += sql_files.names("views") + sql_files.names("queries")
    assert {"wap/write_temp/write_temp.sql", "wap/publish/merge.sql", "views/daily_returns.sql"} <= set(names)
    for name in names:
        text = sql_files.load(name)
        # typed_rows is another file's SELECT (published_as_is.sql reads write_temp.sql's rows)
        params = {p: Identifier("stocks.t") if p == "table" else
                  sql_files.subquery("wap/write_temp/trade_years.sql") if p == "typed_rows" else 1
                  for p in sql_files.placeholders(text)}
        assert sqlglot.parse(render_text(text, params, origin=name), read="trino"), name
