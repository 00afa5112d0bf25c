"""Bring a lake written by an older tickerlake up to today's names; run at the start of every
WAP (glue_jobs/wap/drop_temp.py), locally and on AWS, through the ports only.

ingest_run_id: before it, `run_id` named the ingest run in stocks.daily_prices, in the temp
tables and as the raw table's third partition key, while it named the pipeline run in the
quarantine and the ledger, so a join on it was silently wrong. Now the ingest run is
`ingest_run_id` in every table and `run_id` is always the pipeline run. A lake written before:

- stocks.raw_daily: the table definition's third partition key is renamed. Its partitions
  keep their values by position (Glue stores a partition's values as a list in the order of
  the table's keys; the local catalog renames them in the same document switch) and their
  locations: no raw object is moved or rewritten, the keys still say `run_id=`.
- stocks.daily_prices: each partition whose files still hold `run_id` is rewritten with the
  column renamed (sql/wap/migrate/ingest_run_id.sql, read through a temporary table that
  declares the old column) to a fresh version, checked to hold the same rows with the same
  values, and switched in the catalog as publish switches partitions (atomic per partition;
  locally every partition at once); the old versions stay for the janitor. Then the table
  definition is renamed.

Idempotent and safe after a crash: what is still to do is read from the catalog and from the
Parquet files' footers each time, a version is written once to a location never used before,
and the table definition changes last. Temp tables need nothing: drop_temp drops them.
"""
from __future__ import annotations

import dataclasses
import logging

from glue_jobs.lake import failpoints, layout, merge_plan, parquet, sql_files, tables
from glue_jobs.lake.context import RunContext
from glue_jobs.lake.errors import PipelineError
from glue_jobs.ports.catalog import CatalogError, Column, Partition, TableDef
from glue_jobs.ports.storage import Storage

log = logging.getLogger(__name__)

OLD, NEW = "run_id", "ingest_run_id"
OLD_RAW_KEYS = ["ingest_date", "symbol", OLD]
LEGACY_TABLE = "tmp_migrate_daily_prices"  # tmp_: a crashed migration's is dropped by drop_temp
SQL = "wap/migrate/ingest_run_id.sql"
HOW = "run `tickerlake wap` (or `tickerlake run`): its first WAP stage, drop_temp, migrates the lake"


class MigrationFailed(PipelineError):
    """The migration found something it cannot migrate safely; nothing published was lost."""


def _names(columns: list[Column]) -> list[str]:
    return [c.name for c in columns]


def file_columns(storage: Storage, location: str) -> set[str]:
    """The column names the Parquet files under `location` hold (from their footers)."""
    names: set[str] = set()
    for key in parquet.data_files(storage, location):
        names.update(parquet.open_file(storage, key).schema_arrow.names)
    return names


def written_before_rename(storage: Storage, location: str) -> bool:
    """Whether a version of a stocks.daily_prices partition still names the ingest run run_id."""
    names = file_columns(storage, location)
    return OLD in names and NEW not in names


def pending(ctx: RunContext) -> list[str]:
    """What in this lake still has the names of before (empty when nothing): from the table
    definitions, which the migration changes last."""
    out = []
    raw = ctx.catalog.get_table(layout.DATABASE, layout.RAW_TABLE)
    if raw is not None and _names(raw.partition_keys) != _names(tables.raw_daily().partition_keys):
        out.append(f"{raw.qualified} is partitioned by {', '.join(_names(raw.partition_keys))}")
    prices = ctx.catalog.get_table(layout.DATABASE, layout.PUBLISHED_TABLE)
    if prices is not None and NEW not in _names(prices.columns):
        out.append(f"{prices.qualified} has no column {NEW}")
    return out


def refuse_if_pending(ctx: RunContext, stage: str) -> None:
    """For the stages after drop_temp, run on their own: never read or write a lake whose
    tables still have the old names."""
    found = pending(ctx)
    if found:
        raise MigrationFailed(f"{stage}: the lake at {ctx.storage.root} was written before the ingest run was "
                              f"named {NEW} ({'; '.join(found)}); nothing was changed. To migrate it, {HOW}.")


def _raw_daily(ctx: RunContext) -> dict | None:
    db, name = layout.DATABASE, layout.RAW_TABLE
    existing, declared = ctx.catalog.get_table(db, name), tables.raw_daily()
    if existing is None or _names(existing.partition_keys) == _names(declared.partition_keys):
        return None
    if _names(existing.partition_keys) != OLD_RAW_KEYS:
        raise MigrationFailed(
            f"{existing.qualified} is partitioned by {', '.join(_names(existing.partition_keys))}, neither "
            f"{', '.join(OLD_RAW_KEYS)} (before {NEW}) nor {', '.join(_names(declared.partition_keys))}; "
            f"nothing was changed. Check the table's definition against glue_jobs/lake/tables.py raw_daily()."
        )
    before = ctx.catalog.list_partitions(db, name)
    renamed = dataclasses.replace(existing, partition_keys=list(declared.partition_keys))
    try:
        ctx.catalog.create_table(renamed, replace=True)
    except CatalogError as exc:
        raise MigrationFailed(
            f"renaming the partition key {OLD} of {existing.qualified} to {NEW} failed ({exc}); no raw object was "
            f"touched. On AWS, deploy infra/template.yaml (its RawDailyTable names the key {NEW}), then {HOW}."
        ) from exc
    after = ctx.catalog.list_partitions(db, name)
    was = sorted((tuple(p.values[k] for k in OLD_RAW_KEYS), p.location) for p in before)
    now = sorted((tuple(p.values[k.name] for k in declared.partition_keys), p.location) for p in after)
    if was != now:
        raise MigrationFailed(
            f"{existing.qualified}: after renaming the partition key {OLD} to {NEW} the catalog lists {len(now)} "
            f"partitions, before {len(before)}, or other values; no raw object was touched. Restore the raw table's "
            f"catalog document from a backup; the raw objects are all in place."
        )
    log.info("migrate: %s partition key %s renamed %s (%d partitions kept)", existing.qualified, OLD, NEW, len(after))
    return {"partition_key_renamed": f"{OLD} -> {NEW}", "partitions_kept": len(after)}


def _legacy_table(ctx: RunContext) -> TableDef:
    return TableDef(
        database=layout.DATABASE,
        name=LEGACY_TABLE,
        location=layout.temp_prefix(LEGACY_TABLE, ctx.run_id),
        format="parquet",
        columns=[Column(OLD if c.name == NEW else c.name, c.type) for c in tables.PRICE_COLUMNS],
        partition_keys=[tables.TRADE_YEAR],
        properties={"classification": "parquet", "wap_run_id": ctx.run_id},
    )


def _daily_prices(ctx: RunContext) -> dict | None:
    db, name = layout.DATABASE, layout.PUBLISHED_TABLE
    table, declared = ctx.catalog.get_table(db, name), tables.daily_prices()
    if table is None:
        return None
    columns = _names(table.columns)
    if NEW in columns and OLD not in columns:
        return None
    if columns != [OLD if c == NEW else c for c in _names(declared.columns)]:
        raise MigrationFailed(
            f"{table.qualified} has the columns {', '.join(columns)}, neither those of before {NEW} nor today's "
            f"({', '.join(_names(declared.columns))}); nothing was changed. Check its definition in the catalog."
        )
    current = ctx.catalog.list_partitions(db, name)
    # An earlier attempt may have switched some already: only versions still naming run_id.
    stale = [p for p in current if written_before_rename(ctx.storage, p.location)]
    switch: list[Partition] = []
    rows = 0
    if stale:
        legacy = _legacy_table(ctx)
        ctx.catalog.drop_table(db, legacy.name)  # a crashed attempt's, whatever it registered
        ctx.catalog.create_table(legacy)
        ctx.catalog.add_partitions(db, legacy.name, stale)
        years = [p.values["trade_year"] for p in stale]
        occupied = parquet.versions_on_disk(ctx.storage, name, "trade_year", years)
        at = {p.values["trade_year"]: p.location for p in stale}
        for write in merge_plan.plan_writes(name, "trade_year", years, at, ctx.run_id, occupied):
            year = write.values["trade_year"]
            ctx.engine.write_parquet(sql_files.render(SQL, {"trade_year": int(year)}), write.target)
            failpoints.hit("migrate.after_data_write", f"{name}/trade_year={year}")
            if not parquet.same_rows(ctx.storage, at[year], write.target, renamed={OLD: NEW}):
                raise MigrationFailed(
                    f"migrating {table.qualified} trade_year={year}: the rewritten version {write.target} does not "
                    f"hold the same rows as {at[year]}; nothing was switched, the table is as it was. Report this."
                )
            rows += parquet.row_count(ctx.storage, write.target)
            switch.append(Partition(dict(write.values), write.target))
        failpoints.hit("migrate.before_switch", name)
        for group in merge_plan.chunked(switch, merge_plan.max_partitions(ctx.settings)):
            ctx.catalog.switch_partitions(db, name, group)
        ctx.catalog.drop_table(db, legacy.name)
    # Last: once the definition names ingest_run_id, the lake is migrated.
    ctx.catalog.create_table(dataclasses.replace(table, columns=list(declared.columns)), replace=True)
    log.info("migrate: %s column %s renamed %s (%d partitions rewritten, %d rows)", table.qualified, OLD, NEW,
             len(switch), rows)
    return {"column_renamed": f"{OLD} -> {NEW}", "partitions_rewritten": len(switch), "rows_rewritten": rows,
            "locations": {p.values["trade_year"]: p.location for p in switch}}


def run(ctx: RunContext) -> dict:
    """Migrate what is still to migrate; {} when the lake is current."""
    out = {}
    for table, migrate in ((layout.RAW_TABLE, _raw_daily), (layout.PUBLISHED_TABLE, _daily_prices)):
        done = migrate(ctx)
        if done is not None:
            out[table] = done
    return out
