"""Write temp: parse, type and de-duplicate this run's raw rows into stocks.tmp_daily_prices.

The work is sql/wap/write_temp/write_temp.sql: every raw row read, typed, written as Parquet (one file per
trade_year, no sort). A row keeps its text as received (raw line, source file) only when it did
not parse: in a batch whose symbol and date keys are unique that key identifies every other row,
and the audit reads the text again for the rows it quarantines (glue_jobs/audit/raw_text.py). A
batch that repeats a key is typed again with every row's text, which de-duplication compares.
This module hands it what the raw bodies do not carry: when each
symbol was fetched and which bar was still forming (from the ingest manifests, as the small
CSV table stocks.tmp_ingest_fetches). On what was written it counts the rows read
(wap/write_temp/read_counts.sql) and looks for duplicated keys (wap/write_temp/duplicates.sql); only
a batch that has some is rewritten without them (wap/write_temp/dedupe.sql). The counts of what
came in and what the de-duplication dropped go to the run log's reconciliation.

What it wrote is every row fetched (stocks.tmp_daily_prices_fetched, which the audit's series
rules read for a bar's neighbours); stocks.tmp_daily_prices, what the audit checks and publish
merges, is that less the rows identical to what is published (wap/write_temp/changed_rows.sql),
counted as unchanged_rows: a daily compact fetch repeats 99 published bars per symbol.

On a day with published years where its rows fall, the typing pass also marks each row that is
exactly its published bar (wap/write_temp/published_as_is.sql) and writes it without its raw
line; the changed rows are then the rows not marked (wap/write_temp/not_published_as_is.sql),
the same rows changed_rows.sql finds, without reading the published year twice. A batch that
repeats a key (whose de-duplication reads the raw lines) is typed again without the mark, and
a row in a year the mark did not compare with is left to changed_rows.sql.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import logging

from glue_jobs.lake import failpoints, ingest_queue, layout, migrate, sql_files, tables, typed_raw
from glue_jobs.lake.context import RunContext
from glue_jobs.lake.sql_files import Identifier

log = logging.getLogger(__name__)


def fetches_csv(runs: list[ingest_queue.IngestRun]) -> bytes:
    """Pure: the body of stocks.tmp_ingest_fetches for these ingest runs."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in tables.FETCHES_COLUMNS])
    for run in runs:
        for f in run.fetches:
            writer.writerow([run.run_id, f.symbol, f.fetched_at, f.forming_date or "", "" if f.rows is None else f.rows])
    return out.getvalue().encode()


def compare_with_manifests(runs: list[ingest_queue.IngestRun], read: dict[tuple[str, str], int]) -> list[str]:
    """Pure: fetches whose row count as read differs from the manifest's count, then the
    symbols the raw table reads rows of in an ingest run whose manifest does not list them (a
    body placed by hand in the run's folder: its rows go on through the audit like any other)."""
    problems = []
    for run in runs:
        for f in run.fetches:
            got = read.get((run.run_id, f.symbol), 0)
            if f.rows is not None and got != f.rows:
                problems.append(f"{f.symbol} in ingest run {run.run_id}: manifest says {f.rows} rows, "
                                f"the raw table reads {got} ({f.raw_key})")
    read_by_run: dict[str, list[tuple[str, int]]] = {}
    for (run_id, symbol), got in sorted(read.items()):
        read_by_run.setdefault(run_id, []).append((symbol, got))
    for run in runs:
        listed = {f.symbol for f in run.fetches}
        for symbol, got in read_by_run.get(run.run_id, []):
            if symbol not in listed:
                problems.append(f"{symbol} in ingest run {run.run_id}: the raw table reads {got} rows its manifest "
                                f"does not list ({layout.raw_key(run.ingest_date, symbol, run.run_id)})")
    return problems


def compared_years(runs: list[ingest_queue.IngestRun], published: set[int]) -> list[int]:
    """Pure: the published years the typing pass compares the fetched rows with. A fetch of n
    rows spans n sessions, fewer than 2n + 10 calendar days before its ingest date; the years
    from there to the latest ingest date. None when a manifest does not count its rows or an
    ingest date is not a date (nothing is compared then). Only a bound on what is read: a row of a published year outside it is
    decided after the write, by changed_rows.sql."""
    counts = [f.rows for r in runs for f in r.fetches]
    if not runs or not published or any(n is None for n in counts):
        return []
    try:
        days = [dt.date.fromisoformat(r.ingest_date) for r in runs]
    except ValueError:  # not a date (a hand-placed manifest): nothing to bound the years by
        return []
    earliest = min(days) - dt.timedelta(days=2 * max(counts, default=0) + 10)
    return sorted(y for y in published if earliest.year <= y <= max(days).year)


def _published_years(ctx: RunContext) -> set[int]:
    db = layout.DATABASE
    if ctx.catalog.get_table(db, layout.PUBLISHED_TABLE) is None:
        return set()
    return {int(p.values["trade_year"]) for p in ctx.catalog.list_partitions(db, layout.PUBLISHED_TABLE)}


def _reset(ctx: RunContext, location: str) -> None:
    # A re-run of this stage replaces its own temporary output (never anything published).
    ctx.storage.delete(ctx.storage.list_keys(location))


def _leave_out_unchanged(ctx: RunContext, temp, fetched_location: str, fetched_rows: int, keys_repeat: bool,
                         published: set[int], compared: list[int]) -> int:
    """Register what was written as stocks.tmp_daily_prices_fetched and point
    stocks.tmp_daily_prices at its rows that are not published as they are; their count.
    `compared`: the published years the typing pass marked the rows against (none if it did not)."""
    db = layout.DATABASE
    ctx.catalog.create_table(tables.temp_fetched(ctx.run_id, fetched_location), replace=True)
    years = [int(r["trade_year"]) for r in ctx.engine.query(sql_files.render("wap/write_temp/trade_years.sql")).to_pylist()
             if r["trade_year"] is not None and int(r["trade_year"]) in published]
    if not years:  # nothing published where these rows fall: every row is new (a backfill)
        return fetched_rows
    changed = dataclasses.replace(temp, location=temp.location + "changed/")
    if compared and not keys_repeat and set(years) <= set(compared):
        select = sql_files.render("wap/write_temp/not_published_as_is.sql")
    else:
        select = sql_files.render("wap/write_temp/changed_rows.sql", {"trade_years": years, "keys_repeat": keys_repeat})
    _write_staged(ctx, changed, select)
    counted = ctx.engine.query(sql_files.render("wap/write_temp/count_rows.sql", {"table": Identifier(f"{db}.{temp.name}")}))
    return int(counted.column("row_count")[0].as_py())


def _typed_rows_sql(runs: list[ingest_queue.IngestRun], compared: list[int], *, keep_text: bool) -> str:
    params = typed_raw.typed_rows_params(runs, keep_text=keep_text)
    if not compared:
        return sql_files.render(typed_raw.TYPING, params)
    return sql_files.render("wap/write_temp/published_as_is.sql",
                            {"typed_rows": sql_files.subquery(typed_raw.TYPING, params), "trade_years": compared})


def _write_staged(ctx: RunContext, staged, select: str) -> None:
    """`select` written as Parquet, a file per trade_year, and registered as the table `staged`."""
    ctx.engine.write_parquet(select, staged.location, cluster_by="trade_year")
    failpoints.hit("write_temp.after_data_write", staged.location)
    ctx.catalog.create_table(staged, replace=True)


def run(ctx: RunContext) -> dict:
    """Build stocks.tmp_daily_prices for the ingest runs this pipeline run processes."""
    migrate.refuse_if_pending(ctx, "write_temp")
    runs = ingest_queue.choose_ingest_runs(ctx.storage, ctx.run_id)
    db = layout.DATABASE

    fetches = tables.temp_fetches(ctx.run_id)
    _reset(ctx, fetches.location)
    ctx.storage.put_bytes(fetches.location + "fetches.csv", fetches_csv(runs))
    ctx.catalog.create_table(fetches, replace=True)

    temp = tables.temp_prices(ctx.run_id)
    _reset(ctx, temp.location)
    if not runs or ctx.catalog.get_table(db, layout.RAW_TABLE) is None:
        ctx.catalog.drop_table(db, temp.name)
        ctx.catalog.drop_table(db, layout.TEMP_FETCHED_TABLE)
        return {"status": "nothing to do: no pending ingest runs", "ingest_runs": 0,
                "raw_rows": 0, "temp_rows": 0, "duplicates_dropped": 0, "unchanged_rows": 0}

    # Every row read goes to Parquet first, one file per trade_year (no sort), the text as
    # received only for rows that did not parse, and the rows published as they are marked;
    # the reads and the duplicate check then run on that, and only a batch with duplicates is
    # rewritten.
    published = _published_years(ctx)
    compared = compared_years(runs, published)
    staged = dataclasses.replace(temp, location=temp.location + "read/")
    _write_staged(ctx, staged, _typed_rows_sql(runs, compared, keep_text=False))
    per_fetch = ctx.engine.query(sql_files.render("wap/write_temp/read_counts.sql")).to_pylist()
    read = {(r["ingest_run_id"], r["symbol"]): int(r["raw_rows"]) for r in per_fetch}
    raw_rows = temp_rows = sum(read.values())
    found = ctx.engine.query(sql_files.render("wap/write_temp/duplicates.sql"))
    duplicate_keys = int(found.column("duplicate_keys")[0].as_py())
    if duplicate_keys:
        # de-duplication tells exact copies from disagreeing rows by their whole line, and
        # rows sharing a key are no longer told apart by symbol and date: type again with
        # every row's text, unmarked
        compared = []
        texted = dataclasses.replace(temp, location=temp.location + "read-text/")
        _write_staged(ctx, texted, _typed_rows_sql(runs, compared, keep_text=True))
        ctx.storage.delete(ctx.storage.list_keys(staged.location))
        staged = texted
        deduplicated = dataclasses.replace(temp, location=temp.location + "deduplicated/")
        _write_staged(ctx, deduplicated, sql_files.render("wap/write_temp/dedupe.sql"))
        ctx.storage.delete(ctx.storage.list_keys(staged.location))
        counted = ctx.engine.query(sql_files.render("wap/write_temp/count_rows.sql", {"table": Identifier(f"{db}.{temp.name}")}))
        temp_rows = int(counted.column("row_count")[0].as_py())
        staged = deduplicated
    fetched_rows = temp_rows
    # de-duplicated, a batch can still repeat a key (a fetch's disagreeing rows): look again
    temp_rows = _leave_out_unchanged(ctx, temp, staged.location, fetched_rows, keys_repeat=duplicate_keys > 0,
                                     published=published, compared=compared)

    mismatches = compare_with_manifests(runs, read)
    for problem in mismatches[:20]:
        log.warning("write_temp: %s", problem)
    return {
        "ingest_runs": len(runs),
        "fetches": sum(len(r.fetches) for r in runs),
        "raw_rows": raw_rows,
        "manifest_rows": sum(r.expected_rows for r in runs),
        "fetched_rows": fetched_rows,
        "temp_rows": temp_rows,
        "unchanged_rows": fetched_rows - temp_rows,
        "duplicates_dropped": raw_rows - fetched_rows,
        "duplicate_keys": duplicate_keys,
        "manifest_mismatches": mismatches[:20],
        "temp_table": f"{db}.{temp.name}",
    }
