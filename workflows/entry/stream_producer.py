"""The scheduled intraday producer Lambda (python3.12): EventBridge invokes it every minute of
the hours that can hold a NYSE session on a weekday (13:00-21:59 UTC covers 9:30-16:00 New
York in winter and summer time); holidays, early closes and the minutes outside the session
are checked here, in code (glue_jobs/lake/session_hours.py), and cost one short invocation.

Each invocation makes the calls of the producer's schedule due in its window, the minute that
starts WINDOW_LAG_S after the minute it was invoked in: an invocation that starts a few seconds
late (EventBridge's delivery, a cold start) still makes every call on time, consecutive windows
tile the session, and the schedule is anchored on the session's open
(ingestion/intraday/producer.py), so a retried invocation puts the same quotes (same dedup ids).

Environment (the stack sets it): TICKERLAKE_LAKE (s3://bucket[/prefix]: rejected answers are
kept there), TICKERLAKE_STREAM_NAME (Kinesis) or TICKERLAKE_STREAM_QUEUE_URL (SQS FIFO),
TICKERLAKE_WATCHLIST, ALPHAVANTAGE_SECRET_ID (the key, from Secrets Manager, never logged),
TICKERLAKE_CALLS_PER_MINUTE / TICKERLAKE_CALLS_PER_DAY, optional TICKERLAKE_STREAM_INTERVAL_S
(default: the tightest interval the key sustains).
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from glue_jobs.lake.errors import ConfigError
from glue_jobs.runtime import lake_kind, open_runtime
from ingestion.intraday.run_produce import ProduceRequest, run_produce
from workflows.settings import parse_symbols

log = logging.getLogger("tickerlake.stream_producer")

ENV_LAKE = "TICKERLAKE_LAKE"
ENV_WATCHLIST = "TICKERLAKE_WATCHLIST"
ENV_INTERVAL = "TICKERLAKE_STREAM_INTERVAL_S"
MINUTE_MS = 60_000
WINDOW_LAG_S = 10  # the function's timeout (90 s in the stack) covers the lag plus the minute


def request_from_env(env: Mapping[str, str], now: float) -> ProduceRequest:
    """The minute's request; ConfigError naming the variable that is missing or wrong."""
    raw = (env.get(ENV_WATCHLIST) or "").strip()
    if not raw:
        raise ConfigError(f"{ENV_WATCHLIST} is empty: the stack's Watchlist parameter sets it")
    interval = None
    if (env.get(ENV_INTERVAL) or "").strip():
        try:
            interval = float(env[ENV_INTERVAL])
        except ValueError:
            raise ConfigError(f"{ENV_INTERVAL}={env[ENV_INTERVAL]!r} is not a number of seconds") from None
    window_start = int(now * 1000) // MINUTE_MS * MINUTE_MS + WINDOW_LAG_S * 1000
    return ProduceRequest(symbols=tuple(parse_symbols(raw, ENV_WATCHLIST)), source="alphavantage",
                          interval_s=interval, window_start_ms=window_start,
                          duration_s=(window_start + MINUTE_MS) / 1000 - now)


def handler(event: Mapping[str, Any] | None, context: Any, *, runtime: Any = None, env: Mapping[str, str] | None = None,
            clock: Any = time.time, sleep: Any = time.sleep, http_session: Any = None,
            secrets_client: Any = None) -> dict:
    logging.getLogger().setLevel(logging.INFO)
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    env = os.environ if env is None else env
    try:
        request = request_from_env(env, clock())
        if runtime is None:
            lake = (env.get(ENV_LAKE) or "").strip()
            if not lake or lake_kind(lake) != "aws":
                raise ConfigError(f"{ENV_LAKE} is {lake!r}: the stack sets it to s3://<lake bucket>")
            runtime = open_runtime(lake, env=env)
        result = run_produce(request, stream=runtime.stream, storage=runtime.storage, engine=None, env=env,
                             clock=clock, sleep=sleep, warn=log.warning, http_session=http_session,
                             secrets_client=secrets_client)
    except ConfigError as exc:
        # a misconfigured producer fails loudly (the stack's error alarm), every minute, until fixed
        log.error("stream producer: %s", exc)
        raise
    log.info("stream producer: %s", result.summary())
    report = result.report
    return {"session": str(result.session.day), "open": report is not None,
            "put": report.put if report else 0, "calls": report.calls if report else 0,
            "rejected": len(report.rejected) if report else 0, "stopped": report.stopped if report else "closed"}
