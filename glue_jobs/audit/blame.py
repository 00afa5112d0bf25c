"""Which ingest runs made the audit block, and the message that names them with the command
that takes a bad one out of the queue (tickerlake set-aside)."""
from __future__ import annotations

from glue_jobs.lake import ingest_queue, layout


def offenders(failed: list[dict], *, drifted_runs: dict[str, int], quarantined_by_run: dict[str, int],
              rows_by_run: dict[str, tuple[int, int]]) -> dict[str, str]:
    """Pure: which ingest runs made which batch rule fail, each with what it did.
    `rows_by_run` maps an ingest run to (rows read, rows its manifest lists)."""
    out: dict[str, list[str]] = {}
    names = {o["rule"] for o in failed}
    if "schema_as_expected" in names:
        for run_id, bodies in drifted_runs.items():
            out.setdefault(run_id, []).append(f"{bodies} body(ies) with another header")
    if "quarantine_share_below_threshold" in names:
        for run_id, n in sorted(quarantined_by_run.items(), key=lambda kv: -kv[1]):
            read = rows_by_run.get(run_id, (0, 0))[0]
            share = f" of {read}" if read else ""
            out.setdefault(run_id, []).append(f"{n}{share} rows quarantined")
    if "row_count_within_bounds" in names:
        for run_id, (read, expected) in sorted(rows_by_run.items()):
            if read < expected:
                out.setdefault(run_id, []).append(f"{read} rows read, its manifest lists {expected}")
    return {run_id: "; ".join(why) for run_id, why in out.items()}


def blocked_hint(offending: dict[str, str], ingest_dates: dict[str, str], flags: str = "") -> str:
    """Pure: the lines the audit adds to its blocked message, naming the ingest runs behind
    the block and the command that takes one out of the queue; `flags` point the commands at
    the run's lake (e.g. " --lake /data/lake", empty for the default ./lake)."""
    if not offending:
        return ""
    lines = ["  The ingest run(s) behind this block (they stay pending, so every later run blocks too):"]
    for run_id, why in offending.items():
        day = ingest_dates.get(run_id)
        lines.append(f"    - {run_id}" + (f" (ingest date {day})" if day else "") + f": {why}")
    first = next(iter(offending))
    lines.append(
        "  If one of them is bad, set it aside (it stays in raw and is recorded, no WAP processes it again), "
        f"then run the WAP again:\n    tickerlake set-aside{flags} --ingest-run {first} --reason \"<why>\" "
        f"&& tickerlake wap{flags}"
    )
    return "\n".join(lines)


def blocked_hint_for(ctx, runs: list[ingest_queue.IngestRun], failed: list[dict]) -> str:
    """The blocked-message lines for a failing audit of `runs` (see blocked_hint). Best effort:
    the block itself must be reported even if this cannot be worked out."""
    try:
        return blocked_hint(_offending(ctx, runs, failed), {r.run_id: r.ingest_date for r in runs},
                            str(ctx.settings.get("lake_flags") or ""))
    except Exception as exc:  # never hide the audit's own verdict behind a hint's failure
        ids = ", ".join(r.run_id for r in runs)
        return (f"  (could not attribute the block to an ingest run: {type(exc).__name__}: {exc}.) "
                f"This run processed ingest run(s) {ids}; a bad one can be set aside with "
                f"tickerlake set-aside{ctx.settings.get('lake_flags') or ''} --ingest-run RUN_ID --reason \"<why>\"")


def _offending(ctx, runs: list[ingest_queue.IngestRun], failed: list[dict]) -> dict[str, str]:
    from glue_jobs.lake import parquet, sql_files, tables

    drifted: dict[str, int] = {}
    if ctx.catalog.get_table(layout.DATABASE, layout.RAW_TABLE) is not None:
        for p in ctx.catalog.list_partitions(layout.DATABASE, layout.RAW_TABLE,
                                             where=ingest_queue.raw_partitions_of(runs)):
            run_id = p.values.get("ingest_run_id")
            if p.columns is not None:
                drifted[run_id] = drifted.get(run_id, 0) + 1
    quarantined: dict[str, int] = {}
    held = parquet.read_table(ctx.storage, tables.temp_quarantine(ctx.run_id).location, ["ingest_run_id"])
    if held is not None:
        for run_id in held.column("ingest_run_id").to_pylist():
            quarantined[run_id] = quarantined.get(run_id, 0) + 1
    read: dict[str, int] = {}
    if runs:
        counts = ctx.engine.query(sql_files.render("wap/audit/raw_counts.sql", ingest_queue.raw_sql_params(runs)))
        for row in counts.to_pylist():
            read[row["ingest_run_id"]] = read.get(row["ingest_run_id"], 0) + int(row["raw_rows"])
    rows = {r.run_id: (read.get(r.run_id, 0), r.expected_rows) for r in runs}
    return offenders(failed, drifted_runs=drifted, quarantined_by_run=quarantined, rows_by_run=rows)
