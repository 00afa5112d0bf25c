"""Drains a local stream log (the real SQLite adapter) into a local lake in a process of its own, so a failpoint can kill
it: `python -m tests.glue_jobs.intraday.drain_script LAKE LOG BATCH`. Prints the result as JSON."""
from __future__ import annotations

import json
import os
import sys

from glue_jobs.adapters.local.stream_sqlite import SqliteStream
from glue_jobs.intraday import Consumer
from glue_jobs.runtime import open_runtime
from tests.glue_jobs.intraday.quotes import NOW, OPEN_MS
from workflows.intraday import open_processor


def main(lake: str, log_path: str, batch: str) -> None:
    runtime = open_runtime(lake, create=True)
    failures = runtime.queue_factory("intraday-failures")
    processor = open_processor(runtime, env=os.environ, clock=lambda: NOW)
    # the log's clock is the records' arrival (a minute into the session), so retention keeps them
    log = SqliteStream(log_path, clock=lambda: OPEN_MS / 1000 + 60)
    consumer = Consumer(log, processor, failures, batch=int(batch))
    print(json.dumps(consumer.drain().to_dict()))


if __name__ == "__main__":
    main(*sys.argv[1:4])
