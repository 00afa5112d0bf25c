"""The intraday consumer Lambda: Kinesis or SQS FIFO events -> the intraday processor
(glue_jobs/intraday), the same handler `tickerlake stream consume` runs locally.

Environment (the stack sets it): TICKERLAKE_LAKE (s3://bucket[/prefix], where the alerts'
sent markers and rejected quotes go), TICKERLAKE_QUOTES_TABLE, TICKERLAKE_TOPIC_ARN. The
history (stream/quotes/dt=.../, stocks.intraday_quotes): Firehose delivers a Kinesis stream's;
an SQS FIFO queue's, which Firehose cannot read, is written here, as the local consumer writes
it (files named by message group and SequenceNumber range, so a redelivered message adds no
row: glue_jobs/intraday/history.py).

The event source mapping reports partial batch failures (ReportBatchItemFailures):
- Kinesis: a batch is one shard's records in order; the first failing record's sequence number
  is the item failure, so the batch is retried from there (bisected, retried at most
  MaximumRetryAttempts times, then its position goes to the OnFailure queue) and no later
  record of the shard overtakes it;
- SQS FIFO: a batch may hold several message groups (symbols); processing stops at the first
  failing message and it and every message after it in the batch are item failures, as AWS
  asks of FIFO consumers, so no group's order is broken."""
from __future__ import annotations

import base64
import logging
import os
from collections.abc import Mapping
from typing import Any

from glue_jobs.lake.errors import ConfigError
from glue_jobs.ports.stream import StreamRecord
from glue_jobs.runtime import lake_kind, open_runtime
from workflows.intraday import open_processor

log = logging.getLogger("tickerlake.stream_consumer")

ENV_LAKE = "TICKERLAKE_LAKE"
_processor: Any = None  # opened once per container; its symbol state is reloaded every invocation


def kinesis_record(r: Mapping[str, Any]) -> tuple[str, StreamRecord]:
    """(item identifier, record) of a Kinesis event record; the shard is the eventID's prefix."""
    k = r["kinesis"]
    shard = str(r.get("eventID") or "shard:").split(":", 1)[0]
    arrival = int(float(k.get("approximateArrivalTimestamp") or 0) * 1000)
    record = StreamRecord(shard, str(k["sequenceNumber"]), str(k["partitionKey"]), base64.b64decode(k["data"]), arrival)
    return record.sequence, record


def sqs_record(r: Mapping[str, Any]) -> tuple[str, StreamRecord]:
    """(item identifier, record) of an SQS FIFO message: the message group is the shard."""
    attributes = r.get("attributes") or {}
    group = str(attributes.get("MessageGroupId") or "")
    record = StreamRecord(group, str(attributes.get("SequenceNumber") or r["messageId"]), group,
                          str(r.get("body") or "").encode(), int(attributes.get("SentTimestamp") or 0))
    return str(r["messageId"]), record


def parse(event: Mapping[str, Any] | None) -> tuple[str, list[tuple[str, StreamRecord]]]:
    records = (event or {}).get("Records") or []
    if not records:
        return "none", []
    source = str(records[0].get("eventSource") or records[0].get("EventSource") or "")
    if source == "aws:kinesis":
        return "kinesis", [kinesis_record(r) for r in records]
    if source == "aws:sqs":
        return "sqs", [sqs_record(r) for r in records]
    raise ValueError(f"not a Kinesis or SQS event (eventSource {source!r})")


def _runs(items: list[tuple[str, StreamRecord]]) -> list[list[tuple[str, StreamRecord]]]:
    """Consecutive records of one shard: the processor takes one shard's records at a time."""
    runs: list[list[tuple[str, StreamRecord]]] = []
    for item in items:
        if runs and runs[-1][-1][1].shard_id == item[1].shard_id:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def process(items: list[tuple[str, StreamRecord]], processor: Any) -> list[str]:
    """The item identifiers to report as failed: from the first record not done to the end."""
    position = 0
    for run in _runs(items):
        result = processor.handle([record for _, record in run])
        log.info("stream consumer: shard %s, %d records: %s", run[0][1].shard_id, len(run), result.to_dict())
        if result.failed is not None:
            log.error("record %s of shard %s failed: %s", result.failed.sequence, result.failed.shard_id,
                      result.error)
            first = position + result.processed
            return [identifier for identifier, _ in items[first:]]
        position += len(run)
    return []


def handler(event: Mapping[str, Any] | None, context: Any, *, processor: Any = None) -> dict:
    """Process the batch; answer what failed as batchItemFailures (Kinesis: the first failing
    record only; SQS FIFO: the failing message and all after it)."""
    global _processor
    logging.getLogger().setLevel(logging.INFO)
    kind, items = parse(event)
    if not items:
        return {"batchItemFailures": []}
    if processor is None:
        try:
            if _processor is None:
                lake = (os.environ.get(ENV_LAKE) or "").strip()
                if not lake or lake_kind(lake) != "aws":
                    raise ConfigError(f"{ENV_LAKE} is {lake!r}: the stack sets it to s3://<lake bucket>")
                _processor = open_processor(open_runtime(lake), env=os.environ, history=kind == "sqs")
            processor = _processor
        except ConfigError as exc:
            # every record fails and is retried: a misconfigured function must not drop them
            log.error("%s", exc)
            return {"batchItemFailures": [{"itemIdentifier": i} for i, _ in (items[:1] if kind == "kinesis" else items)]}
    processor._state.clear()  # another container may have moved these symbols on since
    failed = process(items, processor)
    if kind == "kinesis":
        failed = failed[:1]  # Kinesis retries from the first one reported
    return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}
