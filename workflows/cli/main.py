"""`tickerlake`: the command line. Each subcommand runs a part of the stage graph (or
reads the lake) and exits 0 done, 2 usage/configuration, 3 audit blocked the publish,
4 nothing usable fetched, 5 another run holds the lake's lock, 6 doctor found problems, 7 serve verify
found differences, 130 interrupted (Ctrl-C),
1 anything unexpected."""
from __future__ import annotations

import argparse
import logging
import math
import sys
from typing import Callable

from glue_jobs.lake.errors import EXIT_INTERRUPTED, EXIT_UNEXPECTED, EXIT_USAGE, ConfigError, PipelineError
from workflows import graph
from workflows.settings import Settings, build_settings

log = logging.getLogger("tickerlake")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 already; keep our wording
        self.print_usage(sys.stderr)
        print(f"tickerlake: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _count(text: str) -> int:
    """argparse type: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative: give 0 or more")
    return value


def _positive(text: str) -> int:
    value = _count(text)
    if value == 0:
        raise argparse.ArgumentTypeError("0: give 1 or more")
    return value


def _days(text: str) -> float:
    """argparse type: a finite number of days (not nan, not inf; the janitor refuses a negative one)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of days, 0 or more, e.g. 7")
    return value


def _shared(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lake", help="lake directory or s3://bucket/prefix (default ./lake or TICKERLAKE_LAKE)")
    p.add_argument("--workgroup", metavar="NAME",
                   help="Athena workgroup for SQL on an s3:// lake (default TICKERLAKE_WORKGROUP; "
                        "the stack output AthenaWorkGroupName)")
    p.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")


def _source_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", choices=("synthetic", "alphavantage"),
                   help="where prices come from (default synthetic, or TICKERLAKE_SOURCE)")
    p.add_argument("--symbols", help="comma-separated symbols, e.g. AAPL,MSFT (default: ten large caps)")
    p.add_argument("--symbols-file", help="a file of symbols, one per line or comma-separated; # comments")
    p.add_argument("--date", help="as-of trading date YYYY-MM-DD (default: latest completed NYSE session)")
    p.add_argument("--start", help="first date of history to load, for a backfill (YYYY-MM-DD)")
    p.add_argument("--calls-per-minute", help="Alpha Vantage calls per minute (default 5, a free key)")
    p.add_argument("--calls-per-day", help="Alpha Vantage calls per day (default 25, a free key)")
    p.add_argument("--faults", help="synthetic source only: inject faults, e.g. bad_rows:AAPL,duplicates:MSFT")
    p.add_argument("--seed", type=int, help="synthetic source seed (default 0)")
    p.add_argument("--switch-source", action="store_true",
                   help="change the lake's recorded source (lake.json) to --source on purpose; "
                        "synthetic never replaces a real provider")
    p.add_argument("--datatype", choices=("csv", "json"),
                   help="Alpha Vantage body format to request (default csv; json lands the exact JSON plus a CSV rendering)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tickerlake", description="A batch stock-data lake: ingest, write-audit-publish, query.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("run", help="run every stage: ingest, crawl, drop temp, write temp, audit, publish, after publish")
    _shared(p)
    _source_flags(p)
    p.add_argument("--no-dashboard", action="store_true", help="do not render the local dashboard page")

    p = sub.add_parser("ingest", help="fetch daily series into the raw zone")
    _shared(p)
    _source_flags(p)
    p.add_argument("--fan-out", action="store_true",
                   help="queue the day's symbols and fetch them with --workers threads sharing the key's "
                        "limits, then run the WAP once the queue drains (what the stack's fan-out mode does)")
    p.add_argument("--workers", type=_positive, default=4, help="fan-out worker threads (default 4)")

    p = sub.add_parser("crawl", help="register the raw zone and its new partitions in the catalog")
    _shared(p)

    p = sub.add_parser("wap", help="write-audit-publish: drop temp, write temp, audit, publish, after publish")
    _shared(p)
    p.add_argument("--date", help="as-of trading date YYYY-MM-DD (default: latest completed NYSE session)")

    p = sub.add_parser("query", help="run Athena-dialect SQL on the lake")
    _shared(p)
    p.add_argument("sql", help="the SQL, or @file.sql to read it from a file (e.g. @sql/queries/top_movers.sql)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="fill a {{NAME}} placeholder in the SQL (repeatable), e.g. --param symbol=AAPL")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--max-rows", type=_count, default=None,
                   help="stop after this many rows, saying if there were more (default: 200 in table "
                        "format, every row, streamed, in csv and json)")

    p = sub.add_parser("runs", help="list recent runs with their counts and status")
    _shared(p)
    p.add_argument("--limit", type=_positive, default=10)
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")

    p = sub.add_parser("dashboard", help="render the dashboards as a static HTML page from the local lake")
    _shared(p)
    p.add_argument("--out", help="where to write the page (default <lake>/dashboard/index.html)")
    p.add_argument("--check", action="store_true", help="run every panel query; fail naming any panel that errors or is empty")
    p.add_argument("--symbols", help="symbols to show (default: the first few in the lake)")
    p.add_argument("--date", help="as-of date of the page (default: the newest data)")
    p.add_argument("--sessions", type=_positive, help="show only the last N sessions (default: everything)")
    _bench_command(sub)
    _operator_commands(sub)
    from workflows.cli import serve_commands

    serve_commands.add_parser(sub, _shared, _Parser, _positive)
    from workflows.cli import load_command

    load_command.add_parser(sub, _shared)
    from workflows.cli import stream_commands

    stream_commands.add_parser(sub, _shared, _Parser, _positive)
    return parser


def _operator_commands(sub) -> None:
    """Maintenance: cleanup, rollback, and taking a bad ingest run out of the queue."""
    p = sub.add_parser("janitor", help="remove orphan files, leftover temporary tables and old partition versions")
    _shared(p)
    p.add_argument("--dry-run", action="store_true", help="list what would be deleted, with sizes and reasons (do this first)")
    p.add_argument("--retention-days", type=_days,
                   help="keep versions out of the catalog for this many days (default 7, or TICKERLAKE_RETENTION_DAYS)")

    p = sub.add_parser("rollback", help="put the partitions a run published back to their previous versions")
    _shared(p)
    p.add_argument("--run", required=True, metavar="RUN_ID", help="the pipeline run to roll back (see tickerlake runs)")
    p.add_argument("--dry-run", action="store_true", help="say what would move, change nothing")
    p.add_argument("--force", action="store_true", help="roll back even partitions a later run republished")

    p = sub.add_parser("set-aside", help="take a bad ingest run out of the queue (it stays in raw, recorded)")
    _shared(p)
    p.add_argument("--ingest-run", required=True, metavar="INGEST_RUN_ID", help="the ingest run (the blocked audit names it)")
    p.add_argument("--reason", required=True, help="why: recorded with the run")

    p = sub.add_parser("requeue", help="make a set-aside or rolled-back ingest run pending again")
    _shared(p)
    p.add_argument("--ingest-run", required=True, metavar="INGEST_RUN_ID")

    p = sub.add_parser("doctor", help="check the whole lake (catalog, partitions, manifests, run logs, state); "
                                      "exit 0 healthy, 6 problems remain")
    _shared(p)
    p.add_argument("--repair", action="store_true",
                   help="restore what can be restored (deletes nothing), re-publish from raw, then check again")


def _bench_command(sub) -> None:
    p = sub.add_parser("bench", help="benchmark the pipeline at scale against its performance targets")
    p.add_argument("--quick", action="store_true", help="the same at a small scale, under a minute (what CI runs)")
    p.add_argument("--workdir", default="/tmp/tickerlake-bench",
                   help="where the synthetic lakes, logs and bench.md go (default /tmp/tickerlake-bench)")
    p.add_argument("--keep", action="store_true", help="keep the lakes the benchmark built (GBs at full scale)")
    p.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    p.add_argument("--fan-out", action="store_true",
                   help="only simulate fan-out ingestion (planner, workers, token bucket, Lambda timeout): "
                        "makespan, longest invocation, calls per minute")
    p.add_argument("--intraday", action="store_true",
                   help="only the intraday consumer: records/s end to end and produce -> served latency")
    p.add_argument("--intraday-records", type=_positive, default=20_000, metavar="N",
                   help="records the consumer drains for its throughput (default 20000)")
    p.add_argument("--intraday-rate", type=_positive, default=1000, metavar="N",
                   help="records a second put while the consumer follows, for the latency (default 1000)")
    p.add_argument("--intraday-seconds", type=_positive, default=5, metavar="S",
                   help="how long the latency run puts records (default 5)")
    p.add_argument("--fan-out-symbols", type=_positive, default=5000, metavar="N")
    p.add_argument("--fan-out-calls-per-minute", type=_positive, default=75, metavar="N")
    p.add_argument("--fan-out-concurrency", type=_positive, default=5, metavar="N",
                   help="the worker event source's MaximumConcurrency (default 5)")
    p.add_argument("--fan-out-timeout", type=_positive, default=300, metavar="S",
                   help="the worker Lambda's timeout in seconds (default 300)")
    p.set_defaults(lake=None)


def _settings(args: argparse.Namespace) -> Settings:
    return build_settings(
        lake=args.lake,
        source=getattr(args, "source", None),
        symbols=getattr(args, "symbols", None) if args.command != "dashboard" else None,
        datatype=getattr(args, "datatype", None),
        symbols_file=getattr(args, "symbols_file", None),
        date=getattr(args, "date", None),
        start=getattr(args, "start", None),
        calls_per_minute=getattr(args, "calls_per_minute", None),
        calls_per_day=getattr(args, "calls_per_day", None),
        faults=getattr(args, "faults", None),
        seed=getattr(args, "seed", None),
        workgroup=getattr(args, "workgroup", None),
        switch_source=bool(getattr(args, "switch_source", False)),
        ingests=args.command in ("run", "ingest") or getattr(args, "stream_command", None) == "produce",
    )


def _commands() -> dict[str, Callable[[argparse.Namespace], int]]:
    from workflows.cli import commands, load_command, operator_commands, serve_commands, stream_commands

    return {
        "run": commands.cmd_run,
        "ingest": commands.cmd_ingest,
        "crawl": commands.cmd_crawl,
        "wap": commands.cmd_wap,
        "query": commands.cmd_query,
        "runs": commands.cmd_runs,
        "dashboard": commands.cmd_dashboard,
        "bench": commands.cmd_bench,
        "janitor": commands.cmd_janitor,
        "rollback": commands.cmd_rollback,
        "set-aside": commands.cmd_set_aside,
        "requeue": commands.cmd_requeue,
        "doctor": operator_commands.cmd_doctor,
        "serve": serve_commands.cmd_serve,
        "load": load_command.cmd_load,
        "stream": stream_commands.cmd_stream,
    }


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        # Quiet runs show warnings (alerts, carried symbols) as plain lines beside the progress.
        format="%(asctime)s %(levelname)s %(name)s: %(message)s" if args.verbose else "      %(levelname)s: %(message)s",
    )
    try:
        if args.command != "bench":
            args.settings = _settings(args)
            for warning in args.settings.warnings:
                print(f"tickerlake: warning: {warning}", file=sys.stderr)
        return _commands()[args.command](args)
    except ConfigError as exc:
        log.debug("%s", exc.kind or "refused", exc_info=True)
        print(f"tickerlake: {exc.kind}: {exc}" if exc.kind else f"tickerlake: {exc}", file=sys.stderr)
        return exc.exit_code
    except PipelineError as exc:
        log.debug("pipeline error", exc_info=True)
        print(f"tickerlake: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        where = _run_log_of(exc)
        print("tickerlake: interrupted; the lake keeps what was published before the interruption"
              + (f"; the run log records where it stopped: {where}" if where else ""), file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last resort: say what broke, keep the traceback for --verbose
        log.debug("unexpected failure", exc_info=True)
        where = _run_log_of(exc)
        print(f"tickerlake: unexpected error in {args.command}: {type(exc).__name__}: {exc}\n"
              "  run again with --verbose for the traceback"
              + (f"; the run log records the stage: {where}" if where else ""),
              file=sys.stderr)
        if args.verbose:
            raise
        return EXIT_UNEXPECTED


def _run_log_of(exc: BaseException) -> str | None:
    """The run log a failed run wrote (the runner tags the exception), None when no run started."""
    return getattr(exc, "tickerlake_run_log", None)


STAGE_NAMES = [s.name for s in graph.STAGES]

if __name__ == "__main__":
    sys.exit(main())
