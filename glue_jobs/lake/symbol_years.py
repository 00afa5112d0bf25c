"""stocks.symbol_years: one row per symbol and trade_year of stocks.daily_prices, with the
symbol's first and newest trade date in that year and its bars there. The dashboard's
lake-wide panels read it instead of the 25 million bars (sql/panels/freshness.sql,
sql/panels/variables/, each symbol's newest bar in high_low_52w.sql), on DuckDB and
on Athena alike.

Derived data, kept equal to what sql/symbol_years/summarize_year.sql gives on the published
table. It is partitioned by trade_year, and each year's summary is named after the version of
the year it summarizes (warehouse/symbol_years/trade_year=Y/v=R/ for
warehouse/daily_prices/trade_year=Y/v=R/), so the two catalogs alone say which years are
behind. `sync` brings every such year to the summary of its current version, whatever moved
it (a day's publish, a corrected old bar, a rollback, a migration): after publish calls it on
both runtimes, and so does a rollback. A summary written for a version stays beside it, so a
rollback to that version switches back to it without a query.

    plan(prices, summaries)   pure: which years to switch to which summary, which to drop
    sync(ctx)                 write what is missing, switch, through the ports (I/O)
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from glue_jobs.lake import layout, merge_plan, sql_files, version_manifest
from glue_jobs.lake.context import RunContext
from glue_jobs.ports.catalog import Catalog, Column, Partition, TableDef

log = logging.getLogger(__name__)

NAME = "symbol_years"
SQL = "symbol_years/summarize_year.sql"
TRADE_YEAR = "trade_year"
# the manifest field naming the stocks.daily_prices version a summary was made from
SUMMARIZES = "summarizes"

COLUMNS = [
    Column("symbol", "string"),
    Column("first_date", "date"),
    Column("newest_date", "date"),
    Column("bars", "bigint"),
]


def table() -> TableDef:
    return TableDef(
        database=layout.DATABASE,
        name=NAME,
        location=layout.table_prefix(NAME),
        format="parquet",
        columns=list(COLUMNS),
        partition_keys=[Column(TRADE_YEAR, "int")],
        properties={"classification": "parquet"},
    )


def summary_location(year: str, prices_location: str) -> str:
    """Pure: where the summary of the stocks.daily_prices version at `prices_location` goes:
    the same partition and version folder under this table (or, for a location outside the
    published table's prefix, a folder named by its digest)."""
    prices_prefix = layout.table_prefix(layout.PUBLISHED_TABLE)
    location = prices_location if prices_location.endswith("/") else prices_location + "/"
    if location.startswith(prices_prefix) and location.count("/") > prices_prefix.count("/"):
        return layout.table_prefix(NAME) + location[len(prices_prefix):]
    digest = hashlib.sha256(location.encode()).hexdigest()[:16]
    return layout.partition_version_prefix(NAME, {TRADE_YEAR: year}, f"of-{digest}")


@dataclass
class Plan:
    switch: dict[str, tuple[str, str]] = field(default_factory=dict)  # year -> (summary location, prices location)
    drop: list[str] = field(default_factory=list)  # years no longer in stocks.daily_prices


def plan(prices: dict[str, str], summaries: dict[str, str]) -> Plan:
    """Pure: `prices` and `summaries` map a trade_year to its current location in each table.
    Every year whose summary is not the one of its current prices version is switched to it."""
    out = Plan()
    for year, location in sorted(prices.items()):
        target = summary_location(year, location)
        if summaries.get(year) != target:
            out.switch[year] = (target, location)
    out.drop = sorted(set(summaries) - set(prices))
    return out


def locations(catalog: Catalog, name: str) -> dict[str, str]:
    """trade_year -> current location of each partition of stocks.`name` (none for a table not
    in the catalog yet): what plan() compares, for sync and for doctor's check alike."""
    if catalog.get_table(layout.DATABASE, name) is None:
        return {}
    return {p.values[TRADE_YEAR]: p.location for p in catalog.list_partitions(layout.DATABASE, name)}


def _ensure_table(ctx: RunContext) -> None:
    declared = table()
    current = ctx.catalog.get_table(layout.DATABASE, NAME)
    if current is None:
        ctx.catalog.create_table(declared)
    elif [(c.name, c.type) for c in current.columns] != [(c.name, c.type) for c in declared.columns]:
        # new columns: the definition follows the code; the partitions stay registered
        ctx.catalog.create_table(declared, replace=True)


def _made_from(ctx: RunContext, location: str) -> str | None:
    """The prices version the summary at `location` was made from (None: none there yet, or a
    write that never finished: its manifest, written last, is missing or damaged)."""
    try:
        manifest = version_manifest.read(ctx.storage, location)
    except ValueError:
        return None
    return (manifest or {}).get(SUMMARIZES)


def _write(ctx: RunContext, year: str, target: str, source: str) -> bool:
    """The summary of the year at `target`; False when one made from `source` is there already."""
    if _made_from(ctx, target) == source:
        return False
    # files without a manifest naming `source`: a write that stopped before the switch, which
    # no reader has ever been pointed at
    ctx.storage.delete(ctx.storage.list_keys(target))
    ctx.engine.write_parquet(sql_files.render(SQL, {TRADE_YEAR: int(year)}), target)
    manifest = version_manifest.build(ctx.storage, target, table=NAME, values={TRADE_YEAR: year}, run_id=ctx.run_id)
    manifest[SUMMARIZES] = source
    version_manifest.write(ctx.storage, target, manifest)
    return True


def sync(ctx: RunContext) -> dict:
    """Bring stocks.symbol_years in step with stocks.daily_prices: each year whose summary was
    made from another version of it (or none) is switched to the summary of its current
    version, written first if it is not in the lake yet."""
    if ctx.catalog.get_table(layout.DATABASE, layout.PUBLISHED_TABLE) is None:
        return {"symbol_years_written": [], "symbol_years_reused": []}
    _ensure_table(ctx)
    todo = plan(locations(ctx.catalog, layout.PUBLISHED_TABLE), locations(ctx.catalog, NAME))
    written, reused = [], []
    for year, (target, source) in todo.switch.items():
        (written if _write(ctx, year, target, source) else reused).append(year)
    # a year switched again while its summary was written is left to the next sync, which
    # finds it behind; what was written for it may hold the other version's bars, so it goes:
    # the summary of a version never stands for another one
    now = locations(ctx.catalog, layout.PUBLISHED_TABLE)
    moved = sorted(y for y, (_, source) in todo.switch.items() if now.get(y) != source)
    for year in set(moved) & set(written):
        ctx.storage.delete(ctx.storage.list_keys(todo.switch[year][0]))
    switch = [Partition({TRADE_YEAR: y}, target) for y, (target, source) in todo.switch.items() if y not in moved]
    for group in merge_plan.chunked(switch, merge_plan.max_partitions(ctx.settings)):
        ctx.catalog.switch_partitions(layout.DATABASE, NAME, group)
    if todo.drop:
        ctx.catalog.drop_partitions(layout.DATABASE, NAME, [{TRADE_YEAR: y} for y in todo.drop])
    if moved:
        log.warning("symbol_years: trade_year %s of stocks.daily_prices moved while its summary was written; "
                    "the next after publish brings it", ", ".join(moved))
    return {"symbol_years_written": written, "symbol_years_reused": reused,
            **({"symbol_years_dropped": todo.drop} if todo.drop else {}),
            **({"symbol_years_behind": moved} if moved else {})}
