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
from tests.support.athena_contract import template_workgroup

BUCKET = "tickerlake-test-lake"
WORKGROUP = "tickerlake"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/0b1c2d3e-test"
SQL = "-- sql/analysis/latest_close.sql\nselect symbol, close from stocks.daily_prices"


@pytest.fixture
def athena(s3, athena_contract):
    """moto's Athena under Athena's rules, in the workgroup infra/template.yaml deploys."""
    athena_contract.client.create_work_group(Name=WORKGROUP, Configuration=template_workgroup(BUCKET, KMS_KEY))
    return athena_contract.client


@pytest.fixture
def manual_progress():
    """Queries stay QUEUED until described `times` times, so the poll loop really loops."""
    from moto.moto_api import state_manager

    def set_times(times: int) -> None:
        state_manager.set_transition(model_name="athena::execution",
                                     transition={"progression": "manual", "times": times})

    yield set_times
    state_manager.unset_transition("athena::execution")


def make_engine(athena, s3, **kwargs) -> AthenaEngine:
    return AthenaEngine(workgroup=WORKGROUP, storage=S3Storage(BUCKET, "lake", client=s3), client=athena, **kwargs)


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
    engine = AthenaEngine(workgroup=WORKGROUP, storage=None, client=client, sleep=lambda s: None)
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


def test_write_parquet_succeeds_in_the_workgroup_the_template_deploys(athena, s3, glue, athena_contract):
    """The deployed workgroup enforces its settings, and such a workgroup refuses a CTAS with an
    external_location: the write must be a statement it accepts, into our location, encrypted."""
    engine = make_engine(athena, s3)
    location = "warehouse/daily_prices/trade_year=2026/v=r2/"
    tables_before = glue.get_tables(DatabaseName="stocks")["TableList"]

    keys = engine.write_parquet(SQL + ";\n", location)

    (execution_id,) = athena.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
    assert athena_contract.failure(execution_id) is None
    assert keys and all(k.startswith(location) for k in keys)  # the files are where the partition will point
    assert engine.storage.list_keys(location) == keys
    # written under the workgroup's enforced encryption, with the stack's key
    assert athena_contract.result_configuration(execution_id)["EncryptionConfiguration"] == {
        "EncryptionOption": "SSE_KMS", "KmsKey": KMS_KEY}
    statement = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Query"]
    assert "format = 'PARQUET'" in statement
    assert "from stocks.daily_prices\n)" in statement  # the trailing ';' is gone
    assert glue.get_tables(DatabaseName="stocks")["TableList"] == tables_before  # no definition left behind


def test_a_write_racing_another_into_the_same_location_fails_with_athenas_reason(athena, s3, athena_contract):
    """The emptiness check and the write are two steps; if files land in between, Athena's own
    check (HIVE_PATH_ALREADY_EXISTS) stops the write and the error names the SQL file."""
    engine = make_engine(athena, s3)
    location = "warehouse/daily_prices/trade_year=2026/v=r3/"
    checked = engine.storage.list_keys

    def check_then_someone_writes(prefix):
        found = checked(prefix)
        engine.storage.put_bytes(location + "other-writer.parquet", b"PAR1")
        return found

    engine.storage.list_keys = check_then_someone_writes
    with pytest.raises(QueryError, match=r"sql/analysis/latest_close.sql failed in workgroup tickerlake .*"
                                         r"HIVE_PATH_ALREADY_EXISTS"):
        engine.write_parquet(SQL, location)


def test_a_statement_longer_than_athenas_limit_is_refused_before_it_is_sent(athena, s3):
    run_ids = [f"20261120T220000Z-{i:06x}" for i in range(10_000)]
    sql = ("-- sql/wap/write_temp/write_temp.sql\nselect * from stocks.raw_daily where ingest_run_id in ("
           + ", ".join(f"'{r}'" for r in run_ids) + ")")
    engine = make_engine(athena, s3)
    with pytest.raises(QueryError) as info:
        engine.write_parquet(sql, "tmp/tmp_daily_prices/run_id=R/read/")
    message = str(info.value)
    assert message.startswith("sql/wap/write_temp/write_temp.sql is 2")
    assert "at most 262,144 bytes" in message and "process fewer at a time" in message
    assert athena.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"] == []


def test_a_statement_exactly_at_the_limit_is_sent(athena, s3):
    padding = 262_144 - len(b"select 1 -- ")
    engine = make_engine(athena, s3)
    engine.execute("select 1 -- " + "x" * padding)
    assert len(athena.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]) == 1
