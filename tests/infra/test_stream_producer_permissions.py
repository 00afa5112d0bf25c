"""The intraday producer's role against the calls its Lambda makes on moto, for each transport
the StreamTransport parameter can choose: every call allowed, and a policy missing the put is
noticed (the check is not vacuous)."""
from __future__ import annotations

import datetime as dt

import boto3
import pytest

from ingestion.alphavantage.api_key import clear_cache
from tests.support.alphavantage_server import FakeAlphaVantage
from tests.support.clock import FakeClock
from tests.support.iam_policy import REGION, CallRecorder, Names, RolePolicies, denied
from workflows.entry import stream_producer

BUCKET = "tickerlake-test-lake"
STACK = "tickerlake"
KEY = "PRODUCERKEY-42abcd"


@pytest.fixture(params=["kinesis", "sqs-fifo"])
def producer_calls(request, s3):
    clear_cache()
    secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="tickerlake-ApiKeySecret-abc", SecretString=KEY)["ARN"]
    env = {"TICKERLAKE_LAKE": f"s3://{BUCKET}", "TICKERLAKE_WATCHLIST": "IBM,AAPL", "ALPHAVANTAGE_SECRET_ID": secret,
           "TICKERLAKE_CALLS_PER_MINUTE": "60", "TICKERLAKE_CALLS_PER_DAY": "10000", "AWS_DEFAULT_REGION": REGION}
    if request.param == "kinesis":
        boto3.client("kinesis", region_name=REGION).create_stream(StreamName=f"{STACK}-quotes", ShardCount=1)
        env["TICKERLAKE_STREAM_NAME"] = f"{STACK}-quotes"
    else:
        env["TICKERLAKE_STREAM_QUEUE_URL"] = boto3.client("sqs", region_name=REGION).create_queue(
            QueueName=f"{STACK}-quotes.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    clock = FakeClock(dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.timezone.utc).timestamp())
    server = FakeAlphaVantage(api_key=KEY, as_of=dt.date(2026, 11, 20), clock=clock.now,
                              failures={"IBM": ["stale_quote"]}).start()  # a rejected answer: kept in S3
    env["ALPHAVANTAGE_BASE_URL"] = server.base_url
    recorder = CallRecorder()
    try:
        with recorder.recording():
            result = stream_producer.handler({}, None, env=env, clock=clock.now, sleep=clock.sleep)
    finally:
        server.stop()
        clear_cache()
    assert result["put"] > 0 and result["rejected"] == 1
    kinesis = request.param == "kinesis"
    return recorder.calls, Names(stack=STACK, bucket=BUCKET, secret_arn=secret,
                                 conditions={"UseKinesis": kinesis, "UseSqsFifo": not kinesis}), request.param


def test_the_producer_role_allows_every_call_the_producer_makes(producer_calls):
    calls, names, transport = producer_calls
    put = ("kinesis", "PutRecords") if transport == "kinesis" else ("sqs", "SendMessageBatch")
    assert put in {(c.service, c.operation) for c in calls}
    assert ("s3", "PutObject") in {(c.service, c.operation) for c in calls}
    policies = RolePolicies.from_template(names)
    assert denied(policies, "ProducerRole", calls, names) == []
    action = "kinesis:PutRecords" if transport == "kinesis" else "sqs:SendMessage"
    assert denied(policies.without("ProducerRole", action), "ProducerRole", calls, names)
