"""What is DynamoDB's own in the serving adapter (the shared behaviour is in
tests/glue_jobs/adapters/test_serving_contract.py): the items' wire form, floats refused, a
missing table named in one line, the backoff's cap; and the stand-in's rules, each checked
against the raw boto3 API so a stand-in that stopped enforcing one fails here, not silently."""
from __future__ import annotations

from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from glue_jobs.adapters.aws.serving_dynamodb import DynamoServingTable
from glue_jobs.ports.serving import Bar, ServingUnavailable, WriteResult
from tests.support.dynamodb_contract import SERVING_TABLE, TEMPLATE

V1 = "20240102T220000Z-aaaaaa"


def a_bar(day: str = "2024-01-02", **over) -> Bar:
    fields = dict(symbol="IBM", trade_date=day, open=Decimal(repr(0.1 + 0.2)), high=Decimal("190.5"),
                  low=Decimal("180"), close=Decimal("185.25"), volume=4_100_000, ingest_run_id="ingest-1", version=V1)
    fields.update(over)
    return Bar(**fields)


def test_dynamodb_serving_items_carry_the_agreed_attributes_and_types(dynamodb_contract):
    table = DynamoServingTable(dynamodb_contract.table_name, dynamodb_contract.client)
    table.put_bars([a_bar()])
    item = dynamodb_contract.client.get_item(TableName=dynamodb_contract.table_name,
                                             Key={"symbol": {"S": "IBM"}, "trade_date": {"S": "2024-01-02"}})["Item"]
    # other readers (a console, an application with its own SDK) see numbers, not strings
    assert item == {
        "symbol": {"S": "IBM"}, "trade_date": {"S": "2024-01-02"}, "open": {"N": "0.30000000000000004"},
        "high": {"N": "190.5"}, "low": {"N": "180"}, "close": {"N": "185.25"}, "volume": {"N": "4100000"},
        "ingest_run_id": {"S": "ingest-1"}, "version": {"S": V1},
    }


def test_dynamodb_serving_refuses_a_float_or_inexact_price_before_any_request(dynamodb_contract):
    table = DynamoServingTable(dynamodb_contract.table_name, dynamodb_contract.client)
    with pytest.raises(TypeError, match="Decimal or int, not float"):
        table.put_bars([a_bar(open=187.15)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not float"):
        table.put_bars_unconditionally([a_bar(close=1.5)])  # type: ignore[arg-type]
    # what DynamoDB would refuse or round (moto stores it): refused here, named
    for value in (Decimal("1." + "1" * 38), Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(ValueError, match="cannot store .* exactly"):
            table.put_bars([a_bar(high=value)])
    assert dynamodb_contract.calls["PutItem"] == dynamodb_contract.calls["BatchWriteItem"] == 0


def test_dynamodb_serving_names_a_missing_table_in_one_line(dynamodb_contract):
    table = DynamoServingTable("no-such-table", dynamodb_contract.client)
    for attempt in (lambda: table.get_bars("IBM"), lambda: table.put_bars([a_bar()])):
        with pytest.raises(ServingUnavailable) as info:
            attempt()
        assert "'no-such-table' not found" in str(info.value) and "TICKERLAKE_SERVING_TABLE" in str(info.value)
        assert "\n" not in str(info.value)


def test_dynamodb_serving_backoff_grows_to_its_cap_with_jitter(dynamodb_contract):
    sleeps: list[float] = []
    table = DynamoServingTable(dynamodb_contract.table_name, dynamodb_contract.client, max_attempts=10,
                               base_delay=0.05, max_delay=2.0, sleep=sleeps.append, rng=lambda: 0.5)
    dynamodb_contract.throttle("PutItem", times=8)
    assert table.put_bars([a_bar()]) == WriteResult(written=1, retried=8)
    # half (rng 0.5) of min(cap, base * 2**attempt): 0.05, 0.1, ... capped at 2.0
    assert sleeps == [0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


# -- the stand-in's rules (tests/support/dynamodb_contract.py) ---------------------------------

def _put(day: str, close: str = "1") -> dict:
    return {"PutRequest": {"Item": {"symbol": {"S": "IBM"}, "trade_date": {"S": day}, "close": {"N": close}}}}


def test_dynamodb_stand_in_refuses_more_than_25_requests_in_a_batch(dynamodb_contract):
    client, name = dynamodb_contract.client, dynamodb_contract.table_name
    client.batch_write_item(RequestItems={name: [_put(f"2024-01-{d:02d}") for d in range(1, 26)]})
    with pytest.raises(ClientError) as info:
        client.batch_write_item(RequestItems={name: [_put(f"2024-02-{d:02d}") for d in range(1, 27)]})
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "Member must have length less than or equal to 25" in info.value.response["Error"]["Message"]
    assert client.scan(TableName=name, Select="COUNT")["Count"] == 25  # the refused call wrote nothing


def test_dynamodb_stand_in_refuses_a_key_twice_in_a_batch(dynamodb_contract):
    client, name = dynamodb_contract.client, dynamodb_contract.table_name
    with pytest.raises(ClientError, match="Provided list of item keys contains duplicates"):
        client.batch_write_item(RequestItems={name: [_put("2024-01-02", "1"), _put("2024-01-02", "2")]})


def test_dynamodb_stand_in_refuses_a_reversed_between(dynamodb_contract):
    with pytest.raises(ClientError, match="BETWEEN operator requires upper bound to be greater"):
        dynamodb_contract.client.query(
            TableName=dynamodb_contract.table_name, KeyConditionExpression="symbol = :s AND trade_date BETWEEN :a AND :b",
            ExpressionAttributeValues={":s": {"S": "IBM"}, ":a": {"S": "2024-02-01"}, ":b": {"S": "2024-01-01"}})


def test_dynamodb_stand_in_unprocessed_items_are_not_written(dynamodb_contract):
    client, name = dynamodb_contract.client, dynamodb_contract.table_name
    dynamodb_contract.leave_unprocessed(2)
    response = client.batch_write_item(RequestItems={name: [_put(f"2024-01-{d:02d}") for d in range(1, 6)]})
    assert [w["PutRequest"]["Item"]["trade_date"]["S"] for w in response["UnprocessedItems"][name]] \
        == ["2024-01-04", "2024-01-05"]
    assert client.scan(TableName=name, Select="COUNT")["Count"] == 3
    dynamodb_contract.leave_unprocessed(5)
    response = client.batch_write_item(RequestItems={name: [_put(f"2024-02-{d:02d}") for d in range(1, 6)]})
    assert len(response["UnprocessedItems"][name]) == 5
    assert client.scan(TableName=name, Select="COUNT")["Count"] == 3


def test_dynamodb_stand_in_throttles_without_writing(dynamodb_contract):
    client, name = dynamodb_contract.client, dynamodb_contract.table_name
    dynamodb_contract.throttle("PutItem", code="RequestLimitExceeded")
    with pytest.raises(ClientError) as info:
        client.put_item(TableName=name, Item=_put("2024-01-02")["PutRequest"]["Item"])
    assert info.value.response["Error"]["Code"] == "RequestLimitExceeded"
    assert client.scan(TableName=name, Select="COUNT")["Count"] == 0


def test_dynamodb_serving_table_in_the_template_is_the_one_the_tests_create():
    from cfnlint.decode import decode

    parsed, errors = decode(str(TEMPLATE))
    assert not errors, errors
    tables = [r["Properties"] for r in parsed["Resources"].values() if r.get("Type") == "AWS::DynamoDB::Table"
              and any(k.get("AttributeName") == "trade_date" for k in r.get("Properties", {}).get("KeySchema", []))]
    if not tables:
        pytest.skip("infra/template.yaml has no serving table yet (issue 13's CloudFormation part)")
    [table] = tables
    for name in ("KeySchema", "BillingMode"):
        assert table[name] == SERVING_TABLE[name], name
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(SERVING_TABLE["AttributeDefinitions"], key=str)


def test_an_s3_lake_finds_its_serving_table_in_the_environment_it_is_given(aws):
    import boto3

    from glue_jobs.lake.errors import ConfigError
    from glue_jobs.runtime import open_runtime

    session = boto3.session.Session(region_name="us-east-1")
    named = open_runtime("s3://lake-bucket", session=session, env={"TICKERLAKE_SERVING_TABLE": "bars"})
    assert named.serving.table_name == "bars"
    unnamed = open_runtime("s3://lake-bucket", session=session, env={})
    with pytest.raises(ConfigError, match="TICKERLAKE_SERVING_TABLE"):
        unnamed.serving  # noqa: B018 (the property opens it)
