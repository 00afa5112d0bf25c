"""The inbox Lambda: an SQS batch of EventBridge "Object Created" events for inbox/<file>.csv ->
the file landed in raw as a drop's ingest run (ingestion/drops/) -> the Glue WAP workflow started,
so the file reaches stocks.daily_prices and the serving table only through the audit.

Per message, in this order, so that every crash point converges and a replay changes nothing:
    1. land the file (once per content: a second drop, or a replay, finds it landed);
    2. start the WAP workflow if the drop's ingest run is not published yet and no workflow run
       was started for it (the drop's marker names the one that was);
    3. delete inbox/<file> (its bytes stay under drops/received/, or rejected/drops/ for a bad file).
A bad file is not a failed message: it is moved to rejected/drops/ with a .reason beside it. A
message fails (and returns to the queue; after maxReceiveCount receives, to the dead-letter
queue, its reason in the log) when it is not an S3 event, when the lake cannot be read or
written, or when the workflow is busy with an earlier run (the drop is landed and pending: the
retry starts the workflow, and any later WAP publishes it anyway).

Environment (the stack sets it): TICKERLAKE_LAKE (s3://bucket), TICKERLAKE_WORKFLOW_NAME.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from glue_jobs.lake import ingest_queue, layout, trading_calendar
from glue_jobs.lake.context import new_run_id
from glue_jobs.lake.errors import ConfigError
from glue_jobs.lake.run_log import RunLog
from glue_jobs.lake.s3_events import MessageError, lake_key, object_keys
from glue_jobs.ports.storage import NotFound
from glue_jobs.runtime import lake_kind, open_runtime
from ingestion.drops.land import REJECTED, DropOutcome, land_drop, record_workflow_start
from workflows import graph
from workflows.entry.lambda_handler import ENV_WORKFLOW, _start_workflow
from workflows.settings import build_settings

log = logging.getLogger("tickerlake.drop_loader")

ENV_LAKE = "TICKERLAKE_LAKE"


class WorkflowBusy(RuntimeError):
    """The WAP workflow is running an earlier run: the message is retried later."""


@dataclass
class BatchResult:
    landed: list[str] = field(default_factory=list)  # inbox keys landed (or already landed) and started
    rejected: list[str] = field(default_factory=list)  # inbox keys moved to rejected/drops/
    ignored: list[str] = field(default_factory=list)  # message ids naming nothing under inbox/
    failures: dict[str, str] = field(default_factory=dict)  # message id -> reason


def handler(event: Mapping[str, Any] | None, context: Any, *, storage: Any = None, glue_client: Any = None,
            env: Mapping[str, str] | None = None) -> dict:
    """Land every inbox file the batch names; answer the failed messages as batchItemFailures."""
    logging.getLogger().setLevel(logging.INFO)
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    env = os.environ if env is None else env
    records = [(str(r.get("messageId") or f"record-{n}"), str(r.get("body") or ""))
               for n, r in enumerate((event or {}).get("Records") or [])]
    try:
        workflow = (env.get(ENV_WORKFLOW) or "").strip()
        if not workflow:
            raise ConfigError(f"{ENV_WORKFLOW} is not set: the stack sets it to the Glue workflow's name")
        if storage is None:
            lake = (env.get(ENV_LAKE) or "").strip()
            if not lake or lake_kind(lake) != "aws":
                raise ConfigError(f"{ENV_LAKE} is {lake!r}: the stack sets it to s3://<lake bucket>")
            storage = open_runtime(lake, env=env).storage
        settings = build_settings(env=dict(env))
    except ConfigError as exc:
        # every message fails and returns to the queue: a misconfigured function must not eat them
        log.error("%s", exc)
        return {"batchItemFailures": [{"itemIdentifier": mid} for mid, _ in records]}
    result = load_batch(records, storage, workflow=workflow, audit=dict(settings.audit), glue_client=glue_client)
    log.info("drop loader: %d messages, %d files landed, %d rejected, %d not inbox files, %d failed",
             len(records), len(result.landed), len(result.rejected), len(result.ignored), len(result.failures))
    return {"batchItemFailures": [{"itemIdentifier": mid} for mid in result.failures]}


def load_batch(records: list[tuple[str, str]], storage: Any, *, workflow: str, audit: dict, glue_client: Any) -> BatchResult:
    result = BatchResult()
    for message_id, body in records:
        try:
            keys = [lake_key(storage, bucket, key) for bucket, key in object_keys(body)]
            inbox = [k for k in keys if k.startswith(layout.INBOX_PREFIX) and not k.endswith("/")]
            if not inbox:
                result.ignored.append(message_id)
                continue
            for key in inbox:
                outcome = _load_one(storage, key, workflow=workflow, audit=audit, glue_client=glue_client)
                if outcome is not None:
                    (result.rejected if outcome.status == REJECTED else result.landed).append(key)
        except (MessageError, WorkflowBusy) as exc:
            log.error("message %s: %s", message_id, exc)
            result.failures[message_id] = str(exc)
        except Exception as exc:  # the lake or Glue failed: retried, then dead-lettered with this reason
            log.exception("message %s failed: %s", message_id, exc)
            result.failures[message_id] = f"{type(exc).__name__}: {exc}"
    return result


def _load_one(storage: Any, key: str, *, workflow: str, audit: dict, glue_client: Any) -> DropOutcome | None:
    try:
        data = storage.get_bytes(key)
    except NotFound:
        log.info("%s is gone: an earlier delivery of this event handled it", key)
        return None
    name = key[len(layout.INBOX_PREFIX):]
    as_of = trading_calendar.latest_completed_session()
    outcome = land_drop(storage, data, name.rsplit("/", 1)[-1], as_of=as_of)
    if outcome.status == REJECTED:
        log.warning("%s rejected, kept at %s with its reason %s: %s", key, outcome.rejected_key,
                    outcome.reason_key, "; ".join(outcome.problems[:5]))
    elif outcome.run_id not in ingest_queue.published_run_ids(storage):
        if outcome.workflow_run_id:
            log.info("%s: the same content is landed as ingest run %s, which workflow run %s publishes: "
                     "nothing to start", key, outcome.run_id, outcome.workflow_run_id)
            storage.delete([key])
            return outcome
        # the drop's own run id, unless a run of that id has a log already (a CLI `load` on this
        # bucket that stopped before publishing): a workflow run must not overwrite another's log
        fresh = not storage.exists(layout.run_log_key(outcome.run_id))
        run_id = outcome.run_id if fresh else new_run_id()
        started = _start_workflow(workflow, run_id, as_of, glue_client, audit)
        if started is None:
            raise WorkflowBusy(f"{key} is landed as ingest run {outcome.run_id}, but workflow {workflow} is busy "
                               "with an earlier run: retried when the message returns")
        record_workflow_start(storage, outcome.sha256, started)
        # after the start, so a busy workflow leaves no run log claiming to run; the Glue jobs'
        # first stage comes minutes later (the crawler) and continues this log
        _open_run_log(storage, run_id, as_of.isoformat(), outcome)
        log.info("%s: %d rows landed as ingest run %s; workflow run %s started", key, outcome.rows,
                 outcome.run_id, started)
    else:
        log.info("%s: already landed and published as ingest run %s: nothing changed", key, outcome.run_id)
    storage.delete([key])
    return outcome


def _open_run_log(storage: Any, run_id: str, as_of: str, outcome: DropOutcome) -> None:
    """The run log the Glue jobs continue (as the ingestion Lambda opens one): its ingest stage is the drop."""
    run_log = RunLog.start(storage, run_id=run_id, as_of=as_of, stages=[s.name for s in graph.STAGES],
                           settings={"runtime": "aws", "source": "drop", "symbols": sorted(outcome.symbols)})
    run_log.stage_started("ingest")
    run_log.stage_finished("ingest", {"raw_rows": outcome.rows, "symbols_fetched": len(outcome.symbols),
                                      "status": "ok", "manifest_key": outcome.manifest_key,
                                      "drop": outcome.name, "drop_sha256": outcome.sha256})
    run_log.save()
