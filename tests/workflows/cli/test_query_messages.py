"""What `tickerlake query` prints when a statement fails: exit 2, "tickerlake: query failed:
<label>: <detail>", the label the @file name or the statement's first 60 characters, the
list of tables only when the table is unknown, nothing of the engine's internals (issue 11)."""
from __future__ import annotations

from pathlib import Path

import pytest

from workflows.cli.main import main

DAY = "2026-11-20"


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    lake = tmp_path_factory.mktemp("messages") / "lake"
    assert main(["run", "--lake", str(lake), "--symbols", "IBM", "--date", DAY, "--no-dashboard"]) == 0
    return lake


def failed(lake: Path, capsys, *argv: str) -> str:
    code = main(["query", "--lake", str(lake), *argv])
    captured = capsys.readouterr()
    assert code == 2, captured
    assert captured.out == ""
    assert "Traceback" not in captured.err and "configuration error" not in captured.err
    return captured.err.strip()


def test_an_unknown_column_is_athena_s_message_labelled_by_the_statement(lake, capsys):
    sql = "select symbol,\n       no_such_column from stocks.daily_prices"
    err = failed(lake, capsys, sql)
    assert err == ("tickerlake: query failed: select symbol, no_such_column from stocks.daily_prices: "
                   "Column 'no_such_column' cannot be resolved")
    assert "tables:" not in err


def test_a_long_statement_is_labelled_by_its_first_60_characters(lake, capsys):
    sql = "select symbol, trade_date, close, volume, 1 as one, 2 as two, 3 as three from stocks.daily_prices " \
          "where nope = 1"
    err = failed(lake, capsys, sql)
    label = " ".join(sql.split())[:60] + "..."
    assert err.startswith(f"tickerlake: query failed: {label}: ")
    assert err.endswith("Column 'nope' cannot be resolved")


def test_a_statement_from_a_file_is_labelled_by_the_file(lake, capsys, tmp_path):
    path = tmp_path / "weekly.sql"
    path.write_text("-- weekly numbers\nselect 7 / 0 as x from stocks.daily_prices\n", encoding="utf-8")
    err = failed(lake, capsys, f"@{path}")
    assert err == f"tickerlake: query failed: {path}: Division by zero"


def test_an_unknown_table_lists_the_tables(lake, capsys):
    err = failed(lake, capsys, "select * from stocks.nope")
    first, _, rest = err.partition("\n")
    assert first == "tickerlake: query failed: select * from stocks.nope: Table 'awsdatacatalog.stocks.nope' does not exist"
    assert rest.strip().startswith("tables: ") and "stocks.daily_prices" in rest


def test_valid_athena_sql_not_emulated_says_so_without_engine_names(lake, capsys):
    err = failed(lake, capsys, "select array_sort(array[2, 1], (x, y) -> 1) as a")
    assert "valid Athena SQL that the local engine does not support yet: array_sort(array, function)" in err
    assert "DuckDB" not in err and "list_sort" not in err.lower()


def test_an_array_subscript_past_the_end_fails_with_athena_s_words(lake, capsys):
    err = failed(lake, capsys, "select array[1, 2, 3][5] as x")
    assert err == ("tickerlake: query failed: select array[1, 2, 3][5] as x: "
                   "Array subscript must be less than or equal to array length: 5 > 3")
