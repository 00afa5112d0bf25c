"""The ingestion Lambda: the `ingest` stage on AWS, then the start of the Glue WAP workflow.

Configuration comes from the environment the stack sets (TICKERLAKE_LAKE, TICKERLAKE_SYMBOLS,
TICKERLAKE_CALLS_PER_MINUTE, TICKERLAKE_CALLS_PER_DAY, TICKERLAKE_WORKFLOW_NAME and
ALPHAVANTAGE_SECRET_ID: the secret's id, never the key). The key is read from Secrets Manager
on the first invocation of a container and cached. An event may override the day for a
re-run by hand: {"as_of": "2026-11-20", "symbols": "AAPL,MSFT", "start": "2026-01-02"}.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Mapping
from typing import Any, Callable

from glue_jobs.lake import lake_record, trading_calendar
from glue_jobs.lake.context import new_run_id
from glue_jobs.lake.errors import ConfigError, NothingFetched
from glue_jobs.lake.ingest_queue import pending_ingest_runs
from glue_jobs.lake.lock import LakeLock
from glue_jobs.lake.run_log import RunLog
from glue_jobs.runtime import lake_kind, open_runtime
from ingestion.alphavantage import constants as av_constants
from ingestion.alphavantage.api_key import resolve_api_key
from ingestion.fanout.planner import plan_day
from ingestion.run_ingest import STATUS_NOTHING, ingest
from ingestion.sources import build_planner, build_source
from workflows import graph
from workflows.settings import build_settings

log = logging.getLogger("tickerlake.lambda")

ENV_WORKFLOW = "TICKERLAKE_WORKFLOW_NAME"
ENV_INGEST_MODE = "TICKERLAKE_INGEST_MODE"  # single (this function fetches) or fan-out (it plans)
# Stop starting calls this long before the Lambda's own timeout, so the manifest and the
# state (what is carried to the next run) are always written.
DEADLINE_MARGIN_S = 60.0


class ApiKeyNotSet(ConfigError):
    """The stack's API-key secret exists but holds no key yet: the stack creates it empty, and
    the weekday schedule is already on. Every run fails with this one line (the errors alarm
    notifies the alerts topic) until someone puts the key."""


class DeadlineNear(RuntimeError):
    """The invocation is about to time out: ingest records what it has and carries the rest,
    and the invocation fails so that Lambda's retry picks up the carried symbols."""


def _quiet_http_loggers() -> None:
    # urllib3 logs request URLs at DEBUG, and an Alpha Vantage URL holds the key.
    for name in ("urllib3", "botocore", "boto3", "requests"):
        logging.getLogger(name).setLevel(logging.WARNING)


def deadline_sleep(remaining_s: Callable[[], float], sleep: Callable[[float], None] = time.sleep):
    """A sleep that refuses to wait past the invocation's deadline (less the margin)."""

    def guarded(seconds: float) -> None:
        if remaining_s() - seconds < DEADLINE_MARGIN_S:
            raise DeadlineNear(
                f"waiting {seconds:.0f} s more would run into the Lambda timeout "
                f"({remaining_s():.0f} s left); the remaining symbols are carried to the next run"
            )
        sleep(seconds)

    return guarded


def _event_value(event: Mapping[str, Any], name: str) -> str | None:
    value = event.get(name)
    return str(value) if value not in (None, "") else None


def handler(event: Mapping[str, Any] | None, context: Any, *, glue_client: Any = None) -> dict:
    """Ingest the configured symbols into the lake, then start the WAP workflow for this run.
    Returns a summary (the Lambda's result); raises NothingFetched when there is nothing at all
    to publish (nothing fetched and no earlier ingest run waiting), so the invocation fails and
    the errors alarm notifies."""
    _quiet_http_loggers()
    for name in ("tickerlake", "ingestion", "glue_jobs"):
        logging.getLogger(name).setLevel(logging.INFO)
    event = event or {}
    env = os.environ
    workflow = (env.get(ENV_WORKFLOW) or "").strip()
    if not workflow:
        raise ConfigError(f"{ENV_WORKFLOW} is not set: the stack sets it to the Glue workflow's name")
    as_of_override = _event_value(event, "as_of")
    if as_of_override is None and not trading_calendar.is_session(_new_york_today()):
        log.info("no NYSE session today (%s): nothing to ingest", _new_york_today())
        return {"status": "no_session", "day": _new_york_today().isoformat()}

    settings = build_settings(
        date=as_of_override,
        symbols=_event_value(event, "symbols"),
        start=_event_value(event, "start"),
        env=env,
    )
    if lake_kind(settings.lake) != "aws":
        raise ConfigError(f"TICKERLAKE_LAKE {settings.lake!r} is not an s3:// URI")
    if settings.source == "alphavantage":
        _require_api_key(env)  # before anything is written: an empty secret leaves the lake as it was
    runtime = open_runtime(settings.lake, env=env)
    storage = runtime.storage
    run_id = new_run_id()
    # the lake's source (lake.json): a function configured with another one stops here, before a call
    current = lake_record.read_source(storage)
    lake_record.check_source(current, settings.source, switch=False, where=storage.root)
    if current.origin != "record":
        lake_record.write_source(storage, settings.source, run_id=run_id, previous=current.source)
    mode = (env.get(ENV_INGEST_MODE) or "single").strip()
    if mode == "fan-out":
        # the planner only: the worker Lambda fetches (workflows/entry/fanout_worker.py) and the
        # worker that finds the day drained starts the workflow
        plan, sent = plan_day(storage, runtime.queue_factory("ingest"), run_id=run_id, as_of=settings.as_of,
                              source=settings.source, symbols=settings.symbols, start=settings.start)
        log.info("fan-out run %s: %d symbols planned, %d enqueued", plan.run_id, len(plan.symbols), sent)
        return {"status": "planned", "run_id": plan.run_id, "as_of": plan.as_of.isoformat(),
                "symbols": len(plan.symbols), "carried": len(plan.carried), "enqueued": sent}
    if mode != "single":
        raise ConfigError(f"{ENV_INGEST_MODE} is {mode!r}: the stack sets single or fan-out")
    remaining = _remaining_seconds(context)
    sleep = deadline_sleep(remaining)
    source = build_source(settings.source, env=env, sleep=sleep)
    planner = build_planner(
        settings.source, env=env, calls_per_minute=settings.calls_per_minute, calls_per_day=settings.calls_per_day
    )
    log.info("ingest %s: %d symbols as of %s into %s", run_id, len(settings.symbols), settings.as_of, storage.root)
    run_log = RunLog.start(
        storage,
        run_id=run_id,
        as_of=settings.as_of.isoformat(),
        stages=[s.name for s in graph.STAGES],
        settings={"runtime": "aws", "source": settings.source, "symbols": list(settings.symbols),
                  "calls_per_minute": settings.calls_per_minute, "calls_per_day": settings.calls_per_day,
                  **settings.audit},
    )
    run_log.stage_started("ingest")
    try:
        with LakeLock(storage, run_id):
            # A DeadlineNear raised here has been recorded by ingest (manifest "aborted", the rest
            # carried); it fails the invocation, and Lambda's retry resumes with the carried symbols.
            result = ingest(
                storage,
                run_id=run_id,
                as_of=settings.as_of,
                symbols=settings.symbols,
                source=source,
                planner=planner,
                sleep=sleep,
                start=settings.start,
            )
        summary: dict[str, Any] = {
            "run_id": run_id,
            "as_of": settings.as_of.isoformat(),
            "lake": storage.root,
            "status": result.status,
            "counts": result.counts,
            "manifest_key": result.manifest_key,
            "carried": list(result.carried),
            "problems": list(result.problems)[:20],
            # ingest runs (this one included) whose data no WAP has published yet
            "pending_runs": sum(1 for r in pending_ingest_runs(storage) if r.fetches),
        }
        for problem in summary["problems"]:
            log.warning("%s", problem)
        if result.status == STATUS_NOTHING and not summary["pending_runs"]:
            raise NothingFetched(
                "nothing usable was fetched, so there is nothing to publish:\n"
                + "\n".join(f"  - {p}" for p in summary["problems"])
            )
    except Exception as exc:
        run_log.stage_failed("ingest", exc)
        run_log.finish()
        run_log.save()
        raise
    run_log.stage_finished("ingest", {**result.counts, "status": result.status, "manifest_key": result.manifest_key,
                                      "problems": list(result.problems), "carried": list(result.carried),
                                      "pending_runs": summary["pending_runs"]})
    run_log.save()
    summary["workflow_run_id"] = _start_workflow(workflow, run_id, settings.as_of, glue_client,
                                                 dict(settings.audit))
    log.info("ingest %s done: %s", run_id, {k: v for k, v in summary.items() if k != "problems"})
    return summary


def _require_api_key(env: Mapping[str, str], *, secrets_client: Any = None) -> None:
    """Read the key now (it is cached for the source) so that the stack's empty secret fails the
    run with one line naming the secret and the command that fills it, never the key itself."""
    secret_id = (env.get(av_constants.ENV_SECRET_ID) or "").strip()
    try:
        resolve_api_key(env, secrets_client=secrets_client)
    except ConfigError as exc:
        text = str(exc)
        # GetSecretValue on a secret that has no version yet answers ResourceNotFoundException
        # "...can't find the specified secret value for staging label: AWSCURRENT"; a value put
        # as an empty or blank string reads as no SecretString / empty.
        no_value = ("staging label" in text or "AWSCURRENT" in text or "has no SecretString" in text
                    or "is empty" in text)
        if not (secret_id and no_value):
            raise
        raise ApiKeyNotSet(
            f"the Alpha Vantage API key is not set: secret {secret_id} ({av_constants.ENV_SECRET_ID}) has no "
            f"value yet (the stack creates it empty). Put your key in it with: aws secretsmanager "
            f"put-secret-value --secret-id {secret_id} --secret-string YOUR_ALPHAVANTAGE_KEY "
            "-- nothing was fetched or written; the next scheduled run picks the key up"
        ) from None


def _start_workflow(workflow: str, run_id: str, as_of: dt.date, glue_client: Any,
                    stage_settings: dict[str, str]) -> str | None:
    """Start the WAP with this run's identity and the settings its jobs read (the audit's
    TICKERLAKE_AUDIT_* thresholds, set on this function), as the workflow run's properties.
    A workflow still busy with an earlier run is not an error: this ingest run stays pending
    and the next WAP publishes it."""
    if glue_client is None:
        import boto3

        glue_client = boto3.client("glue")
    try:
        response = glue_client.start_workflow_run(
            Name=workflow, RunProperties={**stage_settings, "run_id": run_id, "as_of": as_of.isoformat()}
        )
    except Exception as exc:
        code = str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))
        if code == "ConcurrentRunsExceededException":
            log.warning("workflow %s is still running an earlier run; run %s waits for the next one", workflow, run_id)
            return None
        raise
    return response["RunId"]


def _remaining_seconds(context: Any) -> Callable[[], float]:
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        return lambda: context.get_remaining_time_in_millis() / 1000.0
    return lambda: float("inf")


def _new_york_today() -> dt.date:
    return dt.datetime.now(trading_calendar.NEW_YORK).date()
