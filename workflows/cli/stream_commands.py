"""`tickerlake stream ...`: the intraday stream (issue 14). `produce` puts quotes of a watchlist
on the lake's stream (ingestion/intraday/); consume, replay and status (the processor) live in
stream_consumer_commands.py. Wired in workflows/cli/main.py.

Exit codes: 0 done (also: the market is closed, with when it opens next), 2 a bad flag, an
interval the key cannot sustain (naming the shortest it can) or a missing key, 4 the day's
quota was spent before any quote was put, 1 anything else."""
from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable
from typing import Any

from glue_jobs.lake.errors import ConfigError
from workflows.runner import open_lake
from workflows.settings import parse_symbols

ENV_WATCHLIST = "TICKERLAKE_WATCHLIST"
ENV_INTERVAL = "TICKERLAKE_STREAM_INTERVAL_S"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, None: 1.0, "m": 60.0, "h": 3600.0}
EXIT_NOTHING_FETCHED = 4


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def duration(text: str) -> float:
    """argparse type: 90, 90s, 5m, 1.5h, 500ms -> seconds (above 0)."""
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration: give e.g. 90s, 5m, 1h")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a duration above 0")
    return seconds


def add_parser(sub: Any, shared: Callable[[argparse.ArgumentParser], None], parser_class: type,
               positive: Callable[[str], int]) -> None:
    p = sub.add_parser("stream", help="the intraday stream: produce quotes onto it, consume, replay, status")
    stream = p.add_subparsers(dest="stream_command", required=True, parser_class=parser_class)

    pr = stream.add_parser("produce", help="put quotes of a watchlist on the stream, during NYSE sessions, "
                                           "within the key's limits")
    shared(pr)
    which = pr.add_mutually_exclusive_group()
    which.add_argument("--watchlist", dest="symbols", metavar="SYMS",
                       help=f"comma-separated symbols (default {ENV_WATCHLIST}, else ten large caps)")
    which.add_argument("--symbols", dest="symbols", metavar="SYMS", help="the same as --watchlist")
    pr.add_argument("--interval", type=duration, metavar="S",
                    help="seconds between two quotes of a symbol (alphavantage: default the tightest the key "
                         "sustains, a shorter one is refused naming it; synthetic: session seconds, default 60)")
    pr.add_argument("--records", type=positive, metavar="N", help="stop after N records")
    pr.add_argument("--for", dest="for_duration", type=duration, metavar="DURATION",
                    help="stop after this long on the wall clock (90s, 5m, 1h)")
    pr.add_argument("--source", choices=("synthetic", "alphavantage"),
                    help="synthetic (default: a walk anchored on the last published close, on its own "
                         "session clock) or alphavantage (GLOBAL_QUOTE, during sessions only)")
    pr.add_argument("--seed", type=int, help="synthetic walk seed (default 0)")
    pr.add_argument("--calls-per-minute", help="Alpha Vantage calls per minute (default 5, a free key)")
    pr.add_argument("--calls-per-day", help="Alpha Vantage calls per day (default 25, a free key)")
    from workflows.cli import stream_consumer_commands

    stream_consumer_commands.add_consumer_commands(stream, shared, positive)


def cmd_stream(args: argparse.Namespace) -> int:
    if args.stream_command == "produce":
        return cmd_produce(args)
    from workflows.cli import stream_consumer_commands

    return stream_consumer_commands.cmd_stream(args)


def watchlist(args: argparse.Namespace, env: Any = None) -> tuple[str, ...]:
    env = os.environ if env is None else env
    settings = args.settings
    if not settings.symbols_given and (env.get(ENV_WATCHLIST) or "").strip():
        return tuple(parse_symbols(env[ENV_WATCHLIST], ENV_WATCHLIST))
    return tuple(settings.symbols)


def cmd_produce(args: argparse.Namespace) -> int:
    from ingestion.intraday.producer import STOP_QUOTA
    from ingestion.intraday.run_produce import ProduceRequest, precheck, run_produce

    settings = args.settings
    interval = args.interval
    if interval is None and (os.environ.get(ENV_INTERVAL) or "").strip():
        try:
            interval = duration(os.environ[ENV_INTERVAL])
        except argparse.ArgumentTypeError as exc:
            raise ConfigError(f"{ENV_INTERVAL}: {exc}") from None
    request = ProduceRequest(symbols=watchlist(args), source=settings.source, interval_s=interval,
                             records=args.records, duration_s=args.for_duration, seed=settings.seed,
                             calls_per_minute=settings.calls_per_minute, calls_per_day=settings.calls_per_day)
    precheck(request, os.environ, time.time())
    runtime = open_lake(settings, create=True)
    engine = runtime.engine if request.source == "synthetic" else None

    def progress(report: Any) -> None:
        _say(f"stream produce: {report.put} put, {len(report.rejected)} rejected, {report.calls} call(s)")

    result = run_produce(request, stream=runtime.stream, storage=runtime.storage, engine=engine, env=os.environ,
                         warn=lambda m: _say(f"tickerlake: warning: {m}"), progress=progress)
    print(result.summary())
    if result.report is not None and result.report.stopped == STOP_QUOTA and result.report.put == 0:
        return EXIT_NOTHING_FETCHED
    return 0
