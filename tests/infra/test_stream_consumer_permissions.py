"""The intraday consumer's role against the calls its Lambda makes on moto (S3, DynamoDB, SNS),
for each transport the StreamTransport parameter can choose: every call allowed (on SQS FIFO
that includes writing the quotes' history, which Firehose writes on Kinesis), and the history
is writable only there and only under its prefix."""
from __future__ import annotations

import boto3
import pytest

from glue_jobs.intraday import history
from tests.glue_jobs.adapters.test_quotes_contract import QUOTES_KEYS
from tests.glue_jobs.intraday.quotes import NOW, quote
from tests.support.iam_policy import REGION, CallRecorder, Names, RolePolicies, denied
from tests.workflows.entry.test_stream_consumer import kinesis_event, sqs_event
from workflows.entry import stream_consumer

BUCKET = "tickerlake-test-lake"
STACK = "tickerlake"


@pytest.fixture(params=["kinesis", "sqs-fifo"])
def consumer_calls(request, s3, glue, dynamodb_contract, monkeypatch):
    names = Names(stack=STACK, bucket=BUCKET,
                  conditions={"UseKinesis": request.param == "kinesis", "UseSqsFifo": request.param == "sqs-fifo"})
    table = names.table()["QuotesTable.Arn"].rsplit("/", 1)[1]
    dynamodb_contract.client.create_table(TableName=table, **QUOTES_KEYS)
    topic = boto3.client("sns", region_name=REGION).create_topic(Name=f"{STACK}-AlertsTopic")["TopicArn"]
    assert topic == names.topic_arn
    for name, value in {"TICKERLAKE_LAKE": f"s3://{BUCKET}", "TICKERLAKE_QUOTES_TABLE": table,
                        "TICKERLAKE_TOPIC_ARN": topic}.items():
        monkeypatch.setenv(name, value)
    real = stream_consumer.open_processor
    monkeypatch.setattr(stream_consumer, "open_processor", lambda runtime, **kw: real(runtime, clock=lambda: NOW, **kw))
    monkeypatch.setattr(stream_consumer, "_processor", None)
    # an anomaly (an alert published, its sent marker) and a rejected quote, then a redelivery
    quotes = [quote("IBM", "101", 1), quote("IBM", "108", 2), quote("IBM", "0", 3)]
    event = kinesis_event(quotes) if request.param == "kinesis" else sqs_event(quotes)
    if request.param == "sqs-fifo":
        from tests.workflows.entry.test_stream_consumer_sqs_history import history_table

        history_table()  # the stack's table, whose days the consumer registers on this transport
    recorder = CallRecorder()
    with recorder.recording():
        assert stream_consumer.handler(event, None) == {"batchItemFailures": []}
        assert stream_consumer.handler(event, None) == {"batchItemFailures": []}
    return recorder.calls, names, request.param


def _puts(calls, prefix: str) -> list[str]:
    return [c.params["Key"] for c in calls if (c.service, c.operation) == ("s3", "PutObject")
            and c.params["Key"].startswith(prefix)]


def test_the_consumer_role_allows_every_call_the_consumer_makes(consumer_calls):
    calls, names, transport = consumer_calls
    assert ("sns", "Publish") in {(c.service, c.operation) for c in calls}
    assert _puts(calls, "stream/rejected/") and _puts(calls, "alerts/sent/")
    policies = RolePolicies.from_template(names)
    assert denied(policies, "ConsumerRole", calls, names) == []
    history_puts = _puts(calls, history.PREFIX)
    if transport == "sqs-fifo":
        assert len(history_puts) == 1  # the redelivery wrote nothing
        assert ("glue", "BatchCreatePartition") in {(c.service, c.operation) for c in calls}
        # the check is not vacuous: without the history's statement the put is refused
        assert denied(policies.without("ConsumerRole", "s3:PutObject"), "ConsumerRole", calls, names)
    else:
        assert history_puts == []  # Firehose's


def test_only_the_sqs_fifo_consumer_may_write_the_history_and_only_there():
    resource = f"arn:aws:s3:::{BUCKET}/{history.PREFIX}dt=2026-11-30/IBM~1~1.parquet"
    for kinesis in (True, False):
        names = Names(stack=STACK, bucket=BUCKET, conditions={"UseKinesis": kinesis, "UseSqsFifo": not kinesis})
        policies = RolePolicies.from_template(names)
        assert policies.allows("ConsumerRole", "s3:PutObject", resource) is (not kinesis)
        assert not policies.allows("ConsumerRole", "s3:PutObject", f"arn:aws:s3:::{BUCKET}/published/x.parquet")
        assert not policies.allows("ConsumerRole", "s3:PutObject", f"arn:aws:s3:::{BUCKET}/stream/quotesX/a")
