"""The AWS stream adapters against the limits moto does not enforce (a guard client around
moto's enforces them, so these tests fail if our code sends what AWS would refuse), and their
retries of the records an answer says failed."""
from __future__ import annotations

from collections import defaultdict

import boto3
import pytest

from glue_jobs.adapters.aws.kinesis_stream import MAX_REQUEST_BYTES, KinesisStream, put_batches
from glue_jobs.adapters.aws.sqs_fifo_stream import MAX_MESSAGE_BYTES, SqsFifoStream, send_batches
from glue_jobs.ports.stream import StreamError
from tests.support.aws import REGION


class GuardedKinesis:
    """moto's Kinesis client, holding PutRecords to AWS' limits and failing chosen records once
    (ProvisionedThroughputExceededException) the way a real answer reports them."""

    def __init__(self, client, fail_once=()):
        self._client = client
        self._fail_once = set(fail_once)
        self.requests: list[list[str]] = []

    def __getattr__(self, name):
        return getattr(self._client, name)

    def put_records(self, StreamName, Records):  # noqa: N803 (boto3's names)
        assert 1 <= len(Records) <= 500, f"PutRecords with {len(Records)} records (AWS takes 1 to 500)"
        size = sum(len(r["Data"]) + len(r["PartitionKey"].encode()) for r in Records)
        assert size <= MAX_REQUEST_BYTES, f"PutRecords of {size} bytes (AWS takes 5 MiB)"
        self.requests.append([r["PartitionKey"] for r in Records])
        results, failed = [], 0
        for record in Records:
            tag = (record["PartitionKey"], bytes(record["Data"]))
            if tag in self._fail_once:
                self._fail_once.discard(tag)
                results.append({"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded"})
                failed += 1
            else:
                answer = self._client.put_record(StreamName=StreamName, PartitionKey=record["PartitionKey"],
                                                 Data=record["Data"])
                results.append({"ShardId": answer["ShardId"], "SequenceNumber": answer["SequenceNumber"]})
        return {"FailedRecordCount": failed, "Records": results}


@pytest.fixture
def kinesis(aws):
    client = boto3.client("kinesis", region_name=REGION)
    client.create_stream(StreamName="quotes", ShardCount=2)
    return client


def _read_all(stream):
    out = defaultdict(list)
    for shard in stream.shards():
        for r in stream.read(shard, None, 10_000):
            out[r.partition_key].append(r.data)
    return out


def test_put_batches_hold_500_records_5_mib_and_one_record_per_key():
    many = [(f"K{i}", b"x", None) for i in range(1201)]
    assert [len(b) for b in put_batches(many)] == [500, 500, 201]
    big = [(f"K{i}", b"x" * 1_000_000, None) for i in range(12)]
    assert [len(b) for b in put_batches(big)] == [5, 5, 2]
    same_key = [("IBM", b"1", None), ("AAPL", b"1", None), ("IBM", b"2", None)]
    assert put_batches(same_key) == [[0, 1], [2]]


def test_failed_records_of_a_put_records_answer_are_retried_and_each_symbol_stays_in_order(kinesis):
    items = [(s, f"{s}-{i}".encode(), None) for i in range(4) for s in ("IBM", "AAPL", "MSFT")]
    guard = GuardedKinesis(kinesis, fail_once={("AAPL", b"AAPL-1"), ("MSFT", b"MSFT-0"), ("MSFT", b"MSFT-3")})
    stream = KinesisStream("quotes", client=guard, sleep=lambda s: None)
    positions = stream.put_many(items)
    assert len(positions) == len(items)
    assert _read_all(stream) == {s: [f"{s}-{i}".encode() for i in range(4)] for s in ("IBM", "AAPL", "MSFT")}
    assert all(len(keys) == len(set(keys)) for keys in guard.requests)


def test_a_record_that_keeps_failing_stops_the_put_and_names_it(kinesis):
    guard = GuardedKinesis(kinesis)
    guard._fail_once = type("Always", (set,), {"discard": lambda self, x: None})({("IBM", b"1")})
    stream = KinesisStream("quotes", client=guard, sleep=lambda s: None, max_attempts=3)
    with pytest.raises(StreamError, match=r"1 record\(s\) not put after 3 attempts \(IBM: Provisioned"):
        stream.put_many([("IBM", b"1", None), ("IBM", b"2", None)])
    assert _read_all(stream) == {}  # IBM's second record was not sent ahead of its first


def test_a_record_over_one_mib_is_refused_before_any_call(kinesis):
    guard = GuardedKinesis(kinesis)
    stream = KinesisStream("quotes", client=guard)
    with pytest.raises(StreamError, match="IBM"):
        stream.put_many([("AAPL", b"ok", None), ("IBM", b"x" * (1024 * 1024), None)])
    assert guard.requests == []


def test_a_big_watchlist_goes_out_in_requests_aws_accepts(kinesis):
    guard = GuardedKinesis(kinesis)
    stream = KinesisStream("quotes", client=guard)
    stream.put_many([(f"S{i:04d}", b"q" * 12_000, None) for i in range(1100)])
    assert sum(len(r) for r in guard.requests) == 1100 and len(guard.requests) >= 3


class GuardedSqs:
    def __init__(self, client, fail_once=()):
        self._client = client
        self._fail_once = set(fail_once)
        self.requests: list[list[str]] = []

    def __getattr__(self, name):
        return getattr(self._client, name)

    def send_message_batch(self, QueueUrl, Entries):  # noqa: N803
        assert 1 <= len(Entries) <= 10, f"SendMessageBatch with {len(Entries)} entries (SQS takes 1 to 10)"
        size = sum(len(e["MessageBody"].encode()) for e in Entries)
        assert size <= MAX_MESSAGE_BYTES, f"SendMessageBatch of {size} bytes (SQS takes 256 KiB)"
        self.requests.append([e["MessageGroupId"] for e in Entries])
        keep = [e for e in Entries if e["MessageBody"] not in self._fail_once]
        failed = [{"Id": e["Id"], "SenderFault": False, "Code": "InternalError"} for e in Entries if e not in keep]
        self._fail_once -= {e["MessageBody"] for e in Entries}
        answer = self._client.send_message_batch(QueueUrl=QueueUrl, Entries=keep) if keep else {}
        return {"Successful": answer.get("Successful", []), "Failed": failed}


def test_send_batches_hold_10_messages_256_kib_and_one_message_per_group():
    assert [len(b) for b in send_batches([(f"K{i}", b"x", None) for i in range(23)])] == [10, 10, 3]
    assert [len(b) for b in send_batches([(f"K{i}", b"x" * 100_000, None) for i in range(5)])] == [2, 2, 1]
    assert send_batches([("IBM", b"1", None), ("IBM", b"2", None)]) == [[0], [1]]


def test_sqs_fifo_retries_failed_entries_keeps_group_order_and_group_is_the_symbol(aws):
    client = boto3.client("sqs", region_name=REGION)
    url = client.create_queue(QueueName="quotes.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    guard = GuardedSqs(client, fail_once={"IBM-0", "AAPL-2"})
    stream = SqsFifoStream(url, client=guard, sleep=lambda s: None)
    stream.put_many([(s, f"{s}-{i}".encode(), f"{s}:{i}") for i in range(3) for s in ("IBM", "AAPL")])
    got = defaultdict(list)
    while True:
        page = stream.read(stream.shards()[0], None, 10)
        if not page:
            break
        for r in page:
            got[r.shard_id].append(r.data)
            stream.checkpoint("p", r.shard_id, r.sequence)
    assert dict(got) == {s: [f"{s}-{i}".encode() for i in range(3)] for s in ("IBM", "AAPL")}


def test_sqs_stream_refuses_a_standard_queue(aws):
    with pytest.raises(StreamError, match="FIFO"):
        SqsFifoStream("https://sqs.us-east-1.amazonaws.com/123456789012/quotes", client=object())
