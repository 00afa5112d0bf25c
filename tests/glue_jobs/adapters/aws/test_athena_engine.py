from __future__ import annotations

import datetime as dt

import boto3
import pyarrow as pa
import pytest
import requests
from botocore.stub import Stubber

from glue_jobs.adapters.aws.athena_engine import AthenaEngine, describe_sql
from glue_jobs.adapters.aws.s3_storage import S3Storage
from glue_jobs.ports.engine import QueryError

BUCKET = "tickerlake-test-lake"
WORKGROUP = "tickerlake"
SQL = "-- sql/analysis/latest_close.sql\nselect symbol, close from stocks.daily_prices"


@pytest.fixture
def athena(s3):
    client = boto3.client("athena", region_name="us-east-1")
    client.create_work_group(
        Name=WORKGROUP,
        Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{BUCKET}/athena-results/"},
                       "EnforceWorkGroupConfiguration": True},
    )
    return client


@pytest.fixture
def manual_progress():
    """Queries stay QUEUED until described `times` times, so the poll loop really loops."""
    from moto.moto_api import state_manager

    def set_times(times: int) -> None:
        state_manager.set_transition(model_name="athena::execution",
                                     transition={"progression": "manual", "times": times})

    yield set_times
    state_manager.unset_transition("athena::execution")


def make_engine(athena, s3, glue=None, **kwargs) -> AthenaEngine:
    glue = glue or boto3.client("glue", region_name="us-east-1")
    return AthenaEngine(workgroup=WORKGROUP, storage=S3Storage(BUCKET, "lake", client=s3), client=athena,
                        glue_client=glue, **kwargs)


def set_results(rows: list[list[str | None]], columns: list[dict]) -> None:
    """moto's documented way to choose what the next query returns."""
    body = {"results": [{"rows": [{"Data": [{"VarCharValue": v} if v is not None else {} for v in row]}
                                  for row in rows],
                         "column_info": columns}]}
    assert requests.post("http://motoapi.amazonaws.com/moto-api/static/athena/query-results", json=body).ok


def test_describe_sql_names_the_sql_file_or_the_first_line():
    assert describe_sql(SQL) == "sql/analysis/latest_close.sql"
    assert describe_sql("-- file: sql/views/returns.sql\ncreate view x as select 1") == "sql/views/returns.sql"
    assert describe_sql("\n-- no file here\nselect 1 as one") == "statement 'select 1 as one'"


def test_a_succeeded_query_comes_back_typed_without_the_header_row(athena, s3, manual_progress):
    manual_progress(2)
    sleeps: list[float] = []
    engine = make_engine(athena, s3, sleep=sleeps.append, poll_seconds=0.5)
    columns = [{"Name": "symbol", "Label": "symbol", "Type": "varchar"},
               {"Name": "trade_date", "Label": "trade_date", "Type": "date"},
               {"Name": "close", "Label": "close", "Type": "double"},
               {"Name": "volume", "Label": "volume", "Type": "bigint"},
               {"Name": "fetched_at", "Label": "fetched_at", "Type": "timestamp"}]
    set_results([["symbol", "trade_date", "close", "volume", "fetched_at"],
                 ["AAPL", "2026-11-20", "228.5", "51234000", "2026-11-20 22:00:01.250"],
                 ["IBM", "2026-11-20", None, "0", "2026-11-20 22:00:02"]], columns)
    table = engine.query(SQL)
    assert table.schema == pa.schema([("symbol", pa.string()), ("trade_date", pa.date32()), ("close", pa.float64()),
                                      ("volume", pa.int64()), ("fetched_at", pa.timestamp("us"))])
    assert table.to_pylist() == [
        {"symbol": "AAPL", "trade_date": dt.date(2026, 11, 20), "close": 228.5, "volume": 51234000,
         "fetched_at": dt.datetime(2026, 11, 20, 22, 0, 1, 250000)},
        {"symbol": "IBM", "trade_date": dt.date(2026, 11, 20), "close": None, "volume": 0,
         "fetched_at": dt.datetime(2026, 11, 20, 22, 0, 2)},
    ]
    assert sleeps[:3] == [0.5, 1.0, 2.0]  # it polled while the query was queued, backing off
    (execution_id,) = athena.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
    execution = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    assert execution["Query"] == SQL
    assert execution["QueryExecutionContext"]["Database"] == "stocks"


def test_a_cancelled_query_raises_naming_the_sql_file(athena, s3, manual_progress):
    manual_progress(1000)

    def someone_cancels(_seconds: float) -> None:
        (execution_id,) = athena.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
        athena.stop_query_execution(QueryExecutionId=execution_id)

    engine = make_engine(athena, s3, sleep=someone_cancels)
    with pytest.raises(QueryError, match=r"sql/analysis/latest_close.sql was cancelled in workgroup tickerlake"):
        engine.query(SQL)


def test_a_query_that_runs_too_long_is_stopped(athena, s3, manual_progress):
    manual_progress(1000)
    now = [0.0]

    def tick(seconds: float) -> None:
        now[0] += seconds

    engine = make_engine(athena, s3, sleep=tick, clock=lambda: now[0], timeout_seconds=60)
    with pytest.raises(QueryError, match="did not finish within 60 s"):
        engine.execute(SQL)
    (execution_id,) = athena.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
    assert athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]["State"] == "CANCELLED"


def test_a_failed_query_raises_with_athenas_reason():
    """moto's executions never fail, so Athena's answers are stubbed for this one."""
    client = boto3.client("athena", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    engine = AthenaEngine(workgroup=WORKGROUP, storage=None, client=client, glue_client=object(),
                          sleep=lambda s: None)
    reason = "COLUMN_NOT_FOUND: line 2:15: Column 'close' cannot be resolved"
    with Stubber(client) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"},
                          {"QueryString": SQL, "QueryExecutionContext": {"Database": "stocks"},
                           "WorkGroup": WORKGROUP})
        stub.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": "q-1",
                                                                     "Status": {"State": "RUNNING"}}})
        stub.add_response("get_query_execution", {"QueryExecution": {
            "QueryExecutionId": "q-1", "Status": {"State": "FAILED", "StateChangeReason": reason}}})
        with pytest.raises(QueryError) as info:
            engine.query(SQL)
    assert str(info.value) == f"sql/analysis/latest_close.sql failed in workgroup {WORKGROUP} (query q-1): {reason}"


def test_write_parquet_refuses_a_location_that_holds_files(athena, s3):
    engine = make_engine(athena, s3)
    engine.storage.put_bytes("warehouse/daily_prices/trade_year=2026/v=r1/part-0.parquet", b"PAR1")
    with pytest.raises(QueryError, match=r"refusing to write into s3://tickerlake-test-lake/lake/warehouse/"):
        engine.write_parquet(SQL, "warehouse/daily_prices/trade_year=2026/v=r1/")
    assert athena.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"] == []


def test_write_parquet_is_a_ctas_into_the_fresh_prefix_whose_definition_is_dropped(athena, s3, glue):
    engine = make_engine(athena, s3, glue)
    location = "warehouse/daily_prices/trade_year=2026/v=r2/"
    leftover = engine.ctas_table_name(location)
    # a crashed earlier attempt left its CTAS definition behind
    glue.create_table(DatabaseName="stocks", TableInput={"Name": leftover})
    engine.write_parquet(SQL + ";\n", location)
    (execution_id,) = athena.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
    ctas = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Query"]
    assert ctas.startswith(f'CREATE TABLE "stocks"."{leftover}"')
    assert f"external_location = 's3://{BUCKET}/lake/{location}'" in ctas
    assert "format = 'PARQUET'" in ctas
    assert ctas.rstrip().endswith("from stocks.daily_prices")  # the trailing ';' is gone
    assert leftover not in [t["Name"] for t in glue.get_tables(DatabaseName="stocks")["TableList"]]
