"""The local consumer's loop over a stream (`tickerlake stream consume` and `replay`): read each
shard from this consumer's checkpoint, hand the records to the processor, checkpoint what it
finished. A record the processor keeps failing (a poison record) is retried `max_attempts`
times, then put on the failure queue with its reason and skipped, so its shard goes on: the
local form of the event source mapping's MaximumRetryAttempts and OnFailure destination.

The stream is the Stream port's reading half (glue_jobs/ports/stream.py; the local SQLite log;
Kinesis and SQS are consumed by the Lambda's event source mapping instead)."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from glue_jobs.intraday.processor import BatchResult, Processor
from glue_jobs.lake import failpoints
from glue_jobs.ports.stream import StreamRecord

CONSUMER = "processor"
BATCH = 1000
# --follow's wait after a read that found nothing: a quote waits up to it before it is
# served, and an idle read of a local log costs a query per shard
POLL_SECONDS = 0.05


class ReadableStream(Protocol):
    def shards(self) -> list[str]: ...

    def read(self, shard: str, after: str | None, limit: int) -> list[StreamRecord]: ...

    def checkpoint(self, consumer: str, shard_id: str, sequence: str) -> None: ...

    def checkpoint_of(self, consumer: str, shard_id: str) -> str | None: ...


class FailureQueue(Protocol):
    def send(self, body: str) -> str: ...


@dataclass
class ConsumeResult:
    batches: int = 0
    records: int = 0
    accepted: int = 0
    rejected: int = 0
    history_rows: int = 0
    written: int = 0
    stale: int = 0
    alerts_sent: int = 0
    given_up: int = 0  # poison records sent to the failure queue
    errors: list[str] = field(default_factory=list)

    def add(self, batch: BatchResult, records: int) -> None:
        self.batches += 1
        self.records += records
        for name in ("accepted", "rejected", "history_rows", "written", "stale", "alerts_sent"):
            setattr(self, name, getattr(self, name) + getattr(batch, name))

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def failure_body(record: StreamRecord, error: str, attempts: int) -> str:
    """What the failure queue keeps of a record given up on: where it is, and the record itself
    (Kinesis' OnFailure destination gets only the where; the local log can afford the what)."""
    return json.dumps({"shard_id": record.shard_id, "sequence": record.sequence,
                       "partition_key": record.partition_key, "arrival_ms": record.arrival_ms,
                       "error": error, "attempts": attempts,
                       "data": record.data.decode("utf-8", errors="backslashreplace")}, sort_keys=True)


@dataclass
class Consumer:
    stream: ReadableStream
    processor: Processor
    failures: FailureQueue
    consumer: str = CONSUMER
    batch: int = BATCH
    max_attempts: int = 3
    say: Callable[[str], None] = lambda line: None
    _attempts: dict[tuple[str, str], int] = field(default_factory=dict)

    def drain(self, *, checkpoint: bool = True, after: dict[str, str | None] | None = None,
              since_ms: int | None = None) -> ConsumeResult:
        """Process every shard until the stream holds nothing newer. With `checkpoint` False
        (replay) the consumer's checkpoints stay where they are; `after` starts each shard
        after that sequence (None: the beginning) and `since_ms` skips records that arrived
        before it."""
        total = ConsumeResult()
        for shard in self.stream.shards():
            start = after.get(shard) if after is not None else self.stream.checkpoint_of(self.consumer, shard)
            self._shard(shard, start, total, checkpoint=checkpoint, since_ms=since_ms)
        return total

    def follow(self, *, poll_seconds: float = POLL_SECONDS, stop: Callable[[], bool] = lambda: False,
               sleep: Callable[[float], None] = time.sleep) -> ConsumeResult:
        """Drain, wait, drain again until `stop()` (Ctrl-C for the CLI)."""
        total = ConsumeResult()
        while not stop():
            result = self.drain()
            for name, value in result.to_dict().items():
                if name == "errors":
                    total.errors.extend(value)
                else:
                    setattr(total, name, getattr(total, name) + value)
            if not result.records:
                sleep(poll_seconds)
        return total

    def _shard(self, shard: str, start: str | None, total: ConsumeResult, *, checkpoint: bool,
               since_ms: int | None) -> None:
        position = start
        while True:
            records = self.stream.read(shard, position, self.batch)
            if not records:
                return
            todo = [r for r in records if since_ms is None or r.arrival_ms >= since_ms]
            result = self.processor.handle(todo) if todo else BatchResult()
            total.add(result, result.processed)
            if result.failed is None:
                reached: str | None = records[-1].sequence
            else:
                done = result.processed + (1 if self._failed(result, total) else 0)
                reached = todo[done - 1].sequence if done else None
            if reached is None:
                continue  # nothing finished: the failing record is tried again (until given up on)
            position = reached
            if checkpoint:
                failpoints.hit("intraday.before_checkpoint", f"{shard} {position}")
                self.stream.checkpoint(self.consumer, shard, position)

    def _failed(self, result: BatchResult, total: ConsumeResult) -> bool:
        """Count an attempt at the failing record; True once it is given up on (sent to the queue)."""
        record = result.failed
        assert record is not None
        key = (record.shard_id, record.sequence)
        self._attempts[key] = self._attempts.get(key, 0) + 1
        total.errors.append(f"shard {record.shard_id} record {record.sequence}: {result.error}")
        if self._attempts[key] < self.max_attempts:
            return False
        self.failures.send(failure_body(record, result.error or "", self._attempts[key]))
        del self._attempts[key]
        total.given_up += 1
        self.say(f"stream: gave up on record {record.sequence} of shard {record.shard_id} after "
                 f"{self.max_attempts} attempts ({result.error}); it is on the failure queue")
        return True
