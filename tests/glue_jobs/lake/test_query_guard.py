"""The read-only rule on its own, without a lake: which statements and functions a user's
query may use (glue_jobs/lake/query_guard.py)."""
import pytest

from glue_jobs.lake.errors import ConfigError
from glue_jobs.lake.query_guard import QueryRefused, check_read_only, is_denied_function

ALLOWED = [
    "select 1",
    "SELECT * FROM stocks.daily_prices WHERE symbol = 'IBM'",
    "with a as (select 1 as x) select * from a",
    "(select 1) union all (select 2)",
    "values (1, 2), (3, 4)",
    "show tables",
    "show tables in stocks like 'daily*'",
    "show columns from stocks.daily_prices",
    "describe stocks.daily_prices",
    "explain select 1",
    "explain analyze select count(*) from stocks.daily_prices",
    "EXPLAIN (FORMAT JSON) select 1",
    "select * from stocks.daily_prices cross join unnest(array[1, 2]) as t(x)",
    "select * from awsdatacatalog.stocks.daily_prices",
    "-- a comment\nselect 1;",
    'select 1 as "read_csv"',
    "select read_csv from t",
    "select format_datetime(current_timestamp, 'yyyy') as y",
]

REFUSED = [
    ("copy (select 1) to '/tmp/x'", "COPY"),
    ("attach 'x.db'", "ATTACH"),
    ("install httpfs", "INSTALL"),
    ("load httpfs", "LOAD"),
    ("set x = 1", "SET"),
    ("pragma version", "PRAGMA"),
    ("create table x as select 1", "CREATE"),
    ("create view v as select * from read_csv('/etc/passwd')", "CREATE"),
    ("drop table x", "DROP"),
    ("insert into x select 1", "INSERT"),
    ("delete from x", "DELETE"),
    ("update x set a = 1", "UPDATE"),
    ("merge into x using y on true when matched then delete", "MERGE"),
    ("select 1; select 2", "more than one statement (2)"),
    ("", "empty"),
    ("select * from read_csv('/etc/passwd')", "read_csv"),
    ("select * from \"ReAd_TeXt\"('/etc/passwd')", "read_text"),
    ("select Read_Text('/etc/passwd')", "read_text"),
    ("with x as (select * from glob('/*')) select * from x", "glob"),
    ("select * from t join read_parquet('/x') r on true", "read_parquet"),
    ("select * from (select * from read_json('/x'))", "read_json"),
    ("select * from range(10)", "range"),
    ("select * from \"/etc/passwd\"", "/etc/passwd"),
    ("select * from '/etc/passwd'", "/etc/passwd"),
    ("select * from other.t", "other.t"),
    ("explain analyze copy (select 1) to 'x'", "COPY"),
    ("explain select * from read_csv('x')", "read_csv"),
    ("show functions", "SHOW FUNCTIONS"),
    ("show tables from '/etc'", "/etc"),
    ("select getenv('HOME')", "getenv"),
    ("select * from duckdb_settings()", "duckdb_settings"),
    ("summarize stocks.daily_prices", "SUMMARIZE"),
    ("(copy (select 1) to 'x')", "COPY"),
]


@pytest.mark.parametrize("sql", ALLOWED)
def test_reads_of_the_catalog_pass(sql):
    check_read_only(sql)


@pytest.mark.parametrize(("sql", "fragment"), REFUSED)
def test_everything_else_is_refused_naming_it(sql, fragment):
    with pytest.raises(QueryRefused) as exc:
        check_read_only(sql)
    assert fragment.lower() in str(exc.value).lower()
    assert exc.value.exit_code == 2


def test_sql_that_does_not_parse_is_a_usage_error():
    with pytest.raises(ConfigError, match="not valid Athena SQL"):
        check_read_only("select from where")


@pytest.mark.parametrize("name", ["read_csv", "READ_CSV_AUTO", '"read_text"', "parquet_scan", "sqlite_scan",
                                  "glob", "query_table", "iceberg_scan", "parquet_metadata"])
def test_file_functions_are_denied_in_any_spelling(name):
    assert is_denied_function(name)


@pytest.mark.parametrize("name", ["abs", "date_trunc", "array_agg", "regexp_extract", "lag"])
def test_ordinary_functions_are_not(name):
    assert not is_denied_function(name)
