"""Audit: run the Great Expectations suite built from sql/wap/audit/daily_prices.yml on the
temporary table, chunk by chunk, quarantine failing rows with their reasons, and block the
publish when a batch rule fails.

Rows are read straight from the temp table's Parquet files (through Storage), in chunks of
at most `audit_chunk_rows` rows (setting; default 250,000), so memory stays bounded however
big a backfill is. The uniqueness rule needs the whole batch, so the duplicated keys are
found first by one engine query and looked up per row.

Outputs: stocks.tmp_daily_prices_quarantine (the failing rows, for publish to append to the
quarantine table), and the verdict at layout.audit_marker_key(run_id), which publish
requires: without a passing verdict for this run nothing is published.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa

from glue_jobs.audit import blame, raw_text, series_checks, series_rules
from glue_jobs.audit import rules as audit_rules
from glue_jobs.audit.ge_suite import SUITE_NAME, Suite  # noqa: F401  (built here by tests and the bench)
from glue_jobs.audit.row_checks import CheckedChunk, RowChecker
from glue_jobs.lake import (
    failpoints,
    ingest_queue,
    layout,
    sql_files,
    typed_raw,
)
from glue_jobs.lake import (
    parquet as lake_parquet,
)
from glue_jobs.lake import (
    tables as table_defs,
)
from glue_jobs.lake.context import RunContext
from glue_jobs.lake.errors import AuditBlocked, PipelineError
from glue_jobs.ports.notifier import Alert
from glue_jobs.ports.storage import put_json

log = logging.getLogger(__name__)

DEFAULT_CHUNK_ROWS = 250_000


# -- reading the temp table ------------------------------------------------------------------------


def _row_groups(storage, keys: list[str]) -> list[tuple[int, int, int]]:
    out = []
    for file_no, key in enumerate(keys):
        meta = lake_parquet.open_file(storage, key).metadata
        out.extend((file_no, g, meta.row_group(g).num_rows) for g in range(meta.num_row_groups))
    return out


# Provenance only the quarantine needs: read for the chunks that have failing rows.
_WIDE_COLUMNS = ("raw_line", "source_file")
# Repeated text, read dictionary-encoded (pandas categories: no Python string per row).
_REPEATED_TEXT = ["symbol", "ingest_run_id", "ingest_date", "parse_error"]


def _read_chunk(storage, keys: list[str], chunk: list[tuple[int, int]], *, narrow: bool = False) -> pa.Table:
    by_file: dict[int, list[int]] = {}
    for file_no, group_no in chunk:
        by_file.setdefault(file_no, []).append(group_no)
    tables = []
    for f, groups in sorted(by_file.items()):
        if narrow:
            parquet = lake_parquet.open_file(storage, keys[f], read_dictionary=_REPEATED_TEXT)
            columns = [c for c in parquet.schema_arrow.names if c not in _WIDE_COLUMNS]
            tables.append(parquet.read_row_groups(groups, columns=columns))
        else:
            tables.append(lake_parquet.open_file(storage, keys[f]).read_row_groups(groups))
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def _quarantine_table(chunk: pa.Table, labels: dict[int, tuple[str, str]], run_id: str) -> pa.Table:
    positions = sorted(labels)
    rows = chunk.take(pa.array(positions, type=pa.int64()))
    schema = lake_parquet.schema_of([*table_defs.QUARANTINE_COLUMNS, table_defs.TRADE_YEAR])
    columns = {
        "symbol": rows.column("symbol"),
        "trade_date": rows.column("trade_date"),
        "open": rows.column("open"),
        "high": rows.column("high"),
        "low": rows.column("low"),
        "close": rows.column("close"),
        "volume": rows.column("volume"),
        "fetched_at": rows.column("fetched_at"),
        "ingest_run_id": rows.column("ingest_run_id"),
        "ingest_date": rows.column("ingest_date"),
        "source_file": rows.column("source_file"),
        "raw_line": rows.column("raw_line"),
        "rule": pa.array([labels[p][0] for p in positions], pa.string()),
        "reason": pa.array([labels[p][1] for p in positions], pa.string()),
        "run_id": pa.array([run_id] * len(positions), pa.string()),
        "trade_year": rows.column("trade_year"),
    }
    return pa.table({name: columns[name].cast(schema.field(name).type) for name in schema.names}, schema=schema)


def _count_by_year(years: pa.ChunkedArray, exclude: list[int] | None = None) -> dict[str, int]:
    values = years.to_numpy()
    if exclude:
        keep = np.ones(len(values), dtype=bool)
        keep[exclude] = False
        values = values[keep]
    found, counts = np.unique(values, return_counts=True)
    return {str(int(y)): int(n) for y, n in zip(found, counts)}


def _drifted(ctx: RunContext, runs: list[ingest_queue.IngestRun]) -> list[dict[str, str]]:
    if ctx.catalog.get_table(layout.DATABASE, layout.RAW_TABLE) is None:
        return []
    # this run's partitions, not the raw table's history (on Glue, a filtered GetPartitions)
    where = ingest_queue.raw_partitions_of(runs)
    return [
        {"partition": p.location, "header": ",".join(c.name for c in p.columns or [])}
        for p in ctx.catalog.list_partitions(layout.DATABASE, layout.RAW_TABLE, where=where)
        if p.columns is not None
    ]



def _write_temp_counts(ctx: RunContext) -> dict[str, Any]:
    """What this run's write_temp counted as it wrote the temp table (raw rows read, keys
    with more than one row), from the run log; empty when it is not there (a stage run on
    its own), and the audit counts again."""
    from glue_jobs.lake.run_log import RunLog

    stage = RunLog.load_or_new(ctx.storage, ctx.run_id).get("stages", {}).get("write_temp", {})
    return dict(stage.get("counts") or {}) if stage.get("status") == "succeeded" else {}

def _count_unchanged(ctx: RunContext) -> int:
    """Rows write_temp left out as published already: the fetched rows less the temp table's."""
    if ctx.catalog.get_table(layout.DATABASE, layout.TEMP_FETCHED_TABLE) is None:
        return 0
    counts = [
        int(ctx.engine.query(sql_files.render("wap/write_temp/count_rows.sql", {"table": sql_files.Identifier(
            f"{layout.DATABASE}.{name}")})).column("row_count")[0].as_py())
        for name in (layout.TEMP_FETCHED_TABLE, layout.TEMP_TABLE)
    ]
    return counts[0] - counts[1]

# -- the stage -------------------------------------------------------------------------------------


def run(ctx: RunContext) -> dict:
    """Audit stocks.tmp_daily_prices; raise AuditBlocked if a batch rule fails."""
    started = time.monotonic()
    book = audit_rules.load_rules()
    limits = audit_rules.thresholds(book, ctx.settings)
    chunk_rows = int(ctx.settings.get("audit_chunk_rows") or DEFAULT_CHUNK_ROWS)
    runs = ingest_queue.choose_ingest_runs(ctx.storage, ctx.run_id)
    db = layout.DATABASE
    marker = layout.audit_marker_key(ctx.run_id)
    ctx.storage.delete([marker])  # a re-run's verdict replaces the old one, never adds to it

    quarantine = table_defs.temp_quarantine(ctx.run_id)
    ctx.storage.delete(ctx.storage.list_keys(quarantine.location))
    ctx.catalog.create_table(quarantine, replace=True)

    temp = ctx.catalog.get_table(db, layout.TEMP_TABLE)
    if not runs or temp is None:
        put_json(ctx.storage, marker, {"run_id": ctx.run_id, "passed": True, "skipped": True, "ingest_run_ids": [],
                                       "good_rows_by_year": {}, "quarantined_rows_by_year": {}})
        return {"status": "nothing to audit: no pending ingest runs", "audited_rows": 0,
                "quarantined_rows": 0, "good_rows": 0}
    if temp.properties.get("wap_run_id") != ctx.run_id:
        raise PipelineError(
            f"audit: {db}.{temp.name} was written by run {temp.properties.get('wap_run_id')}, not this run "
            f"{ctx.run_id}; run drop_temp and write_temp of this run first"
        )

    run_ids = [r.run_id for r in runs]
    written = _write_temp_counts(ctx)
    if "raw_rows" in written:
        rows_read = int(written["raw_rows"])
    else:
        per_fetch = ctx.engine.query(sql_files.render("wap/audit/raw_counts.sql", ingest_queue.raw_sql_params(runs)))
        rows_read = sum(int(v) for v in per_fetch.column("raw_rows").to_pylist())
    unchanged = int(written["unchanged_rows"]) if "unchanged_rows" in written else _count_unchanged(ctx)
    rows_for_key: dict[tuple[str, str], int] = {}
    if written.get("duplicate_keys", 1):
        duplicated = ctx.engine.query(sql_files.render("wap/audit/duplicate_keys.sql")).to_pylist()
        rows_for_key = {(d["symbol"], d["trade_day"]): int(d["row_count"]) for d in duplicated}
    # The engine works out the whole-series facts (the jumps the jump rule looks up, then the
    # warnings) while the rows are checked here: pandas on one core, DuckDB on the others.
    # The rows are checked as if no bar jumped; nothing is recorded before the jumps are
    # known, and if some bar did jump (a data error, rare) every row is checked again with them.
    background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-series")
    jumps_done = background.submit(series_checks.gather_jumps, ctx.engine, book)
    # unknown (a stage run on its own) counts as repeating: the distinct count is right either way
    warnings_done = background.submit(series_checks.gather_warnings, ctx.engine, book, limits,
                                      keys_repeat=written.get("duplicate_keys", 1) != 0)

    keys = lake_parquet.data_files(ctx.storage, temp.location)
    chunks = audit_rules.plan_chunks(_row_groups(ctx.storage, keys), chunk_rows)
    failing_by_rule = {r.name: 0 for r in book.row_rules}
    examples: dict[str, str] = {}
    rows_by_year: dict[str, int] = {}
    quarantined_by_year: dict[str, int] = {}
    audited = quarantined = 0

    def with_text(checked: CheckedChunk) -> None:
        """Give the failing rows write temp typed without their text their raw line and source
        file (raw_text), before the reasons and the quarantine use them."""
        if not checked.positions:  # nothing failed: the chunk was never read with its text
            return
        wanted = raw_text.missing(checked.failing_table)
        if not wanted.num_rows:
            return
        of_runs = set(wanted.column("ingest_run_id").to_pylist())
        texts = ctx.engine.query(typed_raw.typed_rows_sql(
            [r for r in runs if r.run_id in of_runs], keep_text=True,
            symbols=sorted(set(wanted.column("symbol").to_pylist()))))
        checked.failing_table = raw_text.fill(checked.failing_table, texts)
        for position, row in zip(checked.positions, checked.failing_table.select(list(raw_text.TEXT_COLUMNS)).to_pylist()):
            checked.rows[position].update(row)

    def record(checked: CheckedChunk) -> None:
        nonlocal audited, quarantined
        with_text(checked)
        labels = audit_rules.quarantine_labels(checked.failing, checked.rows, book, ctx.as_of)
        for rule, ps in checked.failing.items():
            failing_by_rule[rule] += len(ps)
            if ps and rule not in examples:
                examples[rule] = audit_rules.reason_for(
                    next(r for r in book.row_rules if r.name == rule),
                    audit_rules.row_values(checked.rows[ps[0]], ctx.as_of),
                )
        for year, n in checked.rows_by_year.items():
            rows_by_year[year] = rows_by_year.get(year, 0) + n
        if labels:
            q = _quarantine_table(checked.failing_table, {i: labels[p] for i, p in enumerate(checked.positions)},
                                  ctx.run_id)
            part = f"{quarantine.location}part-{checked.number:05d}.parquet"
            lake_parquet.write_table(ctx.storage, part, q)
            failpoints.hit("audit.after_quarantine_write", part)
            for year, n in _count_by_year(q.column("trade_year")).items():
                quarantined_by_year[year] = quarantined_by_year.get(year, 0) + n
        audited += checked.num_rows
        quarantined += len(labels)

    ge_seconds = 0.0
    chunks_in_full = 0
    if ctx.ge_worker is not None:  # the local runtime: GE runs in its worker process
        def suite_for(rules):
            return ctx.ge_worker.suite_for(book, rules)
    else:
        def suite_for(rules):
            return Suite(book, rules)

    def check_rows(jumps: dict, known: bool) -> bool:
        """Check every chunk; False (nothing recorded) when jumps turn out to matter."""
        nonlocal ge_seconds, chunks_in_full

        def read(number: int, narrow: bool = False) -> pa.Table:
            return series_rules.with_jumps(_read_chunk(ctx.storage, keys, chunks[number], narrow=narrow), jumps)

        checker = RowChecker(book, as_of=ctx.as_of, rows_for_key=rows_for_key,
                             suite_for=suite_for, reread=read)
        try:
            for number in range(len(chunks) + 1):
                done = checker.check(number, read(number, narrow=True)) if number < len(chunks) else checker.finish()
                if done and not known:
                    if jumps_done.result():
                        return False
                    known = True
                for checked in done:
                    record(checked)
            if not known and jumps_done.result():
                return False
            return True
        finally:
            ge_seconds += checker.ge_seconds
            chunks_in_full += checker.chunks_in_full

    try:
        if not check_rows({}, known=False):
            check_rows(jumps_done.result(), known=True)
    finally:
        background.shutdown(wait=True)  # never leave a query running behind a failed audit
    warnings = warnings_done.result()
    good_by_year = {y: n - quarantined_by_year.get(y, 0) for y, n in rows_by_year.items()}
    good_by_year = {y: n for y, n in good_by_year.items() if n > 0}

    outcomes = [
        audit_rules.outcome(r.name, "row", failing_by_rule[r.name] == 0, failing_by_rule[r.name],
                            "every row", failing_by_rule[r.name], examples.get(r.name))
        for r in book.row_rules
    ]
    outcomes += audit_rules.evaluate_batch(
        book, limits,
        drifted=_drifted(ctx, runs),
        rows_read=rows_read,
        expected_rows=sum(r.expected_rows for r in runs),
        audited_rows=audited,
        quarantined_rows=quarantined,
        unchanged_rows=unchanged,
    )
    outcomes += warnings
    result: dict[str, Any] = {
        "audited_rows": audited,
        "quarantined_rows": quarantined,
        "good_rows": audited - quarantined,
        "unchanged_rows": unchanged,
        "rows_read": rows_read,
        "chunks": len(chunks),
        "chunks_validated_in_full": chunks_in_full,
        "ge_seconds": round(ge_seconds, 3),
        "seconds": round(time.monotonic() - started, 3),
        "rules": outcomes,
    }
    failed = [o for o in outcomes if o["kind"] == "batch" and not o["success"]]
    if failed:
        result["blocked_by"] = [o["rule"] for o in failed]
        message = audit_rules.blocked_message(ctx.run_id, failed)
        hint = blame.blocked_hint_for(ctx, runs, failed)  # which ingest runs, and how to set one aside
        message = f"{message}\n{hint}" if hint else message
        ctx.notifier.send([Alert(
            rule="audit_blocked",
            subject=f"audit blocked run {ctx.run_id}: {', '.join(result['blocked_by'])}",
            message=message,
            run_id=ctx.run_id,
            details={"rules": failed},
        )])
        error = AuditBlocked(message)
        error.details = result  # the run log records every rule's outcome of a blocked run too
        raise error
    failpoints.hit("audit.before_verdict", ctx.run_id)
    put_json(ctx.storage, marker, {
        "run_id": ctx.run_id,
        "passed": True,
        "ingest_run_ids": run_ids,
        "good_rows_by_year": good_by_year,
        "quarantined_rows_by_year": quarantined_by_year,
        "rules": outcomes,
    })
    return result
