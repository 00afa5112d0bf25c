"""The stream port on an SQS FIFO queue: the transport for a small watchlist, which should not
pay Kinesis' hourly shard cost.

- put: MessageGroupId = the partition key (the symbol), so each symbol stays in order;
  MessageDeduplicationId = the record's dedup id (or one derived from the body), so a resend
  within SQS' 5-minute window is harmless. SendMessageBatch takes 10 messages and 256 KiB a
  request (our code holds both: moto does not); failed entries are retried, and a request
  carries at most one message of a group, so a retry never lands behind a later message.
- read: the queue is the one "shard" to read; each record's shard_id is its message group.
  A received message stays hidden (the visibility timeout) and SQS hands out no later message
  of its group until it is deleted: that is what keeps a group in order.
- checkpoint(consumer, group, S): deletes the received messages of that group up to and
  including S, in the order they were received (never by comparing sequence numbers: moto's
  are random, real ones only increase within a group). What is not checkpointed comes back
  after the visibility timeout: at least once. There is one consumer per queue (the Lambda or
  `tickerlake stream consume`), so `consumer` names no position of its own here.
"""
from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from glue_jobs.ports.stream import PutItem, ShardStatus, StreamError, StreamRecord, check_record

SEND_BATCH_LIMIT = 10
MAX_MESSAGE_BYTES = 262_144  # SQS' message limit, and a SendMessageBatch request's
MAX_PUT_ATTEMPTS = 6


def send_batches(items: Sequence[PutItem]) -> list[list[int]]:
    """Indexes of `items` cut into SendMessageBatch requests: in order, at most 10 messages and
    256 KiB each, and one message per group: a retried entry must not land behind a later
    message of its group that the same request delivered. Pure."""
    batches: list[list[int]] = []
    current: list[int] = []
    groups: set[str] = set()
    size = 0
    for index, (key, data, _) in enumerate(items):
        if current and (len(current) == SEND_BATCH_LIMIT or size + len(data) > MAX_MESSAGE_BYTES or key in groups):
            batches.append(current)
            current, groups, size = [], set(), 0
        current.append(index)
        groups.add(key)
        size += len(data)
    if current:
        batches.append(current)
    return batches


class SqsFifoStream:
    """The FIFO queue at `queue_url` on the boto3 SQS `client`."""

    dedups = True

    def __init__(self, queue_url: str, *, client: Any = None, visibility_timeout: int | None = None,
                 sleep: Callable[[float], None] = time.sleep, max_attempts: int = MAX_PUT_ATTEMPTS):
        if client is None:
            import boto3

            client = boto3.client("sqs")
        if not queue_url.endswith(".fifo"):
            raise StreamError(f"{queue_url}: the stream on SQS needs a FIFO queue (a name ending in .fifo)")
        self.client = client
        self.url = queue_url
        self.name = queue_url.rstrip("/").rsplit("/", 1)[-1]
        self.visibility_timeout = visibility_timeout
        self._sleep = sleep
        self.max_attempts = max_attempts
        self._held: dict[str, list[tuple[str, str]]] = {}  # group -> [(sequence, receipt)] in receive order
        self._marks: dict[str, str] = {}

    # -- writing --------------------------------------------------------------------------------

    def put(self, partition_key: str, data: bytes, *, dedup_id: str | None = None) -> tuple[str, str]:
        return self.put_many([(partition_key, data, dedup_id)])[0]

    def put_many(self, items: Sequence[PutItem]) -> list[tuple[str, str]]:
        for key, data, _ in items:
            check_record(key, data, max_bytes=MAX_MESSAGE_BYTES)
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                raise StreamError(f"record of {key!r}: an SQS message body is text; this one is not UTF-8") from None
        out: list[tuple[str, str] | None] = [None] * len(items)
        for batch in send_batches(items):
            pending = list(batch)
            for attempt in range(1, self.max_attempts + 1):
                answer = self.client.send_message_batch(QueueUrl=self.url, Entries=[{
                    "Id": str(i), "MessageBody": items[i][1].decode("utf-8"), "MessageGroupId": items[i][0],
                    "MessageDeduplicationId": _dedup_id(items[i])} for i in pending])
                for ok in answer.get("Successful", []):
                    index = int(ok["Id"])
                    out[index] = (items[index][0], ok.get("SequenceNumber", ok["MessageId"]))
                failed = answer.get("Failed", [])
                if not failed:
                    break
                sender_fault = [f for f in failed if f.get("SenderFault")]
                if sender_fault or attempt == self.max_attempts:
                    shown = "; ".join(f"{items[int(f['Id'])][0]}: {f.get('Code')} {f.get('Message', '')}".strip()
                                      for f in failed[:5])
                    raise StreamError(f"{self.name}: {len(failed)} message(s) not sent after {attempt} attempt(s): "
                                      f"{shown}")
                # only the failed entries again: no other message of their groups is in this request
                pending = sorted(int(f["Id"]) for f in failed)
                self._sleep(min(2.0, 0.05 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2))
        return [r for r in out if r is not None]

    # -- reading --------------------------------------------------------------------------------

    def shards(self) -> list[str]:
        return [self.name]

    def read(self, shard_id: str, after: str | None, limit: int) -> list[StreamRecord]:
        """Receives up to `limit` messages (`after` is ignored: the queue is its own position)."""
        if shard_id != self.name:
            raise StreamError(f"{self.name} is read as one shard named {self.name!r}, not {shard_id!r}")
        if limit < 1:
            raise StreamError(f"read limit must be at least 1, got {limit}")
        out: list[StreamRecord] = []
        while len(out) < limit:
            kwargs: dict[str, Any] = {"QueueUrl": self.url, "MaxNumberOfMessages": min(SEND_BATCH_LIMIT, limit - len(out)),
                                      "WaitTimeSeconds": 0, "MessageSystemAttributeNames": ["All"]}
            if self.visibility_timeout is not None:
                kwargs["VisibilityTimeout"] = self.visibility_timeout
            messages = self.client.receive_message(**kwargs).get("Messages", [])
            if not messages:
                break
            for m in messages:
                attrs = m.get("Attributes", {})
                group = attrs.get("MessageGroupId", "")
                sequence = attrs.get("SequenceNumber", m["MessageId"])
                self._held.setdefault(group, []).append((sequence, m["ReceiptHandle"]))
                out.append(StreamRecord(group, sequence, group, m["Body"].encode("utf-8"),
                                        int(attrs.get("SentTimestamp", 0))))
        return out

    def checkpoint(self, consumer: str, shard_id: str, sequence: str) -> None:
        held = self._held.get(shard_id, [])
        position = next((i for i, (seq, _) in enumerate(held) if seq == sequence), None)
        if position is None:
            if self._marks.get(shard_id) == sequence:
                return  # already deleted
            raise StreamError(f"{self.name}: {sequence} of group {shard_id} is not held by this reader "
                              "(it was not received here, or its visibility timeout passed)")
        done, self._held[shard_id] = held[: position + 1], held[position + 1:]
        for start in range(0, len(done), SEND_BATCH_LIMIT):
            chunk = done[start:start + SEND_BATCH_LIMIT]
            answer = self.client.delete_message_batch(QueueUrl=self.url, Entries=[
                {"Id": str(i), "ReceiptHandle": receipt} for i, (_, receipt) in enumerate(chunk)])
            if answer.get("Failed"):
                # a receipt whose visibility timeout passed: the message comes back (at least once)
                codes = ", ".join(sorted({f.get("Code", "?") for f in answer["Failed"]}))
                raise StreamError(f"{self.name}: {len(answer['Failed'])} message(s) of {shard_id} not deleted "
                                  f"({codes}); they will be delivered again")
        self._marks[shard_id] = sequence

    def checkpoint_of(self, consumer: str, shard_id: str) -> str | None:
        return self._marks.get(shard_id)

    def status(self, consumer: str) -> list[ShardStatus]:
        attrs = self.client.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        lag = int(attrs.get("ApproximateNumberOfMessages", 0)) + int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))
        return [ShardStatus(self.name, None, None, lag)]


def _dedup_id(item: PutItem) -> str:
    key, data, dedup_id = item
    # SQS takes up to 128 characters of [A-Za-z0-9] and punctuation; hash anything else
    if dedup_id and len(dedup_id) <= 128 and dedup_id.isascii() and " " not in dedup_id:
        return dedup_id
    return hashlib.sha256(((dedup_id or "") + "\0" + key + "\0").encode() + data).hexdigest()
