"""The quotes' history on the SQS FIFO transport, which Firehose cannot read: the consumer Lambda
writes `stream/quotes/dt=YYYY-MM-DD/` itself (on moto, through the handler as the stack runs it),
each message's row once however often SQS delivers it, and `stocks.intraday_quotes`' files are
what the AWS replay reads back."""
from __future__ import annotations

import boto3
import pytest

from glue_jobs.intraday import history
from glue_jobs.intraday.history_replay import parquet_rows
from tests.glue_jobs.adapters.test_quotes_contract import QUOTES_KEYS
from tests.glue_jobs.intraday.quotes import NOW, SESSION, quote
from tests.support.aws import BUCKET, REGION
from tests.workflows.entry.test_stream_consumer import kinesis_event, poison, poisoned, sqs_event  # noqa: F401
from workflows.entry import stream_consumer

TABLE = "tickerlake-test-quotes"


def history_table() -> None:
    """stocks.intraday_quotes as the stack makes it on the SQS FIFO transport: days registered
    as partitions (not projected), which the consumer adds as it writes them."""
    from glue_jobs.adapters.aws.glue_catalog import GlueCatalog

    GlueCatalog(f"s3://{BUCKET}", client=boto3.client("glue", region_name=REGION)).create_table(history.table_def())


@pytest.fixture
def lambda_env(s3, glue, dynamodb_contract, monkeypatch):
    """The function as the stack configures it, opening its own processor (the tests' clock)."""
    history_table()
    dynamodb_contract.client.create_table(TableName=TABLE, **QUOTES_KEYS)
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="alerts")["TopicArn"]
    for name, value in {"TICKERLAKE_LAKE": f"s3://{BUCKET}", "TICKERLAKE_QUOTES_TABLE": TABLE,
                        "TICKERLAKE_TOPIC_ARN": topic}.items():
        monkeypatch.setenv(name, value)
    real = stream_consumer.open_processor
    monkeypatch.setattr(stream_consumer, "open_processor",
                        lambda runtime, **kw: real(runtime, clock=lambda: NOW, **kw))
    monkeypatch.setattr(stream_consumer, "_processor", None)
    return s3


def history_rows(s3) -> list[tuple[str, str, int]]:
    """(dt, symbol, producer sequence) of every row in the history, in key order."""
    out = []
    for obj in s3.list_objects_v2(Bucket=BUCKET, Prefix=history.PREFIX).get("Contents", []):
        day = obj["Key"][len(history.PREFIX) + 3:].split("/", 1)[0]
        data = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
        out.extend((day, r["symbol"], r["sequence"]) for r in parquet_rows(data))
    return sorted(out)


def test_sqs_messages_reach_the_history_once_however_often_they_are_delivered(lambda_env):
    s3 = lambda_env
    event = sqs_event([quote("IBM", "101", 1), quote("MSFT", "401", 1), quote("IBM", "0", 2), quote("IBM", "103", 3)])
    assert stream_consumer.handler(event, None) == {"batchItemFailures": []}
    expected = [(SESSION, "IBM", 1), (SESSION, "IBM", 3), (SESSION, "MSFT", 1)]  # the zero price is rejected
    assert history_rows(s3) == expected
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=history.PREFIX)["Contents"]]
    # a file per run of one message group, named by the SequenceNumbers of its accepted quotes
    s = 10 ** 19
    assert sorted(k.rsplit("/", 1)[1] for k in keys) == [
        f"IBM~{s}~{s}.parquet", f"IBM~{s + 3}~{s + 3}.parquet", f"MSFT~{s + 1}~{s + 1}.parquet"]
    # SQS redelivers (a visibility timeout passed, or a new container took the group)
    stream_consumer._processor = None
    assert stream_consumer.handler(event, None) == {"batchItemFailures": []}
    assert stream_consumer.handler(sqs_event([quote("IBM", "101", 1), quote("MSFT", "401", 1)]), None) \
        == {"batchItemFailures": []}
    assert history_rows(s3) == expected
    # the day is a partition of the table, at the day's folder, for `stream compact` to switch
    parts = boto3.client("glue", region_name=REGION).get_partitions(DatabaseName="stocks", TableName="intraday_quotes")
    assert [(p["Values"], p["StorageDescriptor"]["Location"]) for p in parts["Partitions"]] == \
        [([SESSION], f"s3://{BUCKET}/{history.PREFIX}dt={SESSION}/")]


def test_a_failed_message_and_those_after_it_are_written_once_when_they_come_back(lambda_env, poisoned):  # noqa: F811
    s3 = lambda_env
    good = [quote("IBM", "101", 1), quote("IBM", "102", 2), quote("IBM", "103", 3)]
    first = sqs_event([good[0], poison(good[1]), good[2]])
    assert stream_consumer.handler(first, None) == {"batchItemFailures": [{"itemIdentifier": "m1"},
                                                                          {"itemIdentifier": "m2"}]}
    assert history_rows(s3) == [(SESSION, "IBM", 1)]
    # the fixed message comes back with the rest of the batch (same SequenceNumbers), and the first again
    assert stream_consumer.handler(sqs_event(good), None) == {"batchItemFailures": []}
    assert history_rows(s3) == [(SESSION, "IBM", 1), (SESSION, "IBM", 2), (SESSION, "IBM", 3)]


def test_a_kinesis_function_leaves_the_history_to_firehose(lambda_env):
    s3 = lambda_env
    assert stream_consumer.handler(kinesis_event([quote("IBM", "101", 1)]), None) == {"batchItemFailures": []}
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=history.PREFIX).get("KeyCount", 0) == 0
