"""The stream interface: an ordered log of intraday quote records, partitioned by symbol.
Kinesis Data Streams on AWS (or an SQS FIFO queue for small watchlists, chosen by a stack
parameter); locally a durable SQLite log with shards and per-consumer checkpoints.

What producers and the processor may rely on, on every transport:
- order per partition key: records put with the same partition key (the symbol) are read in
  the order they were put; across keys there is no order;
- at least once: a record is read again until its consumer checkpoints past it (Kinesis) or
  deletes it (SQS FIFO); the processor makes every effect idempotent;
- sequence numbers are opaque text that do NOT sort as text (Kinesis' are decimal integers of
  varying length): compare them only with `sequence_key`.

- checkpoints: a consumer's checkpoint on a shard means "processed up to and including
  sequence S"; `read(shard, after=checkpoint)` resumes after it, across a reopen;
- dedup: where `dedups` is true, a put whose `dedup_id` was put within the transport's window
  (5 minutes, SQS FIFO's) stores nothing new and answers the first put's (shard, sequence);
  Kinesis has no such window (`dedups` false): the processor recognises a resend by the quote
  record's own dedup id.

Adapters: glue_jobs/adapters/local/stream_sqlite.py, glue_jobs/adapters/aws/kinesis_stream.py,
glue_jobs/adapters/aws/sqs_fifo_stream.py; tests/glue_jobs/adapters/test_stream_contract.py holds
each of them to this."""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional, Protocol

PUT_BATCH_LIMIT = 500  # Kinesis PutRecords' record limit (SQS SendMessageBatch: 10)
MAX_RECORD_BYTES = 1_048_576  # Kinesis' data blob limit (SQS: 262,144 bytes a message)


def sequence_key(sequence: str) -> tuple[int, str]:
    """Orders sequence numbers: decimal ones by value, anything else as text after them."""
    return (len(sequence), sequence) if sequence.isdigit() else (1 << 30, sequence)


HASH_KEY_SPACE = 1 << 128  # Kinesis maps a partition key to a 128-bit integer by MD5


def shard_index(partition_key: str, shard_count: int) -> int:
    """The shard a partition key goes to when the hash key space is split evenly over
    `shard_count` shards, as CreateStream splits a new stream's: shard i starts at i * step
    (step = 2^128 // n) and the last one takes the remainder up to 2^128 - 1."""
    if shard_count < 1:
        raise ValueError(f"shard_count must be at least 1, got {shard_count}")
    hash_key = int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")
    return min(hash_key // (HASH_KEY_SPACE // shard_count), shard_count - 1)


def shard_name(index: int) -> str:
    """Kinesis' shard id form, so a local shard reads like an AWS one."""
    return f"shardId-{index:012d}"


def check_record(partition_key: str, data: bytes, *, max_bytes: int = MAX_RECORD_BYTES) -> None:
    """Kinesis' limits on one record, held on every transport so that what the local log takes
    the AWS stream takes too."""
    if not 1 <= len(partition_key) <= 256:
        raise StreamError(f"partition key {partition_key[:40]!r}: Kinesis takes 1 to 256 characters")
    if len(data) + len(partition_key.encode()) > max_bytes:
        raise StreamError(f"record of {partition_key!r}: {len(data)} bytes is over the {max_bytes}-byte "
                          "record limit")


@dataclass(frozen=True)
class StreamRecord:
    """One record as a consumer reads it, whatever the transport."""
    shard_id: str  # Kinesis shard id; the SQS FIFO message group; the local log's shard
    sequence: str  # the transport's sequence number within the shard (see sequence_key)
    partition_key: str  # the symbol
    data: bytes  # the producer's payload (glue_jobs.lake.quote_record)
    arrival_ms: int  # when the transport accepted it (UTC epoch milliseconds)


class StreamError(RuntimeError):
    """The transport refused an operation, with why."""


PutItem = tuple[str, bytes, Optional[str]]  # (partition_key, data, dedup_id)
DEDUP_WINDOW_S = 300  # SQS FIFO's deduplication interval; the local log keeps the same


@dataclass(frozen=True)
class ShardStatus:
    """One shard as a consumer sees it. `lag` counts records after the checkpoint (None where
    the transport cannot count them cheaply)."""
    shard_id: str
    last_sequence: str | None  # the newest record's sequence (None: empty or unknown)
    checkpoint: str | None  # the consumer's checkpoint (None: it has processed nothing)
    lag: int | None


class Stream(Protocol):
    name: str
    dedups: bool  # a repeated dedup_id within DEDUP_WINDOW_S stores nothing new

    def put(self, partition_key: str, data: bytes, *, dedup_id: str | None = None) -> tuple[str, str]:
        """Append one record; returns (shard_id, sequence). `dedup_id` makes a resend within
        the transport's window harmless where it supports that (SQS FIFO, the local log)."""

    def put_many(self, items: Sequence[PutItem]) -> list[tuple[str, str]]:
        """Append records in order (the transport's batch limits are the adapter's business);
        returns each one's (shard_id, sequence). Raises StreamError naming what was not put."""

    def shards(self) -> list[str]:
        """The shards to read (SQS FIFO: the one queue; its records name their message group)."""

    def read(self, shard_id: str, after: str | None, limit: int) -> list[StreamRecord]:
        """Up to `limit` records of `shard_id` after sequence `after` (None: the oldest kept), in
        order. A record is read again until checkpointed past."""

    def checkpoint(self, consumer: str, shard_id: str, sequence: str) -> None:
        """`consumer` processed `shard_id` up to and including `sequence` (a record's shard_id)."""

    def checkpoint_of(self, consumer: str, shard_id: str) -> str | None:
        """The consumer's checkpoint on the shard, None when it has none."""

    def status(self, consumer: str) -> list[ShardStatus]:
        """Per shard: the newest sequence, the consumer's checkpoint and its lag."""
