"""The consumer Lambda as the stack configures it, on moto (S3, DynamoDB with the contract's
rules, SNS): Kinesis and SQS FIFO events in, batchItemFailures out, each alert published once."""
from __future__ import annotations

import base64
import json
from dataclasses import replace
from decimal import Decimal

import boto3
import pytest

from glue_jobs.adapters.aws.quotes_dynamodb import DynamoQuotesTable
from glue_jobs.lake.quote_record import encode
from glue_jobs.runtime import open_runtime
from tests.glue_jobs.adapters.test_quotes_contract import QUOTES_KEYS
from tests.glue_jobs.intraday.quotes import NOW, quote
from tests.support.aws import BUCKET, REGION
from workflows.entry import stream_consumer
from workflows.intraday import open_processor

TABLE = "tickerlake-test-quotes"


@pytest.fixture
def stack(s3, dynamodb_contract, monkeypatch, tmp_path):
    dynamodb_contract.client.create_table(TableName=TABLE, **QUOTES_KEYS)
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="alerts")["TopicArn"]
    env = {"TICKERLAKE_LAKE": f"s3://{BUCKET}", "TICKERLAKE_QUOTES_TABLE": TABLE, "TICKERLAKE_TOPIC_ARN": topic,
           "TICKERLAKE_ALERTS_FILE": str(tmp_path / "alerts.yml")}
    (tmp_path / "alerts.yml").write_text("daily_move: {percent: 5}\n")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    processor = open_processor(open_runtime(env["TICKERLAKE_LAKE"], env=env), env=env, clock=lambda: NOW)
    monkeypatch.setattr(stream_consumer, "_processor", processor)
    return DynamoQuotesTable(TABLE, dynamodb_contract.client), s3


def kinesis_event(quotes, shard="shardId-000000000000", first=49_590_000_000_000_000_000):
    return {"Records": [{
        "eventSource": "aws:kinesis", "eventID": f"{shard}:{first + n}",
        "kinesis": {"partitionKey": q.symbol, "sequenceNumber": str(first + n),
                    "data": base64.b64encode(encode(q)).decode(), "approximateArrivalTimestamp": q.event_time_ms / 1000},
    } for n, q in enumerate(quotes)]}


def sqs_event(quotes):
    return {"Records": [{
        "eventSource": "aws:sqs", "messageId": f"m{n}", "body": encode(q).decode(),
        "attributes": {"MessageGroupId": q.symbol, "SequenceNumber": str(10 ** 19 + n),
                       "SentTimestamp": str(q.event_time_ms)},
    } for n, q in enumerate(quotes)]}


POISON_PRICE = Decimal("101.0101")


def poison(q):
    """A quote the processor raises on: its screen passes it (a bad number is rejected there
    now), so the `poisoned` fixture makes the enrichment fail on this price, as a bug would."""
    return replace(q, price=POISON_PRICE)


@pytest.fixture
def poisoned(monkeypatch):
    from glue_jobs.intraday import processor

    real = processor.enrich

    def enrich(record, *args, **kwargs):
        if record.price == POISON_PRICE:
            raise ArithmeticError(f"a bug that fails on {record.symbol} {record.sequence}")
        return real(record, *args, **kwargs)

    monkeypatch.setattr(processor, "enrich", enrich)


def _markers(s3) -> int:
    return s3.list_objects_v2(Bucket=BUCKET, Prefix="alerts/sent/").get("KeyCount", 0)


def test_a_kinesis_batch_is_served_and_its_anomaly_published_once_however_often_it_is_delivered(stack):
    table, s3 = stack
    event = kinesis_event([quote("IBM", "101", 1), quote("IBM", "108", 2), quote("IBM", "0", 3)])
    assert stream_consumer.handler(event, None) == {"batchItemFailures": []}
    assert [q.price for q in table.recent("IBM", now=NOW)] == [Decimal("101"), Decimal("108")]
    assert _markers(s3) == 1
    rejected = s3.list_objects_v2(Bucket=BUCKET, Prefix="stream/rejected/")["Contents"]
    assert len(rejected) == 1 and rejected[0]["Key"].endswith("~49590000000000000002.json")
    assert stream_consumer.handler(event, None) == {"batchItemFailures": []}  # redelivered
    assert _markers(s3) == 1 and len(table.recent("IBM", now=NOW)) == 2


def test_kinesis_reports_only_the_first_failing_record_and_nothing_after_it_is_served(stack, poisoned):
    table, _ = stack
    event = kinesis_event([quote("IBM", "101", 1), poison(quote("IBM", "101", 2)), quote("IBM", "102", 3)])
    assert stream_consumer.handler(event, None) == {"batchItemFailures": [{"itemIdentifier": "49590000000000000001"}]}
    assert [q.sequence for q in table.recent("IBM", now=NOW)] == [1]


def test_sqs_fifo_reports_the_failing_message_and_every_one_after_it(stack, poisoned):
    table, _ = stack
    event = sqs_event([quote("IBM", "101", 1), quote("MSFT", "401", 1), poison(quote("MSFT", "401", 2)),
                       quote("IBM", "102", 2)])
    assert stream_consumer.handler(event, None) == {"batchItemFailures": [{"itemIdentifier": "m2"},
                                                                          {"itemIdentifier": "m3"}]}
    assert [q.sequence for q in table.recent("IBM", now=NOW)] == [1]
    assert [q.sequence for q in table.recent("MSFT", now=NOW)] == [1]


def test_a_function_without_its_table_fails_every_record_rather_than_drop_them(stack, monkeypatch):
    monkeypatch.setattr(stream_consumer, "_processor", None)
    monkeypatch.delenv("TICKERLAKE_QUOTES_TABLE")
    event = sqs_event([quote("IBM", "101", 1), quote("IBM", "102", 2)])
    assert stream_consumer.handler(event, None) == {"batchItemFailures": [{"itemIdentifier": "m0"},
                                                                          {"itemIdentifier": "m1"}]}
    assert json.dumps(stream_consumer.handler({"Records": []}, None)) == '{"batchItemFailures": []}'
