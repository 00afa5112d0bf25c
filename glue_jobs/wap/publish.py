"""Publish: merge the audited rows into stocks.daily_prices and append the quarantined ones
to stocks.daily_prices_quarantine, touching only the trade_year partitions this run has
rows for.

Per partition: the merge (sql/wap/publish/merge.sql, sql/wap/publish/quarantine.sql) is written to a
fresh location (a year with nothing to merge, a backfill's, takes sql/wap/publish/fresh_year.sql), compared with the current version by content checksum, and either dropped
(unchanged: re-running a day changes nothing) or kept; then one catalog call switches every
kept partition of the table (the local catalog does that atomically). A year of
stocks.daily_prices is written in segments by trade date (glue_jobs/lake/segments.py): only
the segments the run's rows fall in are merged (merge.sql with the segment's dates); the
others' files are carried from the current version into the new one as they are
(Storage.carry), with their manifest entries. Nothing published is
ever deleted or overwritten here: old versions stay until the janitor removes them.

Each kept version gets a manifest beside its files (glue_jobs/lake/version_manifest.py: every
file with its bytes, rows and SHA-256), also recorded in the run log's publish record, which
`tickerlake doctor` checks the lake against. Before merging, the current version of every
touched partition is checked against its manifest: a damaged one stops the run, naming the
file and `tickerlake doctor --repair`. Damage in partitions the run does not touch is only
reported (a warning in the log and in the stage's details): it does not block the run.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from dataclasses import dataclass
from typing import Callable

from glue_jobs.lake import (
    failpoints,
    layout,
    merge_plan,
    migrate,
    parquet,
    publish_record,
    published_changes,
    segments,
    sql_files,
    tables,
    version_manifest,
)
from glue_jobs.lake.context import RunContext
from glue_jobs.lake.errors import PipelineError
from glue_jobs.lake.run_log import RunLog
from glue_jobs.ports.catalog import Partition, TableDef
from glue_jobs.ports.storage import NotFound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    table: TableDef
    sql: str  # the merge, one partition at a time
    rows_by_year_key: str  # where the audit verdict lists the run's rows per trade_year
    fresh_sql: str | None = None  # a partition with nothing to merge (see fresh_years)
    segmented: bool = False  # a year in segments by trade date (glue_jobs/lake/segments.py)


PRICES = Target(tables.daily_prices(), "wap/publish/merge.sql", "good_rows_by_year", "wap/publish/fresh_year.sql",
                segmented=True)
QUARANTINE = Target(tables.daily_prices_quarantine(), "wap/publish/quarantine.sql", "quarantined_rows_by_year")


def audit_verdict(ctx: RunContext) -> dict:
    key = layout.audit_marker_key(ctx.run_id)
    try:
        verdict = json.loads(ctx.storage.get_bytes(key))
    except NotFound:
        verdict = None
    if not verdict or not verdict.get("passed"):
        raise PipelineError(
            f"publish: run {ctx.run_id} has no passing audit verdict ({ctx.storage.uri(key)}); nothing was "
            f"published. Run the audit of this run first (tickerlake wap runs every stage in order)."
        )
    return verdict



def _damage(ctx: RunContext, name: str, current: dict[str, str], years: list[str]) -> list[str]:
    """Stop on a damaged current version of a touched partition (the merge would read it);
    return warnings for damaged untouched ones (cheap look: sizes and footers, no checksums)."""
    warnings, blocking = [], []
    for year, location in sorted(current.items()):
        problems = version_manifest.check(ctx.storage, location, checksum=False)
        if not problems:
            continue
        line = f"stocks.{name} trade_year={year} ({location}): " + "; ".join(problems)
        (blocking if year in years else warnings).append(line)
    for line in warnings:
        log.warning("publish: damaged partition this run does not touch, left as it is: %s; "
                    "run `tickerlake doctor --repair`", line)
    if blocking:
        raise PipelineError(
            f"publish: run {ctx.run_id} merges into damaged partition(s), so nothing was published:\n  "
            + "\n  ".join(blocking)
            + "\n  Run `tickerlake doctor --repair` (it restores the partition from its manifest-checked "
              "history or says how to re-publish it from raw), then run again."
        )
    return warnings


def fresh_years(years: list[str], current: dict[str, str], quarantined_by_year: dict[str, int],
                duplicate_keys: int | None) -> set[str]:
    """Pure: the years whose merge has nothing to merge, so their partition is the run's rows as
    they are: no published version, none of the year's rows quarantined, and one row per symbol
    and date in the whole run (write temp's count; None, unknown, is not zero)."""
    if duplicate_keys != 0:
        return set()
    return {y for y in years if y not in current and not quarantined_by_year.get(y)}


def _duplicate_keys(ctx: RunContext) -> int | None:
    """The symbol/date keys with more than one row that this run's write temp found (None when
    its run log does not say: a stage run on its own)."""
    stage = RunLog.load_or_new(ctx.storage, ctx.run_id).get("stages", {}).get("write_temp", {})
    counts = stage.get("counts") or {}
    if stage.get("status") != "succeeded" or "duplicate_keys" not in counts:
        return None
    return int(counts["duplicate_keys"])


def _staged_dates(ctx: RunContext) -> dict[str, list[dt.date]]:
    """trade_year -> the trade dates of the run's staged rows."""
    rows = ctx.engine.query(sql_files.render("wap/publish/staged_dates.sql")).to_pylist()
    out: dict[str, list[dt.date]] = {}
    for row in rows:
        out.setdefault(str(row["trade_year"]), []).append(row["trade_date"])
    return out


def _write_segments(ctx: RunContext, sql: str, write: merge_plan.PartitionWrite, fresh: bool,
                    staged_dates: Callable[[], dict[str, list[dt.date]]]) -> tuple[list[str], bool | None, dict[str, dict]]:
    """One partition's new version, segment by segment: the segments the run's rows fall in
    merged (each written to a scratch folder under tmp/, whose files are then carried in under
    their segment names), the others carried from the current version as they are. Returns the
    version's keys; whether it holds the current version's rows (None: not known without
    reading both whole); and the carried files' manifest entries."""
    year = int(write.values["trade_year"])
    manifest = None if fresh or write.current is None else _readable_manifest(ctx, write.current)
    current_keys = [f["key"] for f in manifest["files"]] if manifest else []
    split = len(segments.layout(year, ctx.as_of)) > 1
    # one segment: the run has rows in it (publish touches only years it has rows for)
    dates = staged_dates().get(str(year), []) if manifest and split else None
    steps = segments.plan(year, ctx.as_of, current_keys if manifest else ["part-00000.parquet"], dates)
    entries = {f["key"]: f for f in manifest["files"]} if manifest else {}
    scratch = f"{layout.TMP_PREFIX}publish/{write.target}"
    ctx.storage.delete(ctx.storage.list_keys(scratch))  # an earlier attempt's
    keys: list[str] = []
    carried: dict[str, dict] = {}
    same: bool | None = True
    for step in steps:
        segment = step.segment
        if isinstance(step, segments.Carry):
            dests = _carry_in(ctx, step.keys, write.target, segment)
            keys += dests
            carried.update({dest: entries[key] for key, dest in zip(step.keys, dests)})
            continue
        params = {"trade_year": year, "first_date": segment.first, "last_date": segment.last}
        written = ctx.engine.write_parquet(sql_files.render(sql, params), f"{scratch}{segment.first:%Y%m%d}/")
        mine = _carry_in(ctx, written, write.target, segment)
        ctx.storage.delete(written)
        keys += mine
        before = [k for k in current_keys if segments.of_key(k) == segment]
        if same and before:
            same = parquet.same_rows_of_files(ctx.storage, before, mine)
        elif same:
            same = None  # the segments are cut anew: the whole versions are compared
    if manifest is None:
        same = None
    return keys, same, carried


def _carry_in(ctx: RunContext, keys: list[str], target: str, segment: segments.Segment) -> list[str]:
    """`keys` carried into the new version at `target` under the segment's file names (the
    current version's settled files as they are, or a merged segment from its scratch folder)."""
    dests = [target + segment.file_name(number) for number in range(len(keys))]
    for key, dest in zip(keys, dests):
        ctx.storage.carry(key, dest)
    return dests


def _readable_manifest(ctx: RunContext, location: str) -> dict | None:
    """The current version's manifest, whose entries carried files take (None: none readable)."""
    try:
        return version_manifest.read(ctx.storage, location)
    except ValueError:
        return None


def _publish(ctx: RunContext, target: Target, years: list[str], *, held: dict[str, int] | None = None,
             duplicate_keys: int | None = None) -> dict:
    db, name = target.table.database, target.table.name
    if ctx.catalog.get_table(db, name) is None:
        ctx.catalog.create_table(target.table)
    current = {p.values["trade_year"]: p.location for p in ctx.catalog.list_partitions(db, name)}
    damaged_elsewhere = _damage(ctx, name, current, years)
    occupied = parquet.versions_on_disk(ctx.storage, name, "trade_year", years)
    writes = merge_plan.plan_writes(name, "trade_year", years, current, ctx.run_id, occupied)
    fresh = fresh_years(years, current, held or {}, duplicate_keys) if target.fresh_sql else set()
    switch: list[Partition] = []
    previous: dict[str, str | None] = {}  # what each switched partition pointed to: rollback's way back
    unchanged: list[str] = []
    manifests: dict[str, dict] = {}
    limit = merge_plan.max_partitions(ctx.settings)
    staged_dates = functools.lru_cache(maxsize=None)(lambda: _staged_dates(ctx))
    for group in merge_plan.statements(writes, limit):
        for write in group:
            year = write.values["trade_year"]
            sql = target.fresh_sql if year in fresh else target.sql
            if target.segmented:
                keys, same, carried = _write_segments(ctx, sql, write, year in fresh, staged_dates)
            else:
                keys, carried = ctx.engine.write_parquet(sql_files.render(sql, {"trade_year": int(year)}),
                                                         write.target), {}
                same = None
            failpoints.hit("publish.after_data_write", f"{name}/trade_year={year}")
            if same is None and write.current is not None:
                same = parquet.same_rows(ctx.storage, write.current, write.target)
            if same:
                # never visible to a reader: the catalog still points at the current version
                ctx.storage.delete(keys)
                unchanged.append(year)
                continue
            switch.append(Partition(dict(write.values), write.target))
            previous[year] = write.current
            manifests[year] = version_manifest.build(ctx.storage, write.target, table=name,
                                                     values=dict(write.values), run_id=ctx.run_id, carried=carried)
            version_manifest.write(ctx.storage, write.target, manifests[year])
            failpoints.hit("publish.between_partitions", f"{name}/trade_year={year}")
    failpoints.hit("publish.before_switch", name)
    publish_record.record_publish(ctx, name, {p.values["trade_year"]: (p.location, previous[p.values["trade_year"]])
                                        for p in switch}, manifests)
    for group in merge_plan.chunked(switch, limit):
        ctx.catalog.switch_partitions(db, name, group)
    return {
        "written": [p.values["trade_year"] for p in switch],
        "fresh": sorted(fresh),
        "unchanged": unchanged,
        "locations": {p.values["trade_year"]: p.location for p in switch},
        "previous": previous,
        "damaged_untouched_partitions": damaged_elsewhere,
    }


def run(ctx: RunContext) -> dict:
    """Publish this run's audited and quarantined rows."""
    verdict = audit_verdict(ctx)
    migrate.refuse_if_pending(ctx, "publish")
    good = {str(k): int(v) for k, v in verdict.get("good_rows_by_year", {}).items() if int(v) > 0}
    held = {str(k): int(v) for k, v in verdict.get("quarantined_rows_by_year", {}).items() if int(v) > 0}
    prices = _publish(ctx, PRICES, sorted(good), held=held, duplicate_keys=_duplicate_keys(ctx))
    # what the switch changed, for the serving table's loader (it compares the versions without it)
    published_changes.record(ctx, {y: (loc, prices["previous"][y]) for y, loc in prices["locations"].items()})
    # daily_prices is switched: announce it (the serving table's event). The serve stage announces
    # again, so a crash right here loses nothing.
    manifest = publish_record.announce(ctx)
    failpoints.hit("publish.between_tables", ctx.run_id)
    quarantine = _publish(ctx, QUARANTINE, sorted(held))
    log.info("published %d rows of run %s: partitions written %s, unchanged %s", sum(good.values()),
             ctx.run_id, prices["written"], prices["unchanged"])
    return {
        "published_rows": sum(good.values()),
        "quarantined_rows_published": sum(held.values()),
        "partitions_written": len(prices["written"]),
        "partitions_unchanged": len(prices["unchanged"]),
        "partitions_fresh": len(prices["fresh"]),
        "quarantine_partitions_written": len(quarantine["written"]),
        "quarantine_partitions_unchanged": len(quarantine["unchanged"]),
        "daily_prices": prices,
        "daily_prices_quarantine": quarantine,
        "published_manifest": manifest,
        "status": "nothing to publish" if verdict.get("skipped") else "published",
    }
