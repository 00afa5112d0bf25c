"""`tickerlake query` is read-only and sees only the catalog's tables: every hostile statement
exits 2 naming what it tried, prints no traceback, and leaves the lake's published data
(every byte under warehouse/ and catalog/) as it was. The second check, the engine's own
connection, holds alone when the first (glue_jobs/lake/query_guard.py) is taken away."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from glue_jobs.lake import query_guard
from glue_jobs.ports.engine import QueryError
from glue_jobs.runtime import build_local
from workflows.cli.main import main

DAY = "2026-11-20"


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    lake = tmp_path_factory.mktemp("ro") / "lake"
    assert main(["run", "--lake", str(lake), "--symbols", "IBM,AAPL", "--date", DAY, "--no-dashboard"]) == 0
    return lake


def fingerprint(lake: Path) -> str:
    digest = hashlib.sha256()
    for top in ("warehouse", "catalog"):
        for path in sorted((lake / top).rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(lake).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def published_file(lake: Path) -> str:
    return str(next((lake / "warehouse" / "daily_prices").rglob("*.parquet")))


def raw_file(lake: Path) -> str:
    return str(next((lake / "raw").rglob("*.csv")))


def out_file(lake: Path) -> Path:
    """Where a COPY would write: beside the lake, outside it (a fresh directory per test run)."""
    return lake.parent / "hostile-out.csv"


# (label, SQL with {published}, {raw}, {lake}, {out} filled in, a fragment the message must hold)
HOSTILE = [
    ("copy to a published file", "copy (select * from stocks.daily_prices where false) to '{published}' (format parquet)", "COPY"),
    ("copy a table to /tmp", "copy stocks.daily_prices to '{out}'", "COPY"),
    ("copy in odd case after a comment", "/* hi */ CoPy (select 1) TO '{out}'", "COPY"),
    ("read_csv of /etc/passwd", "select * from read_csv('/etc/passwd')", "read_csv"),
    ("read_text of /etc/passwd", "select * from read_text('/etc/passwd')", "read_text"),
    ("read_parquet of a published file", "select * from read_parquet('{published}')", "read_parquet"),
    ("read_json of /etc/passwd", "select * from read_json('/etc/passwd')", "read_json"),
    ("glob of /etc", "select * from glob('/etc/*')", "glob"),
    ("read_text of the catalog", "select * from read_text('{lake}/catalog/stocks/daily_prices.json')", "read_text"),
    ("read_csv_auto of a raw body", "select * from read_csv_auto('{raw}')", "read_csv_auto"),
    ("read_blob of the lake", "select * from read_blob('{published}')", "read_blob"),
    ("read_csv over the network", "select * from read_csv('http://127.0.0.1:9/x.csv')", "read_csv"),
    ("a file path as a table", "select * from '{published}'", "file path"),
    ("/etc/passwd as a quoted table", 'select * from "/etc/passwd"', "/etc/passwd"),
    ("odd case", "select * from Read_CSV('/etc/passwd')", "read_csv"),
    ("quoted function name", "select * from \"READ_TEXT\"('/etc/passwd')", "read_text"),
    ("table function in a CTE", "with t as (select * from read_csv('/etc/passwd')) select * from t", "read_csv"),
    ("table function in a join", "select * from stocks.daily_prices p join read_parquet('{published}') r on true", "read_parquet"),
    ("table function in a scalar subquery", "select (select count(*) from read_text('/etc/passwd')) as n", "read_text"),
    ("table function in a FROM subquery", "select * from (select * from glob('{lake}/**'))", "glob"),
    ("attach", "attach '{lake}/../hostile.db' as x", "ATTACH"),
    ("detach", "detach x", "DETACH"),
    ("install", "install httpfs", "INSTALL"),
    ("load", "load httpfs", "LOAD"),
    ("set", "set enable_external_access = true", "SET"),
    ("set variable", "set variable tickerlake_files_daily_prices = ['/etc/passwd']", "SET"),
    ("reset", "reset lock_configuration", "RESET"),
    ("pragma", "pragma enable_profiling", "PRAGMA"),
    ("create table", "create table stocks.x as select 1 as a", "CREATE"),
    ("create view over a file", "create view stocks.daily_prices as select * from read_csv('/etc/passwd')", "CREATE"),
    ("drop", "drop table stocks.daily_prices", "DROP"),
    ("insert", "insert into stocks.daily_prices select * from stocks.daily_prices", "INSERT"),
    ("delete", "delete from stocks.daily_prices", "DELETE"),
    ("update", "update stocks.daily_prices set close = 0", "UPDATE"),
    ("export database", "export database '{lake}/../hostile-export'", "EXPORT"),
    ("call", "call pragma_version()", "CALL"),
    ("two queries", "select 1; select 2", "more than one statement"),
    ("a query then copy", "select 1; copy (select 1) to '{out}'", "more than one statement"),
    ("explain analyze copy", "explain analyze copy (select 1) to '{out}'", "COPY"),
    ("explain of a file read", "explain select * from read_csv('/etc/passwd')", "read_csv"),
    ("getenv", "select getenv('HOME') as home", "getenv"),
    ("engine metadata", "select * from duckdb_settings()", "duckdb_settings"),
    ("another database", "select * from main.secrets", "main.secrets"),
    ("use", "use main", "USE"),
    ("checkpoint", "checkpoint", "CHECKPOINT"),
    ("sqlite_scan", "select * from sqlite_scan('/tmp/x.db', 't')", "sqlite_scan"),
]


def fill(sql: str, lake: Path) -> str:
    return sql.format(published=published_file(lake), raw=raw_file(lake), lake=lake, out=out_file(lake))


def assert_refused(lake: Path, sql: str, fragment: str, capsys) -> str:
    before = fingerprint(lake)
    code = main(["query", "--lake", str(lake), sql])
    captured = capsys.readouterr()
    assert code == 2, (sql, captured)
    assert fragment.lower() in captured.err.lower(), captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert fingerprint(lake) == before
    assert not out_file(lake).exists()
    return captured.err


@pytest.mark.parametrize(("label", "sql", "fragment"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_statements_exit_2_naming_the_construct(lake, capsys, label, sql, fragment):
    err = assert_refused(lake, fill(sql, lake), fragment, capsys)
    assert "read-only" in err or "statement" in err


# The ones that could do harm if a statement reached the engine: with the first check taken
# away, the engine's own connection refuses them all the same.
ENGINE_ALONE = [
    ("copy to a published file", "COPY"),
    ("copy a table to /tmp", "COPY"),
    ("read_csv of /etc/passwd", "/etc/passwd"),
    ("read_text of /etc/passwd", "/etc/passwd"),
    ("read_json of /etc/passwd", "/etc/passwd"),
    ("read_text of the catalog", "Function 'read_text' not registered"),
    ("table function in a CTE", "/etc/passwd"),
    ("attach", "not valid Athena SQL"),
    ("install", "INSTALL"),
    ("load", "LOAD"),
    ("set", "SET"),
    ("set variable", "SET"),
    ("pragma", "PRAGMA"),
    ("create table", "CREATE"),
    ("create view over a file", "CREATE"),
    ("drop", "DROP"),
    ("export database", "EXPORT"),
    ("two queries", "2 statements"),
    ("a query then copy", "2 statements"),
    ("explain analyze copy", "COPY"),
]


@pytest.mark.parametrize(("label", "fragment"), ENGINE_ALONE, ids=[e[0] for e in ENGINE_ALONE])
def test_the_engine_refuses_on_its_own_when_the_parse_check_is_gone(lake, capsys, monkeypatch, label, fragment):
    monkeypatch.setattr(query_guard, "check_read_only", lambda sql: None)
    sql = fill(next(h[1] for h in HOSTILE if h[0] == label), lake)
    assert_refused(lake, sql, fragment, capsys)


def test_the_engine_user_path_refuses_a_duckdb_file_read_and_the_pipeline_still_writes(lake):
    _, _, engine, _ = build_local(lake)
    before = fingerprint(lake)
    for sql in ("select * from read_csv('/etc/passwd')",
                "select content from read_text('/etc/passwd')",
                f"select * from read_text('{lake}/catalog/stocks/daily_prices.json')",
                f"copy (select 1 as a) to '{published_file(lake)}' (format parquet)",
                "set enable_external_access = true",
                "attach ':memory:' as other"):
        with pytest.raises(QueryError) as exc:
            engine.read_only_query(sql).read_all()
        assert "Traceback" not in str(exc.value)
    assert fingerprint(lake) == before
    # the user path reads the catalog's tables...
    assert engine.read_only_query("select count(*) as n from stocks.daily_prices").read_all().to_pylist() == [{"n": 200}]
    # ...and the pipeline's own connection still writes and reads files
    keys = engine.write_parquet("select 1 as a", "scratch/check/")
    assert keys == ["scratch/check/part-00000.parquet"]
    import pyarrow.parquet as pq

    assert pq.read_table(f"{lake}/scratch/check/part-00000.parquet").to_pylist() == [{"a": 1}]


LEGITIMATE = [
    ("select", "select symbol, count(*) as n from stocks.daily_prices group by symbol order by symbol", "AAPL"),
    ("with", "with d as (select symbol from stocks.daily_prices) select count(*) as n from d", "200"),
    ("values", "values (1, 'a'), (2, 'b')", "b"),
    ("show tables", "show tables", "daily_prices_quarantine"),
    ("show tables like", "show tables like 'daily*'", "daily_returns"),
    ("show columns", "show columns from stocks.daily_prices", "trade_date"),
    ("show partitions", "show partitions stocks.daily_prices", "trade_year="),
    ("describe", "describe stocks.daily_prices", "volume"),
    ("explain", "explain select count(*) from stocks.daily_prices", "physical_plan"),
    ("explain analyze", "explain analyze select count(*) from stocks.daily_prices", "analyzed_plan"),
    ("a view", "select count(*) as n from stocks.moving_averages where symbol = 'IBM'", "100"),
    ("unnest in a join", "select count(*) as n from stocks.daily_prices cross join unnest(array[1, 2]) as t(x)", "400"),
    ("a trailing semicolon", "select 41 + 1 as answer;", "42"),
    ("a column named like a function", 'select 1 as "read_csv"', "read_csv"),
]


@pytest.mark.parametrize(("label", "sql", "expected"), LEGITIMATE, ids=[x[0] for x in LEGITIMATE])
def test_legitimate_reads_work(lake, capsys, label, sql, expected):
    before = fingerprint(lake)
    assert main(["query", "--lake", str(lake), "--format", "csv", sql]) == 0, capsys.readouterr().err
    assert expected in capsys.readouterr().out
    assert fingerprint(lake) == before


MANY = "select p.symbol, p.trade_date, t.n from stocks.daily_prices p cross join unnest(sequence(1, 2000)) as t(n)"


def test_max_rows_stops_the_query_and_says_there_are_more(lake, capsys):
    assert main(["query", "--lake", str(lake), "--max-rows", "10", MANY]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 + 10 + 1
    assert lines[-1].startswith("(10 rows shown; there are more")
    assert main(["query", "--lake", str(lake), "--max-rows", "10", "--format", "csv", MANY]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 1 + 10
    assert "there are more" in captured.err
    # exactly as many rows as asked: nothing more to say
    assert main(["query", "--lake", str(lake), "--max-rows", "2", "values (1), (2)"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "(2 rows)"


def test_csv_and_json_stream_every_row_by_default(lake, capsys):
    import json

    assert main(["query", "--lake", str(lake), "--format", "json",
                 "select symbol, trade_date from stocks.daily_prices order by trade_date, symbol"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 200 and rows[0] == {"symbol": "AAPL", "trade_date": rows[0]["trade_date"]}
    assert main(["query", "--lake", str(lake), "--format", "json", "select 1 as a where false"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_show_partitions_lists_the_catalogs_partitions_as_athena_prints_them(lake, capsys):
    """Athena answers SHOW PARTITIONS with one `partition` column of key=value pairs joined by
    '/': the twin reads them from the catalog, for every key of a raw table too."""
    _, catalog, engine, _ = build_local(lake)
    years = sorted(p.values["trade_year"] for p in catalog.list_partitions("stocks", "daily_prices"))
    assert years, "the lake has no published year"
    table = engine.read_only_query("SHOW PARTITIONS daily_prices").read_all()
    assert table.column_names == ["partition"]
    assert table.to_pylist() == [{"partition": f"trade_year={y}"} for y in years]
    raw = engine.read_only_query("show partitions stocks.raw_daily").read_all().column("partition").to_pylist()
    keys = [k.name for k in catalog.get_table("stocks", "raw_daily").partition_keys]
    assert keys == ["ingest_date", "symbol", "ingest_run_id"]
    expected = sorted("/".join(f"{k}={p.values[k]}" for k in keys) for p in catalog.list_partitions("stocks", "raw_daily"))
    assert raw == expected and len(raw) == 2
    assert all(r.split("/")[0].startswith("ingest_date=") and r.split("/")[1].startswith("symbol=") for r in raw)

    for sql, message in (("show partitions stocks.nope", "table stocks.nope does not exist"),
                         ("show partitions stocks.tmp_daily_prices", "table stocks.tmp_daily_prices is not partitioned"),
                         ("show partitions stocks.moving_averages", "stocks.moving_averages is a view")):
        assert main(["query", "--lake", str(lake), sql]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err


PUBLISHED_COLUMNS = ["symbol", "trade_date", "open", "high", "low", "close", "volume", "fetched_at", "ingest_run_id",
                     "trade_year"]


@pytest.mark.parametrize("sql", ["show columns from stocks.daily_prices", "show columns in daily_prices",
                                 "SHOW COLUMNS FROM daily_prices FROM stocks", "show columns in daily_prices in stocks;"])
def test_show_columns_lists_the_names_alone_in_the_tables_order_partition_column_last(lake, capsys, sql):
    """Athena's SHOW COLUMNS shows only the column names, in every form its synopsis allows."""
    assert main(["query", "--lake", str(lake), "--format", "csv", sql]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.split() == ["field", *PUBLISHED_COLUMNS]


def test_describe_gives_each_column_with_the_type_the_catalog_declares(lake, capsys):
    assert main(["query", "--lake", str(lake), "--format", "csv", "describe stocks.daily_prices"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "col_name,data_type,comment"
    types = dict(line.split(",")[:2] for line in lines[1:])
    assert list(types) == PUBLISHED_COLUMNS
    # Hive's names for a Glue table's types, as Athena prints them, not DuckDB's (VARCHAR, INTEGER)
    assert (types["symbol"], types["trade_date"], types["volume"], types["fetched_at"], types["trade_year"]) == \
        ("string", "date", "bigint", "timestamp", "int")


def test_describe_and_show_columns_of_an_analysis_view(lake, capsys):
    assert main(["query", "--lake", str(lake), "--format", "csv", "desc stocks.moving_averages"]) == 0
    assert capsys.readouterr().out.splitlines()[1:4] == ['symbol,varchar,""', 'trade_date,date,""', 'close,double,""']  # an empty comment, not a null
    assert main(["query", "--lake", str(lake), "--format", "csv", "show columns from moving_averages"]) == 0
    assert capsys.readouterr().out.split()[:3] == ["field", "symbol", "trade_date"]


@pytest.mark.parametrize(("sql", "said"), [
    ("describe stocks.no_such_table", "table stocks.no_such_table does not exist"),
    ("show columns from elsewhere.daily_prices", "table elsewhere.daily_prices does not exist"),
    ("describe formatted stocks.daily_prices", "DESCRIBE EXTENDED or FORMATTED"),
])
def test_describe_and_show_columns_say_what_they_cannot_answer(lake, capsys, sql, said):
    assert main(["query", "--lake", str(lake), sql]) == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err
