"""`tickerlake stream consume|replay|status`: the intraday processor on a local lake's stream
log (on AWS the consumer Lambda's event source mapping does this). Wired in workflows/cli/main.py.

Exit codes: 0 done, 2 a bad time, count or lake (one line, what to do), 1 records failed and
are waiting to be retried (named on stderr)."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from glue_jobs.intraday import Consumer, ConsumeResult
from glue_jobs.intraday.consume import CONSUMER, POLL_SECONDS
from glue_jobs.lake.errors import ConfigError
from glue_jobs.runtime import Runtime, local_stream_path
from workflows.intraday import open_processor
from workflows.runner import open_lake

FAILURE_QUEUE = "intraday-failures"
DEFAULT_POLL_SECONDS = POLL_SECONDS


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def add_consumer_commands(stream: Any, shared: Callable[[argparse.ArgumentParser], None],
                          positive: Callable[[str], int]) -> None:
    """consume, replay and status under the `stream` subcommand (whose `produce` lives with the producer)."""
    c = stream.add_parser("consume", help="process what the stream holds into the quotes table, the history "
                                          "and alerts, then exit (--follow: keep going)")
    shared(c)
    c.add_argument("--follow", action="store_true", help="keep consuming until Ctrl-C")
    c.add_argument("--poll", type=_poll_seconds, default=DEFAULT_POLL_SECONDS, metavar="SECONDS",
                   help=f"with --follow, the wait after a read that found nothing (default {DEFAULT_POLL_SECONDS:g})")
    c.add_argument("--batch", type=positive, default=1000, help="records per batch (default 1000)")
    r = stream.add_parser("replay", help="re-process the log from a time into the quotes table; nothing is "
                                         "served, kept or alerted twice")
    shared(r)
    r.add_argument("--from", dest="from_time", required=True, metavar="TIME",
                   help="UTC time or date, e.g. 2026-11-30T14:30 or 2026-11-30")
    r.add_argument("--batch", type=positive, default=1000, help="records per batch (default 1000)")
    k = stream.add_parser("compact", help="merge each finished day's history files (stocks.intraday_quotes) "
                                          "into one per shard; queries never see a row twice or missing")
    shared(k)
    k.add_argument("--day", metavar="YYYY-MM-DD",
                   help="only this day (default: every day that is over, 15 minutes after its NYSE session "
                        "closed, and that the consumer has finished)")
    s = stream.add_parser("status", help="per shard: last sequence, checkpoint, lag, and the failure queue's depth")
    shared(s)
    s.add_argument("--format", choices=("table", "json"), default="table")


def _poll_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (e.g. 0.05)") from None
    if not 0.001 <= value <= 60:
        raise argparse.ArgumentTypeError(f"{text}: give between 0.001 and 60 seconds")
    return value


def open_stream(runtime: Runtime) -> Any:
    """The lake's stream log (glue_jobs/adapters/local/stream_sqlite.py through Runtime.stream)."""
    if runtime.kind != "local":
        raise ConfigError("on AWS the consumer Lambda reads the stream; `stream consume|replay|status` work on "
                          "a local lake (see the stack's ConsumerFunction and its alarms)")
    if not os.path.exists(local_stream_path(runtime.lake)):
        # opening would make an empty log: say how a lake gets one instead
        raise ConfigError(f"{runtime.lake} has no stream log yet: `tickerlake stream produce` makes one")
    return runtime.stream


def parse_time(text: str) -> int:
    """UTC epoch milliseconds of an ISO date or date-time (UTC unless it says otherwise)."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--from {text!r}: give a UTC time or date, e.g. 2026-11-30T14:30 or 2026-11-30") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return int(moment.timestamp() * 1000)


def _consumer(runtime: Runtime, stream: Any, batch: int) -> Consumer:
    processor = open_processor(runtime, env=os.environ)
    return Consumer(stream, processor, runtime.queue_factory(FAILURE_QUEUE), batch=batch, say=_say)


def _report(verb: str, result: ConsumeResult, seconds: float) -> int:
    rate = f", {result.records / seconds:,.0f} records/s" if seconds > 0 and result.records else ""
    _say(f"stream {verb}: {result.records} records in {result.batches} batches{rate}: {result.accepted} accepted, "
         f"{result.rejected} rejected (kept under stream/rejected/), {result.history_rows} history rows, "
         f"{result.written} served, {result.stale} already served, {result.alerts_sent} alerts sent"
         + (f", {result.given_up} given up (on the {FAILURE_QUEUE} queue)" if result.given_up else ""))
    for error in result.errors:
        _say(f"  failed: {error}")
    return 1 if result.errors and not result.given_up else 0


def cmd_stream(args: argparse.Namespace) -> int:
    return {"consume": cmd_consume, "replay": cmd_replay, "status": cmd_status,
            "compact": cmd_compact}[args.stream_command](args)


def cmd_consume(args: argparse.Namespace) -> int:
    runtime = open_lake(args.settings)
    consumer = _consumer(runtime, open_stream(runtime), args.batch)
    started = time.monotonic()
    if args.follow:
        _say("stream consume: following the stream (Ctrl-C to stop)")
        try:
            result = consumer.follow(poll_seconds=args.poll)
        except KeyboardInterrupt:
            _say("stream consume: stopped; every finished batch is checkpointed")
            return 0
    else:
        result = consumer.drain()
    return _report("consume", result, time.monotonic() - started)


def cmd_replay(args: argparse.Namespace) -> int:
    since = parse_time(args.from_time)
    runtime = open_lake(args.settings)
    if runtime.kind != "local":
        # the stream keeps 24 hours and the Lambda owns its position: replay the Firehose history
        from glue_jobs.intraday.history_replay import replay_from_history

        processor = open_processor(runtime, env=os.environ)
        started = time.monotonic()
        result = replay_from_history(runtime.storage, processor, since, batch=args.batch, say=_say)
        return _report("replay", result, time.monotonic() - started)
    stream = open_stream(runtime)
    consumer = _consumer(runtime, stream, args.batch)
    started = time.monotonic()
    result = consumer.drain(checkpoint=False, after={s: None for s in stream.shards()}, since_ms=since)
    return _report("replay", result, time.monotonic() - started)


def shard_status(stream: Any, status: Any, now_ms: int) -> dict[str, Any]:
    """A shard's ShardStatus (last sequence, the consumer's checkpoint, records behind it) and
    the age of the oldest record not yet processed."""
    oldest = stream.read(status.shard_id, status.checkpoint, 1)
    return {"shard": status.shard_id, "last_sequence": status.last_sequence, "checkpoint": status.checkpoint,
            "lag_records": status.lag, "lag_ms": max(0, now_ms - oldest[0].arrival_ms) if oldest else 0}


def consumer_lag_extras(runtime: Runtime) -> dict[str, list[str]]:
    """The dashboard's consumer-lag panel (in "Intraday"): each shard's lag, or why there is none."""
    from workflows.dashboards import consumer_lag

    compute = None
    absent = None
    if runtime.kind != "local":
        absent = "on AWS the consumer's lag is its IteratorAge metric (ConsumerIteratorAgeAlarm)"
    elif not os.path.exists(local_stream_path(runtime.lake)):
        absent = "no stream log in this lake yet (`tickerlake stream produce` makes one)"
    else:
        def compute() -> list[dict[str, Any]]:
            stream = runtime.stream
            now_ms = int(time.time() * 1000)
            return [shard_status(stream, st, now_ms) for st in stream.status(CONSUMER)]
    lag = consumer_lag.collect(compute, absent)
    return {consumer_lag.SECTION: [consumer_lag.panel_html(lag)]}


def cmd_status(args: argparse.Namespace) -> int:
    runtime = open_lake(args.settings)
    stream = open_stream(runtime)
    now_ms = int(time.time() * 1000)
    shards = [shard_status(stream, st, now_ms) for st in stream.status(CONSUMER)]
    depth = runtime.queue_factory(FAILURE_QUEUE).depth()
    if args.format == "json":
        print(json.dumps({"shards": shards, "failure_queue": {"visible": depth.visible,
                                                              "in_flight": depth.in_flight}}, indent=2))
        return 0
    print(f"{'shard':<20} {'last sequence':>15} {'checkpoint':>15} {'lag':>8} {'lag age':>10}")
    for s in shards:
        print(f"{s['shard']:<20} {s['last_sequence'] or '-':>15} {s['checkpoint'] or '-':>15} "
              f"{'?' if s['lag_records'] is None else s['lag_records']:>8} {s['lag_ms'] / 1000:>9.1f}s")
    print(f"failure queue {FAILURE_QUEUE}: {depth.visible} waiting, {depth.in_flight} in flight")
    return 0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def cmd_compact(args: argparse.Namespace) -> int:
    """workflows.history_compaction, as the stack's HistoryCompactorFunction runs it; exit 1
    when a day failed (named; a rerun finishes it)."""
    from workflows.history_compaction import compact_history

    runtime = open_lake(args.settings)
    run = compact_history(runtime, now=_now(), day=args.day, say=lambda line: _say(f"stream compact: {line}"))
    if not run.days and not run.failed and not run.waiting:
        _say("stream compact: no finished day to compact")
    return 1 if run.failed else 0
