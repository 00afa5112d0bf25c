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

The adapters (and the contract suite that holds them to this) are built in issue 14; this
module fixes the record shape the producer, the adapters and the processor share."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

PUT_BATCH_LIMIT = 500  # Kinesis PutRecords' record limit (SQS SendMessageBatch: 10)
MAX_RECORD_BYTES = 1_048_576  # Kinesis' data blob limit (SQS: 262,144 bytes a message)


def sequence_key(sequence: str) -> tuple[int, str]:
    """Orders sequence numbers: decimal ones by value, anything else as text after them."""
    return (len(sequence), sequence) if sequence.isdigit() else (1 << 30, sequence)


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


class Stream(Protocol):
    name: str

    def put(self, partition_key: str, data: bytes, *, dedup_id: str | None = None) -> tuple[str, str]:
        """Append one record; returns (shard_id, sequence). `dedup_id` makes a resend within
        the transport's window harmless where it supports that (SQS FIFO, the local log)."""
