"""What each CLI subcommand does, given parsed arguments and validated settings."""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import pyarrow as pa

from glue_jobs.lake import layout
from glue_jobs.lake.errors import ConfigError
from glue_jobs.ports.engine import QueryError
from glue_jobs.runtime import NoEngine, Runtime, lake_kind, start_audit_worker
from workflows import graph
from workflows.cli import output
from workflows.runner import RunOutcome, lake_flags, open_lake, run_stages
from workflows.settings import Settings


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def cmd_run(args: argparse.Namespace) -> int:
    _require_sql(args.settings)
    start_audit_worker(args.settings.lake)  # before the run opens its lake: half a second earlier
    outcome = run_stages(args.settings)
    page = None
    if not args.no_dashboard:
        page = _render_dashboard(args.settings, None, None)
    _print_summary(args, outcome, page)
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    if getattr(args, "fan_out", False):
        return _ingest_fan_out(args)
    outcome = run_stages(args.settings, ["ingest"])
    counts = outcome.stages.get("ingest", {})
    print(f"ingested run {outcome.run_id}: {counts.get('symbols_fetched', 0)} symbols fetched, "
          f"{counts.get('raw_rows', 0)} raw rows; manifest {counts.get('manifest_key', '?')}")
    flags = _lake_flags(args.settings)
    print(f"next: tickerlake crawl{flags} && tickerlake wap{flags}   (or tickerlake run{flags} for everything)")
    return 0


def _ingest_fan_out(args: argparse.Namespace) -> int:
    from workflows.fanout import run_local_fan_out

    outcome = run_local_fan_out(args.settings, workers=args.workers, say=_say)
    finished = outcome.finished
    if finished is None:
        print(f"fan-out run {outcome.run_id} was already handed to the WAP; nothing left to fetch")
        return 0
    dead = ", ".join(finished.dead_lettered) or "none"
    print(f"fan-out run {finished.run_id}: {finished.counts['symbols_fetched']} of "
          f"{finished.counts['symbols_planned']} symbols fetched, {finished.counts['raw_rows']} raw rows, "
          f"dead-lettered: {dead}; manifest {finished.manifest_key}; WAP run under the same id "
          f"(tickerlake runs{_lake_flags(args.settings)})")
    return 0


def cmd_crawl(args: argparse.Namespace) -> int:
    outcome = run_stages(args.settings, ["crawl"])
    print(json.dumps(outcome.stages.get("crawl", {}), indent=1, default=str))
    return 0


def _uncrawled_bodies(settings: Settings) -> list[str]:
    """Raw bodies of pending ingest runs that the catalog does not list yet."""
    from glue_jobs.lake.ingest_queue import pending_ingest_runs, raw_partitions_of

    runtime = open_lake(settings)
    storage, catalog = runtime.storage, runtime.catalog
    runs = pending_ingest_runs(storage)
    registered = set()
    if catalog.get_table(layout.DATABASE, layout.RAW_TABLE) is not None:
        registered = {p.location for p in catalog.list_partitions(layout.DATABASE, layout.RAW_TABLE,
                                                                   where=raw_partitions_of(runs))}
    return [
        f.raw_key for run in runs for f in run.fetches
        if f.raw_key and f.raw_key.rsplit("/", 1)[0] + "/" not in registered
    ]


def cmd_wap(args: argparse.Namespace) -> int:
    _require_lake(args.settings)
    _require_sql(args.settings)
    missing = _uncrawled_bodies(args.settings)
    if missing:
        raise ConfigError(
            f"{len(missing)} raw bod{'y' if len(missing) == 1 else 'ies'} waiting to be published "
            f"{'is' if len(missing) == 1 else 'are'} not crawled yet (e.g. {missing[0]}): "
            "run `tickerlake crawl` first, then `tickerlake wap`"
        )
    start_audit_worker(args.settings.lake)
    outcome = run_stages(args.settings, [*graph.WAP_STAGES, "serve", "after_publish"])
    _print_summary(args, outcome, None)
    return 0


def _read_sql_arg(text: str) -> str:
    if text.startswith("@"):
        path = Path(text[1:])
        if not path.is_file():
            raise ConfigError(f"query: {path} does not exist")
        return path.read_text(encoding="utf-8")
    return text


DEFAULT_TABLE_ROWS = 200


def cmd_query(args: argparse.Namespace) -> int:
    from glue_jobs.lake.query_guard import check_read_only

    sql = _render_params(_read_sql_arg(args.sql), args.param)
    label = statement_label(args.sql, sql)
    # Read-only, first check: the statement as written, before any engine translates it. The
    # local engine checks again on a connection that can reach nothing else.
    check_read_only(sql)
    runtime = open_lake(args.settings)
    catalog, engine = runtime.catalog, runtime.engine
    max_rows = args.max_rows if args.max_rows is not None else (DEFAULT_TABLE_ROWS if args.format == "table" else None)
    if max_rows is not None and max_rows < 0:
        raise ConfigError(f"--max-rows {max_rows}: expected 0 or more")
    try:
        reader = engine.read_only_query(sql, batch_rows=min(10_000, max_rows + 1) if max_rows is not None else 10_000)
        more = output.write_stream(reader, args.format, sys.stdout, max_rows=max_rows)
    except QueryError as exc:
        # The user's SQL is input like a flag: a mistake in it is a usage error (exit 2), not a crash.
        detail = getattr(exc, "detail", None) or str(exc)
        if _UNKNOWN_TABLE.search(detail):
            names = [f"{layout.DATABASE}.{t}" for t in catalog.list_tables(layout.DATABASE)]
            names += [f"{layout.DATABASE}.{v} (view)" for v in _view_names()]
            detail += f"\n  tables: {', '.join(names) or 'none yet'}"
        raise QueryFailed(label, detail) from None
    if more and args.format != "table":
        print(f"tickerlake: the first {max_rows} rows were written; there are more (--max-rows)", file=sys.stderr)
    return 0


_UNKNOWN_TABLE = re.compile(r"Table '[^']+' does not exist")


class QueryFailed(ConfigError):
    """A user's statement that the engine refused or that failed while running (exit 2):
    printed as "tickerlake: query failed: <label>: <detail>"."""

    kind = "query failed"

    def __init__(self, label: str, detail: str):
        super().__init__(f"{label}: {detail}")
        self.label = label
        self.detail = detail


def statement_label(arg: str, sql: str) -> str:
    """How a message names the user's statement: its @file as given, or its first 60
    characters (comments dropped, white space folded)."""
    if arg.startswith("@"):
        return arg[1:]
    text = " ".join(re.sub(r"--[^\n]*", " ", sql).split())
    return text[:60] + ("..." if len(text) > 60 else "")


def _render_params(sql: str, pairs: list[str]) -> str:
    from glue_jobs.lake import sql_files

    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"--param {pair!r}: expected NAME=VALUE, e.g. --param symbol=AAPL")
        params[name.strip()] = value
    missing = sql_files.placeholders(sql) - set(params)
    if missing:
        raise ConfigError("the SQL has placeholders without a value: "
                          + ", ".join(f"--param {m}=..." for m in sorted(missing)))
    try:
        return sql_files.render_text(sql, params, origin="query")
    except sql_files.SqlTemplateError as exc:
        raise ConfigError(str(exc)) from None


def _view_names() -> list[str]:
    from glue_jobs.lake.sql_files import sql_dir

    return sorted(p.stem for p in (sql_dir() / "views").glob("*.sql"))


def cmd_runs(args: argparse.Namespace) -> int:
    from glue_jobs.lake.run_log import list_runs

    rows = list_runs(open_lake(args.settings).storage, limit=args.limit)
    if not rows:
        print(f"no runs yet in {args.settings.lake}: try `tickerlake run`")
        return 0
    print(output.render(pa.Table.from_pylist(rows), args.format))
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    if args.out is not None:
        out = Path(args.out)
        if not args.out.strip() or out.is_dir():
            raise ConfigError(f"--out {args.out!r} is {'empty' if not args.out.strip() else 'a folder'}: "
                              "give the page's file name, e.g. --out dashboard.html")
        if out.parent.exists() and not out.parent.is_dir():
            raise ConfigError(f"--out {args.out}: {out.parent} is a file, not a folder")
    if args.symbols is not None and not args.symbols.strip():
        raise ConfigError("--symbols is empty: give symbols, e.g. --symbols AAPL,MSFT, or leave the flag out")
    _require_lake(args.settings)
    _require_sql(args.settings)
    symbols = args.symbols.split(",") if args.symbols else None
    if args.check:
        from glue_jobs.ops import doctor, doctor_plan
        from workflows.dashboards import check_panels

        runtime = open_lake(args.settings)
        problems = [str(p) for p in check_panels(runtime.engine)]
        # A panel can return rows while a year of prices is missing: a partition whose files
        # are gone or damaged is a failure of the dashboard's data too, and so is a summary of
        # the years (stocks.symbol_years) behind the prices.
        problems += [f"{p.target}: {p.what} ({p.fix})"
                     for p in doctor.check(runtime.storage, runtime.catalog)
                     if (p.kind.startswith("partition") and p.severity == doctor_plan.ERROR) or p.kind == "symbol_years"]
        for problem in problems:
            print(f"FAIL {problem}", file=sys.stderr)
        if problems:
            return 1
        print("every panel query ran and returned rows, and every published partition's files are intact")
        return 0
    page = _render_dashboard(args.settings, args.out, symbols,
                             as_of=args.settings.as_of if args.date else None, sessions=args.sessions)
    print(f"dashboard: {page}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from workflows.bench.report import markdown, verdict_counts
    from workflows.bench.run import FULL, QUICK, run_bench

    if getattr(args, "fan_out", False):
        return _bench_fan_out(args)
    workdir = Path(args.workdir)
    if not args.workdir.strip() or (workdir.exists() and not workdir.is_dir()):
        raise ConfigError(f"--workdir {args.workdir!r} is {'empty' if not args.workdir.strip() else 'a file'}: "
                          "give a folder for the bench's lakes (default /tmp/tickerlake-bench)")
    if getattr(args, "intraday", False):
        from workflows.bench.run import run_intraday

        rows = run_intraday(workdir, records=args.intraday_records, rate=args.intraday_rate,
                            seconds=float(args.intraday_seconds), say=_say)
        print(markdown(rows))
        return 0
    rows, out = run_bench(QUICK if args.quick else FULL, workdir, keep=args.keep, say=_say)
    passed, failed = verdict_counts(rows)
    print(markdown(rows))
    print(f"\n{passed} targets met, {failed} missed; the table with details: {out}")
    # the table is the result: a missed target is a finding, not a failure to run
    return 0


def _bench_fan_out(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ingestion.fanout.simulate import Setup
    from workflows.bench.fanout import report

    clean = Setup(symbols=args.fan_out_symbols, calls_per_minute=args.fan_out_calls_per_minute,
                  concurrency=args.fan_out_concurrency, timeout_s=float(args.fan_out_timeout))
    if clean.timeout_s <= clean.fetch_budget_s + 5:
        raise ConfigError(f"--fan-out-timeout {args.fan_out_timeout}: a worker needs more than one fetch "
                          f"({clean.fetch_budget_s:g} s) and a 5 s margin; give at least {clean.fetch_budget_s + 6:g}")
    ok = True
    # then 1% answering a 502 once and 0.1% on every receive: the retry and dead-letter paths
    for setup in (clean, replace(clean, flaky=clean.symbols // 100, broken=clean.symbols // 1000)):
        lines, passed = report(setup)
        print("\n".join(lines))
        ok = ok and passed
    return 0 if ok else 1


def _render_dashboard(settings: Settings, out: str | None, symbols: list[str] | None, *, as_of=None,
                      sessions: int | None = None) -> Path | None:
    try:
        from workflows.dashboards import render_dashboard
    except ImportError:
        return None
    from workflows.cli.serve_commands import serving_health_extras
    from workflows.cli.stream_consumer_commands import consumer_lag_extras

    runtime = open_lake(settings)
    target = Path(out) if out else _dashboard_path(runtime)
    extras = serving_health_extras(runtime)
    for section, html in consumer_lag_extras(runtime).items():
        extras.setdefault(section, []).extend(html)
    return render_dashboard(runtime.engine, target, symbols=symbols, as_of=as_of, sessions=sessions,
                            extras=extras)


def _require_lake(settings: Settings) -> None:
    open_lake(settings)  # a missing local lake, or a scheme no runtime serves, is a usage error


def _dashboard_path(runtime: Runtime) -> Path:
    """The page goes beside a local lake; for an s3 lake, into ./dashboard (a browser opens
    files, not objects)."""
    if runtime.kind == "local":
        return Path(runtime.storage.uri("dashboard/index.html"))
    return (Path("dashboard") / "index.html").resolve()


def _print_summary(args: argparse.Namespace, outcome: RunOutcome, page: Path | None) -> None:
    lake = open_lake(args.settings).storage
    totals = outcome.totals or {}
    publish = outcome.stages.get("publish", {})
    lines = [
        "",
        f"run {outcome.run_id} finished",
        f"  raw rows {totals.get('raw_rows', 0)} = published {totals.get('published_rows', 0)}"
        f" + unchanged {totals.get('unchanged_rows', 0)}"
        f" + quarantined {totals.get('quarantined_rows', 0)}"
        f" + duplicates dropped {totals.get('duplicates_dropped', 0)}",
    ]
    if publish.get("partitions_written") is not None:
        lines.append(f"  stocks.{layout.PUBLISHED_TABLE}: {publish.get('partitions_written')} partition(s) "
                     f"written, {publish.get('partitions_unchanged', 0)} unchanged")
    lines += [
        f"  lake:      {lake.root}",
        f"  run log:   {lake.uri(outcome.run_log_key)}",
    ]
    if page:
        lines.append(f"  dashboard: {page}")
    lake_flag = _lake_flags(args.settings)
    lines += [
        "  try:",
        f"    .venv/bin/tickerlake query{lake_flag} \"select symbol, max(trade_date) as newest, count(*) as bars "
        "from stocks.daily_prices group by symbol order by symbol\"",
        f"    .venv/bin/tickerlake runs{lake_flag}",
    ]
    print("\n".join(lines))


def _lake_flags(settings: Settings) -> str:
    return lake_flags(settings)


def _require_sql(settings: Settings) -> None:
    """Stop a command that will run SQL before it touches the lake when its engine cannot:
    an s3:// lake opened without a workgroup (exit 2, naming --workgroup/TICKERLAKE_WORKGROUP)."""
    if lake_kind(settings.lake) != "aws":
        return  # a directory lake always has DuckDB (and `run` creates a missing one)
    engine = open_lake(settings).engine
    if isinstance(engine, NoEngine):
        engine.execute("")  # raises the ConfigError that names the missing setting


# janitor, rollback, set-aside, requeue: the operator's commands live in their own module
from workflows.cli.operator_commands import cmd_janitor, cmd_requeue, cmd_rollback, cmd_set_aside  # noqa: E402,F401
