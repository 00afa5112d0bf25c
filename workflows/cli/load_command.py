"""`tickerlake load FILE.csv [--symbol S]`: land a file the user drops as an ingest run of its own
(ingestion/drops/), then crawl, write-audit-publish and serve it like any fetch, so no dropped row
reaches stocks.daily_prices or the serving table unaudited. Exit 2 for a file that cannot be
landed (kept under rejected/drops/ with a .reason; the user's file is never touched)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from glue_jobs.lake import ingest_queue, layout
from glue_jobs.lake.errors import ConfigError
from glue_jobs.lake.lock import LakeLock
from ingestion.drops.land import ALREADY_LANDED, REJECTED, SOURCE, DropOutcome, land_drop, new_drop_run_id
from workflows import graph
from workflows.cli.commands import _require_sql
from workflows.runner import lake_flags, open_lake, run_stages, settle_source

STAGES_AFTER_A_DROP = ["crawl", *graph.WAP_STAGES, "serve", "after_publish"]


class DropRefused(ConfigError):
    kind = None  # the message says it all


def add_parser(sub, shared) -> None:
    p = sub.add_parser("load", help="land a CSV file (Alpha Vantage daily or generic OHLCV) and publish it "
                                    "through audit to stocks.daily_prices and the serving table")
    shared(p)
    p.add_argument("file", help="the CSV file: Alpha Vantage's daily CSV (one symbol) or the generic format "
                                "with a symbol column (README, Dropping files)")
    p.add_argument("--symbol", help="the symbol of an Alpha Vantage CSV (default: from the file name, e.g. IBM.csv)")
    p.add_argument("--date", help="as-of trading date YYYY-MM-DD the audit holds the bars to "
                                  "(default: latest completed NYSE session)")


def cmd_load(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise ConfigError(f"load: {args.file} is {'a folder' if path.is_dir() else 'not a file'}: give a CSV file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"load: cannot read {args.file}: {exc.strerror}") from None
    settings = args.settings
    _require_sql(settings)  # an s3:// lake without a workgroup stops before the file lands
    runtime = open_lake(settings, create=True)
    storage = runtime.storage
    run_id = new_drop_run_id()
    # a lake another run holds is refused before the file lands (exit 5); the stages below take
    # the lock again for the WAP
    with LakeLock(storage, run_id):
        outcome = land_drop(storage, data, path.name, as_of=settings.as_of, symbol=args.symbol, run_id=run_id)
    if outcome.status == REJECTED:
        raise DropRefused(_refusal(args.file, outcome, storage))
    pending = outcome.run_id not in ingest_queue.published_run_ids(storage)
    if outcome.status == ALREADY_LANDED and not pending:
        print(f"{args.file}: already loaded (same content, sha256 {outcome.sha256[:12]}...) as ingest run "
              f"{outcome.run_id}: nothing changed")
        return 0
    _say_landed(args.file, outcome, storage)
    run_id = outcome.run_id if outcome.status != ALREADY_LANDED else None
    settle_source(settings, runtime, STAGES_AFTER_A_DROP, run_id or outcome.run_id)
    result = run_stages(settings, STAGES_AFTER_A_DROP, run_id=run_id, recorded={"source": SOURCE})
    _say_published(settings, result, storage)
    return 0


def _refusal(name: str, outcome: DropOutcome, storage) -> str:
    shown = outcome.problems[:10]
    more = len(outcome.problems) - len(shown)
    lines = [f"tickerlake: {name} was not loaded; nothing was published:"]
    lines += [f"  - {p}" for p in shown]
    if more > 0:
        lines.append(f"  ... and {more} more (all in the .reason file)")
    lines += [f"  kept at  {storage.uri(outcome.rejected_key)}",
              f"  reason   {storage.uri(outcome.reason_key)}",
              "  fix the file and load it again (your file was not changed)"]
    return "\n".join(lines)


def _say_landed(name: str, outcome: DropOutcome, storage) -> None:
    verb = "landed" if outcome.status != ALREADY_LANDED else "was landed before; publishing it now"
    symbols = ", ".join(f"{s} {n}" for s, n in sorted(outcome.symbols.items()))
    print(f"{name}: {outcome.rows} rows {verb} as ingest run {outcome.run_id} ({outcome.format} CSV; {symbols})",
          file=sys.stderr)
    if outcome.ignored_columns:
        print(f"  columns ignored: {', '.join(outcome.ignored_columns)}", file=sys.stderr)


def _say_published(settings, result, storage) -> None:
    totals = result.totals or {}
    serve = result.stages.get("serve", {})
    publish = result.stages.get("publish", {})
    flags = lake_flags(settings)
    lines = [
        f"load {result.run_id} finished",
        f"  raw rows {totals.get('raw_rows', 0)} = published {totals.get('published_rows', 0)}"
        f" + quarantined {totals.get('quarantined_rows', 0)}"
        f" + duplicates dropped {totals.get('duplicates_dropped', 0)}",
        f"  stocks.{layout.PUBLISHED_TABLE}: {publish.get('partitions_written', 0)} partition(s) written, "
        f"{publish.get('partitions_unchanged', 0)} unchanged",
        f"  serving table: {serve.get('bars_written', 0)} bar(s) written",
        f"  run log: {storage.uri(layout.run_log_key(result.run_id))}",
    ]
    if totals.get("quarantined_rows"):
        lines.append(f"  quarantined rows and why: tickerlake query{flags} \"select symbol, trade_date, rule, reason "
                     f"from stocks.{layout.QUARANTINE_TABLE} where run_id = '{result.run_id}'\"")
    print("\n".join(lines))
