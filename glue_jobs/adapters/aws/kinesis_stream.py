"""The stream port on Kinesis Data Streams (partition key = symbol).

Limits our code enforces because moto does not: PutRecords takes at most 500 records and
5 MiB a request (data plus partition keys), a record at most 1 MiB, a partition key 1 to 256
characters. PutRecords answers per record: failed ones (throughput exceeded, internal
failure) are retried with backoff. Kinesis does not promise order inside one PutRecords
request, so a request never carries two records of one partition key, and a failed record is
retried before any later record of its key is sent: each symbol stays in order.

Consumers' checkpoints live in the lake (`stream/checkpoints/<stream>/<consumer>/<shard>.json`,
through the storage port): the Lambda event source mapping keeps its own position, these are
for `tickerlake stream consume` and status against an AWS stream. Sequence numbers are compared
with sequence_key only (moto's are short integers, real ones 56 digits: neither sorts as text).
"""
from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from glue_jobs.ports.storage import Storage
from glue_jobs.ports.stream import (
    PUT_BATCH_LIMIT,
    PutItem,
    ShardStatus,
    StreamError,
    StreamRecord,
    check_record,
    sequence_key,
)

MAX_REQUEST_BYTES = 5 * 1024 * 1024  # PutRecords' limit for a whole request
GET_RECORDS_LIMIT = 10_000  # GetRecords' Limit maximum
MAX_PUT_ATTEMPTS = 6
STATUS_SCAN_LIMIT = 100_000  # status counts at most this many records behind a checkpoint


def put_batches(items: Sequence[PutItem]) -> list[list[int]]:
    """Indexes of `items` cut into PutRecords requests: in order, at most 500 records and 5 MiB
    each, and never two records of one partition key in one request (Kinesis does not order
    records inside a request). Pure, so the cutting is tested without AWS."""
    batches: list[list[int]] = []
    current: list[int] = []
    keys: set[str] = set()
    size = 0
    for index, (key, data, _) in enumerate(items):
        record_size = len(data) + len(key.encode())
        if current and (len(current) == PUT_BATCH_LIMIT or size + record_size > MAX_REQUEST_BYTES or key in keys):
            batches.append(current)
            current, keys, size = [], set(), 0
        current.append(index)
        keys.add(key)
        size += record_size
    if current:
        batches.append(current)
    return batches


class KinesisStream:
    """The stream `stream_name` on the boto3 Kinesis `client`; checkpoints in `storage`."""

    dedups = False  # Kinesis keeps every put: the processor recognises resends by the record's dedup id

    def __init__(self, stream_name: str, *, client: Any = None, storage: Storage | None = None,
                 sleep: Callable[[float], None] = time.sleep, max_attempts: int = MAX_PUT_ATTEMPTS):
        if client is None:
            import boto3

            client = boto3.client("kinesis")
        self.client = client
        self.name = stream_name
        self._storage = storage
        self._sleep = sleep
        self.max_attempts = max_attempts
        self.requests: list[int] = []  # records per PutRecords request sent (for tests and progress)

    # -- writing --------------------------------------------------------------------------------

    def put(self, partition_key: str, data: bytes, *, dedup_id: str | None = None) -> tuple[str, str]:
        check_record(partition_key, data)
        answer = self.client.put_record(StreamName=self.name, PartitionKey=partition_key, Data=data)
        return answer["ShardId"], answer["SequenceNumber"]

    def put_many(self, items: Sequence[PutItem]) -> list[tuple[str, str]]:
        for key, data, _ in items:
            check_record(key, data)
        out: list[tuple[str, str] | None] = [None] * len(items)
        for batch in put_batches(items):
            pending = list(batch)
            for attempt in range(1, self.max_attempts + 1):
                self.requests.append(len(pending))
                answer = self.client.put_records(StreamName=self.name, Records=[
                    {"PartitionKey": items[i][0], "Data": items[i][1]} for i in pending])
                failed: list[int] = []
                errors: list[str] = []
                for index, result in zip(pending, answer["Records"]):
                    if result.get("ErrorCode"):
                        failed.append(index)
                        errors.append(f"{items[index][0]}: {result['ErrorCode']}")
                    else:
                        out[index] = (result["ShardId"], result["SequenceNumber"])
                if not failed:
                    break
                if attempt == self.max_attempts:
                    raise StreamError(f"{self.name}: {len(failed)} record(s) not put after {attempt} attempts "
                                      f"({'; '.join(errors[:5])}); later records were not sent, so no "
                                      "symbol's order is broken: put them again")
                pending = failed
                self._sleep(min(2.0, 0.05 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2))
        return [r for r in out if r is not None]

    # -- reading --------------------------------------------------------------------------------

    def shards(self) -> list[str]:
        shards: list[str] = []
        kwargs: dict[str, Any] = {"StreamName": self.name}
        while True:
            answer = self.client.list_shards(**kwargs)
            shards += [s["ShardId"] for s in answer["Shards"]]
            token = answer.get("NextToken")
            if not token:
                return shards
            kwargs = {"NextToken": token}

    def read(self, shard_id: str, after: str | None, limit: int) -> list[StreamRecord]:
        if limit < 1:
            raise StreamError(f"read limit must be at least 1, got {limit}")
        iterator = self._iterator(shard_id, after)
        out: list[StreamRecord] = []
        # GetRecords may answer empty while records lie further on (a sparse shard): follow a few
        for _ in range(5):
            if iterator is None or len(out) >= limit:
                break
            answer = self.client.get_records(ShardIterator=iterator, Limit=min(GET_RECORDS_LIMIT, limit - len(out)))
            out += [_record(shard_id, r) for r in answer["Records"]]
            iterator = answer.get("NextShardIterator")
            if not answer["Records"] and not answer.get("MillisBehindLatest"):
                break
        return out

    def _iterator(self, shard_id: str, after: str | None) -> str | None:
        kwargs: dict[str, Any] = {"StreamName": self.name, "ShardId": shard_id}
        if after is None:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=after)
        return self.client.get_shard_iterator(**kwargs).get("ShardIterator")

    def checkpoint(self, consumer: str, shard_id: str, sequence: str) -> None:
        current = self.checkpoint_of(consumer, shard_id)
        if current is not None and sequence_key(current) >= sequence_key(sequence):
            return  # never back
        self._store().put_bytes(self._key(consumer, shard_id), json.dumps({"sequence": sequence}).encode())

    def checkpoint_of(self, consumer: str, shard_id: str) -> str | None:
        key = self._key(consumer, shard_id)
        if not self._store().exists(key):
            return None
        return str(json.loads(self._store().get_bytes(key))["sequence"])

    def status(self, consumer: str) -> list[ShardStatus]:
        out = []
        for shard_id in self.shards():
            mark = self.checkpoint_of(consumer, shard_id)
            last, lag, after = mark, 0, mark
            while lag < STATUS_SCAN_LIMIT:
                page = self.read(shard_id, after, GET_RECORDS_LIMIT)
                if not page:
                    break
                lag += len(page)
                last = after = page[-1].sequence
            out.append(ShardStatus(shard_id, last, mark, lag if lag < STATUS_SCAN_LIMIT else None))
        return out

    def _store(self) -> Storage:
        if self._storage is None:
            raise StreamError(f"{self.name}: consumer checkpoints need the lake's storage (open the stream "
                              "through the runtime)")
        return self._storage

    def _key(self, consumer: str, shard_id: str) -> str:
        return f"stream/checkpoints/{self.name}/{consumer}/{shard_id}.json"


def _record(shard_id: str, r: dict) -> StreamRecord:
    arrival = r.get("ApproximateArrivalTimestamp")
    arrival_ms = int(arrival.timestamp() * 1000) if hasattr(arrival, "timestamp") else int(float(arrival or 0) * 1000)
    return StreamRecord(shard_id, r["SequenceNumber"], r["PartitionKey"], bytes(r["Data"]), arrival_ms)
