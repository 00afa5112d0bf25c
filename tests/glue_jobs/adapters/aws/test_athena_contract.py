"""The Athena stand-in (tests/support/athena_contract.py) answers as Athena does where moto
does not: each rule the adapter tests lean on is checked here against the raw boto3 API, so a
stand-in that stopped enforcing one would fail here, not silently pass the adapter."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.support.athena_contract import (
    EXTERNAL_LOCATION_REFUSED,
    NO_OUTPUT_LOCATION,
    TOO_MANY_PARTITIONS,
    template_workgroup,
)

BUCKET = "tickerlake-contract-lake"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/contract"
RESULTS = f"s3://{BUCKET}/athena-results/"


@pytest.fixture
def athena(s3, glue, athena_contract):
    s3.create_bucket(Bucket=BUCKET)
    client = athena_contract.client
    client.create_work_group(Name="enforced", Configuration=template_workgroup(BUCKET, KMS_KEY))
    client.create_work_group(Name="open", Configuration={
        "EnforceWorkGroupConfiguration": False, "ResultConfiguration": {"OutputLocation": RESULTS}})
    client.create_work_group(Name="nowhere", Configuration={"EnforceWorkGroupConfiguration": False})
    return client


def start(athena, sql: str, workgroup: str, **kwargs) -> str:
    return athena.start_query_execution(QueryString=sql, WorkGroup=workgroup, **kwargs)["QueryExecutionId"]


def status(athena, execution_id: str) -> dict:
    return athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]


def ctas(location: str, extra: str = "") -> str:
    return (f"CREATE TABLE stocks.t WITH (format = 'PARQUET', external_location = '{location}'{extra}) "
            f"AS SELECT 1 AS one")


def test_the_template_workgroup_enforces_its_settings():
    # what the rules below are about: the deployed workgroup overrides client-side settings
    config = template_workgroup(BUCKET, KMS_KEY)
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["ResultConfiguration"] == {"OutputLocation": RESULTS, "EncryptionConfiguration": {
        "EncryptionOption": "SSE_KMS", "KmsKey": KMS_KEY}}


def test_an_enforcing_workgroup_refuses_a_ctas_with_external_location(athena):
    with pytest.raises(ClientError) as info:
        start(athena, "-- sql/x.sql\n" + ctas(f"s3://{BUCKET}/lake/x/"), "enforced")
    assert info.value.response["Error"]["Code"] == "InvalidRequestException"
    assert info.value.response["Error"]["Message"] == EXTERNAL_LOCATION_REFUSED
    # a workgroup that does not enforce runs the same statement
    assert status(athena, start(athena, ctas(f"s3://{BUCKET}/lake/x/"), "open"))["State"] == "SUCCEEDED"


def test_an_enforcing_workgroup_ignores_client_side_result_settings(athena, athena_contract):
    mine = {"OutputLocation": f"s3://{BUCKET}/mine/", "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"}}
    enforced = start(athena, "select 1", "enforced", ResultConfiguration=mine)
    assert athena_contract.result_configuration(enforced)["OutputLocation"] == RESULTS
    assert athena_contract.result_configuration(enforced)["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
    assert athena_contract.result_configuration(start(athena, "select 1", "open", ResultConfiguration=mine)) == mine
    with pytest.raises(ClientError, match="No output location provided") as info:
        start(athena, "select 1", "nowhere")
    assert info.value.response["Error"]["Message"] == NO_OUTPUT_LOCATION


@pytest.mark.parametrize("statement", [
    lambda loc: ctas(loc),
    lambda loc: f"UNLOAD (SELECT 1 AS one) TO '{loc}' WITH (format = 'PARQUET')",
], ids=["ctas", "unload"])
def test_a_write_into_a_location_that_holds_files_fails_and_a_fresh_one_is_filled(athena, s3, statement):
    location = f"s3://{BUCKET}/lake/v=1/"
    first = start(athena, statement(location), "open")
    assert status(athena, first)["State"] == "SUCCEEDED"
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="lake/v=1/")["KeyCount"] == 1  # Athena left its file
    again = status(athena, start(athena, statement(location), "open"))
    assert again["State"] == "FAILED"
    assert again["StateChangeReason"].startswith("HIVE_PATH_ALREADY_EXISTS: Target directory")


def test_at_most_100_partitions_per_statement(athena, glue, athena_contract):
    partitioned = ctas(f"s3://{BUCKET}/lake/p1/", ", partitioned_by = ARRAY['trade_year']")
    athena_contract.will_write_partitions(100)
    assert status(athena, start(athena, partitioned, "open"))["State"] == "SUCCEEDED"
    athena_contract.will_write_partitions(101)
    failed = status(athena, start(athena, partitioned.replace("/p1/", "/p2/"), "open"))
    assert (failed["State"], failed["StateChangeReason"]) == ("FAILED", TOO_MANY_PARTITIONS)

    glue.create_table(DatabaseName="stocks", TableInput={
        "Name": "daily_prices", "PartitionKeys": [{"Name": "trade_year", "Type": "int"}]})
    insert = "INSERT INTO stocks.daily_prices SELECT * FROM stocks.tmp_daily_prices"
    athena_contract.will_write_partitions(150)
    assert status(athena, start(athena, insert, "open"))["StateChangeReason"] == TOO_MANY_PARTITIONS
    # nobody said how many: the stand-in cannot judge, so the test using it fails loudly
    with pytest.raises(AssertionError, match="will_write_partitions"):
        start(athena, insert, "open")


def test_a_query_string_longer_than_262144_bytes_is_refused(athena):
    at_limit = "select 1 -- " + "é" * ((262_144 - 12) // 2)  # two bytes each: the limit counts bytes
    assert status(athena, start(athena, at_limit, "open"))["State"] == "SUCCEEDED"
    with pytest.raises(ClientError, match="Member must have length less than or equal to 262144"):
        start(athena, at_limit + "é", "open")
