"""The serving loader Lambda: an SQS batch of EventBridge "Object Created" events for
manifests/published/<run_id>.json -> the serving table (DynamoDB), through the same loader the
local queue drains with (glue_jobs/serve/loader.py).

Environment (the stack sets it): TICKERLAKE_LAKE (s3://bucket[/prefix]),
TICKERLAKE_SERVING_TABLE and TICKERLAKE_QUEUE_URL_SERVE (its own queue, where a partition too big
for one invocation goes back as slices: glue_jobs/serve/loader.py). The event source mapping must report partial batch failures
(FunctionResponseTypes: ReportBatchItemFailures): only the failed messages return to the queue
(and after maxReceiveCount receives, to its dead-letter queue); the rest are deleted.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from glue_jobs.lake.errors import ConfigError
from glue_jobs.runtime import lake_kind, open_runtime
from glue_jobs.serve import loader

log = logging.getLogger("tickerlake.serve_loader")

ENV_LAKE = "TICKERLAKE_LAKE"
SERVE_QUEUE = "serve"  # TICKERLAKE_QUEUE_URL_SERVE


def _requeue(runtime: Any) -> Any:
    """Where slices go: the loader's own queue, or nowhere (every partition written here) when
    the runtime has none."""
    if getattr(runtime, "queue_factory", None) is None:
        return None
    try:
        return runtime.queue_factory(SERVE_QUEUE).send
    except ConfigError:
        log.warning("no URL for the loader's own queue: a partition too big for one invocation is written here")
        return None


def _records(event: Mapping[str, Any] | None) -> list[loader.Record]:
    out = []
    for n, r in enumerate((event or {}).get("Records") or []):
        message_id = str(r.get("messageId") or f"record-{n}")
        out.append(loader.Record(message_id, str(r.get("body") or "")))
    return out


def handler(event: Mapping[str, Any] | None, context: Any, *, runtime: Any = None) -> dict:
    """Load every message of the batch; answer the ones that failed as batchItemFailures."""
    logging.getLogger().setLevel(logging.INFO)
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    records = _records(event)
    if runtime is None:
        lake = (os.environ.get(ENV_LAKE) or "").strip()
        if not lake or lake_kind(lake) != "aws":
            # every message fails and returns to the queue: a misconfigured function must not eat them
            log.error("%s is %r: the stack sets it to s3://<lake bucket>", ENV_LAKE, lake)
            return {"batchItemFailures": [{"itemIdentifier": r.message_id} for r in records]}
        try:
            runtime = open_runtime(lake)
            runtime.serving  # noqa: B018 - fail here, for every message, when the table is not configured
        except ConfigError as exc:
            log.error("%s", exc)
            return {"batchItemFailures": [{"itemIdentifier": r.message_id} for r in records]}
    result = loader.load(records, runtime.storage, runtime.serving, _requeue(runtime))
    log.info("serve loader: %d messages, %d loaded, %d not manifests, %d failed; bars written %d, stale %d, "
             "deleted %d, retried %d", len(records), len(result.loaded), len(result.skipped), len(result.failures),
             result.written.written, result.written.stale, result.written.deleted, result.written.retried)
    return {"batchItemFailures": [{"itemIdentifier": mid} for mid in result.failures]}
