"""The fan-out worker Lambda: an SQS batch of symbol tasks from the ingestion queue, each fetched
under the key's shared token bucket (DynamoDB) and landed in the lake, through the same worker the
local threads run (ingestion/fanout/worker.py). After each message it checks whether the day is
drained; the one worker that claims the run starts the Glue WAP workflow.

The event source mapping reports partial batch failures (ReportBatchItemFailures): a message the
worker delayed (a limit answer, a transient error, a token that would come too late) is reported
failed so it stays on the queue, visible again when the worker said; the rest the worker deleted.
A worker never sleeps past its timeout: it gives back what it cannot finish in the time it has.

A scheduled {"drain_check": true} event (the stack runs one every few minutes) makes the same
drain check for the newest planned day without a message, so a run whose last worker saw an
approximate queue depth above zero still starts, and a run whose WAP start failed (Glue refused
it, or the workflow was still busy with an earlier run) or whose claimer timed out is finished
again (ingestion/fanout/drain.py).

Environment: TICKERLAKE_LAKE, TICKERLAKE_SOURCE, TICKERLAKE_QUEUE_URL_INGEST(_DLQ),
TICKERLAKE_TOKEN_BUCKET_TABLE, TICKERLAKE_WORKFLOW_NAME, the key's limits and its secret's id.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from glue_jobs.lake.errors import ConfigError, LockHeld
from glue_jobs.ports.queue import Message
from glue_jobs.runtime import lake_kind, open_runtime
from ingestion.fanout import records
from ingestion.fanout.drain import Finished, finish_if_drained
from ingestion.fanout.retry_plan import accepts_wait
from ingestion.fanout.worker import DEFAULT_FETCH_BUDGET_S, Worker, handle
from ingestion.sources import build_source
from workflows import graph
from workflows.entry.lambda_handler import (
    ENV_WORKFLOW,
    DeadlineNear,
    _quiet_http_loggers,
    _remaining_seconds,
    _start_workflow,
    deadline_sleep,
)
from workflows.fanout import INGEST_QUEUE, key_limits
from workflows.settings import build_settings

log = logging.getLogger("tickerlake.fanout_worker")


class WorkflowBusy(RuntimeError):
    """The WAP workflow runs an earlier run: the drained run's claim is given back for a later check."""


def _messages(event: Mapping[str, Any]) -> list[Message]:
    out = []
    for n, r in enumerate(event.get("Records") or []):
        count = int((r.get("attributes") or {}).get("ApproximateReceiveCount") or 1)
        out.append(Message(str(r.get("messageId") or f"record-{n}"), str(r.get("body") or ""),
                           str(r.get("receiptHandle") or ""), count))
    return out


def handler(event: Mapping[str, Any] | None, context: Any, *, glue_client: Any = None, runtime: Any = None) -> dict:
    _quiet_http_loggers()
    for name in ("tickerlake", "ingestion", "glue_jobs"):
        logging.getLogger(name).setLevel(logging.INFO)
    event = event or {}
    messages = _messages(event)
    env = os.environ
    try:
        workflow = (env.get(ENV_WORKFLOW) or "").strip()
        if not workflow:
            raise ConfigError(f"{ENV_WORKFLOW} is not set: the stack sets it to the Glue workflow's name")
        settings = build_settings(env=env)
        if runtime is None:
            if lake_kind(settings.lake) != "aws":
                raise ConfigError(f"TICKERLAKE_LAKE {settings.lake!r} is not an s3:// URI")
            runtime = open_runtime(settings.lake, env=env)
        queue, dead_letters = runtime.queue_factory(INGEST_QUEUE), runtime.queue_factory(f"{INGEST_QUEUE}-dlq")
        bucket = runtime.token_bucket(settings.source, key_limits(settings))
    except ConfigError as exc:
        # every message fails and stays on the queue: a misconfigured function must not eat them
        log.error("%s", exc)
        return {"batchItemFailures": [{"itemIdentifier": m.message_id} for m in messages]}
    remaining = _remaining_seconds(context)
    sleep = deadline_sleep(remaining)
    source = build_source(settings.source, env=env, sleep=sleep)
    worker = Worker(runtime.storage, queue, dead_letters, bucket, source_for=lambda name: source,
                    remaining_s=remaining)
    stages = [s.name for s in graph.STAGES]

    def start_wap(finished: Finished) -> None:
        for problem in finished.problems[:50]:
            log.warning("%s", problem)
        started = _start_workflow(workflow, finished.run_id, finished.as_of, glue_client, dict(settings.audit))
        if started is None:
            raise WorkflowBusy(f"workflow {workflow} is still running an earlier run: fan-out run "
                               f"{finished.run_id} is started by a later drain check")
        log.info("fan-out run %s: workflow %s run %s started", finished.run_id, workflow, started)

    def drain_check(run_id: str) -> None:
        state = bucket.state()
        finish_if_drained(runtime.storage, queue, run_id, start_wap=start_wap,
                          calls_by_day={state.day: state.used} if state.day else {}, stages=stages,
                          settings={"runtime": "aws", "source": settings.source})

    failures: list[str] = []
    run_ids: set[str] = set()
    for n, message in enumerate(messages):
        if not accepts_wait(0.0, remaining(), DEFAULT_FETCH_BUDGET_S):
            # not enough time left for one more fetch: the rest of the batch goes back now
            for rest in messages[n:]:
                _give_back(queue, rest)
                failures.append(rest.message_id)
            break
        try:
            handled = handle(worker, message)
        except DeadlineNear as exc:  # a retry's back-off inside the client would outlast the invocation
            log.warning("%s", exc)
            for rest in messages[n:]:
                _give_back(queue, rest)
                failures.append(rest.message_id)
            break
        if handled.failed_for_the_queue:
            failures.append(message.message_id)
        run_id = _run_of(message.body)
        if run_id:
            run_ids.add(run_id)
    if event.get("drain_check"):
        run_ids.update(_runs_to_check(runtime.storage))
    not_started: list[Exception] = []
    for run_id in sorted(run_ids):
        try:
            drain_check(run_id)
        except (WorkflowBusy, LockHeld) as exc:  # waiting, not failing: a later check finishes the run
            log.warning("fan-out run %s: %s", run_id, exc)
        except LookupError as exc:  # a day marker without its plan: the planner's retry writes it
            log.warning("%s", exc)
        except Exception as exc:
            # the claim was given back, so the next check finishes the run
            log.error("fan-out run %s: drained, but the WAP did not start (%s); the next drain check "
                      "starts it", run_id, exc)
            not_started.append(exc)
    if not_started and not messages:
        # the scheduled check fails visibly (the function's Errors alarm); a batch of symbol
        # messages does not, or its handled messages would come back for nothing
        raise not_started[0]
    log.info("fan-out worker: %d messages, %d back on the queue", len(messages), len(failures))
    return {"batchItemFailures": [{"itemIdentifier": mid} for mid in failures]}


def _give_back(queue: Any, message: Message) -> None:
    try:
        queue.change_visibility(message.receipt_handle, 1)
    except Exception as exc:  # it comes back after the visibility timeout anyway
        log.warning("could not give back message %s: %s", message.message_id, exc)


def _run_of(body: str) -> str | None:
    from ingestion.fanout.messages import BadMessage, decode

    try:
        return decode(body).run_id
    except BadMessage:
        return None


# The scheduled check looks this many planned days back for a run not yet handed to the WAP (its
# start failed, or its claimer died, and a later day was planned before a check finished it).
DAYS_CHECKED = 7


def _runs_to_check(storage: Any, days: int = DAYS_CHECKED) -> list[str]:
    """The runs of the newest `days` planned days that were not handed to the WAP, oldest first."""
    keys = sorted(storage.list_keys(f"{records.PREFIX}days/"))
    dates = sorted({k[len(f"{records.PREFIX}days/ingest_date="):][:10] for k in keys})[-days:]
    runs = [r for day in dates for r in records.day_runs(storage, day) if r]
    return [r for r in runs if not storage.exists(records.started_key(r))]
