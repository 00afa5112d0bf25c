"""The scheduled history compactor Lambda (python3.12), on the SQS FIFO transport: EventBridge
invokes it at 21:30 UTC on weekdays, after the NYSE close in winter (21:00 UTC) and summer
time (20:00 UTC) alike. It runs what `tickerlake stream compact --lake s3://...` runs
(workflows/history_compaction.py): each history day that is over (GRACE after its session's
close, early closes and holidays checked in code) and that the consumer has finished (the
quote queue drained) becomes one Parquet file per message group, the day's Glue partition is
switched to them, and the batch files are deleted. Every step can be re-run: an invocation
that stopped part-way (a timeout, a crash) is finished by the next one or by the retry.

It fails (its errors alarm) when a day could not be compacted or when the queue still holds
messages: a consumer that has not drained the queue half an hour after the close is stuck.

By hand: `aws lambda invoke --function-name <stack>-history-compactor out.json` (every day that
is over), or with the payload `{"day": "YYYY-MM-DD"}` (only that day).

Environment (the stack sets it): TICKERLAKE_LAKE (s3://bucket), TICKERLAKE_STREAM_QUEUE_URL."""
from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from glue_jobs.lake.errors import ConfigError
from glue_jobs.runtime import lake_kind, open_runtime
from workflows.history_compaction import compact_history

log = logging.getLogger("tickerlake.history_compactor")

ENV_LAKE = "TICKERLAKE_LAKE"
ENV_QUEUE_URL = "TICKERLAKE_STREAM_QUEUE_URL"


class CompactionFailed(RuntimeError):
    """Days that are over were left uncompacted (the function's errors alarm)."""


def _runtime(env: Mapping[str, str]) -> Any:
    lake = (env.get(ENV_LAKE) or "").strip()
    if not lake or lake_kind(lake) != "aws":
        raise ConfigError(f"{ENV_LAKE} is {lake!r}: the stack sets it to s3://<lake bucket>")
    if not (env.get(ENV_QUEUE_URL) or "").strip():
        raise ConfigError(f"{ENV_QUEUE_URL} is not set: the stack sets it to the quote queue (SQS FIFO transport)")
    return open_runtime(lake, env=env)


def handler(event: Mapping[str, Any] | None, context: Any, *, runtime: Any = None,
            env: Mapping[str, str] | None = None, clock: Any = time.time) -> dict:
    logging.getLogger().setLevel(logging.INFO)
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    env = os.environ if env is None else env
    day = (event or {}).get("day")
    now = dt.datetime.fromtimestamp(clock(), dt.timezone.utc)
    try:
        if runtime is None:
            runtime = _runtime(env)
        run = compact_history(runtime, now=now, day=None if day is None else str(day),
                              say=lambda line: log.info("history compactor: %s", line))
    except ConfigError as exc:
        log.error("history compactor: %s", exc)
        raise
    summary = {
        "days": [r.day for r in run.days if r.state == "compacted"],
        "files_in": sum(r.files_merged for r in run.days),
        "rows": sum(r.rows for r in run.days),
        "files_out": sum(r.files_written for r in run.days),
        "leftovers_deleted": sum(r.leftovers_deleted for r in run.days),
        "failed": sorted(run.failed),
    }
    log.info("history compactor: %d day(s) compacted %s: %d files in, %d rows, %d files out",
             len(summary["days"]), summary["days"], summary["files_in"], summary["rows"], summary["files_out"])
    problem = None
    if run.failed:
        problem = ("could not compact " + "; ".join(f"dt={d}: {e}" for d, e in sorted(run.failed.items()))
                   + " (a rerun finishes them)")
    elif run.waiting:
        problem = f"nothing compacted: {run.waiting} (is the consumer failing? see its alarms)"
    if problem:
        log.error("history compactor: %s", problem)
        raise CompactionFailed(problem)
    return summary
