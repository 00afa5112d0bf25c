"""Drop temp: remove the previous run's temporary tables (stocks.tmp_*) and their files,
plus anything else left under tmp/ (a crashed run's orphans, an old audit verdict), so this
run's write-temp starts from nothing and never reads a stale row.

First, as the first stage of every WAP (locally and on AWS), it migrates a lake written by an
older tickerlake (glue_jobs/lake/migrate.py); the counts say what, when there was something."""
from __future__ import annotations

from glue_jobs.lake import layout, migrate
from glue_jobs.lake.context import RunContext


def run(ctx: RunContext) -> dict:
    migrated = migrate.run(ctx)
    db = layout.DATABASE
    dropped = []
    deleted = 0
    for name in ctx.catalog.list_tables(db):
        if not name.startswith(layout.TEMP_TABLE_PREFIX):
            continue
        table = ctx.catalog.get_table(db, name)
        ctx.catalog.drop_table(db, name)
        dropped.append(name)
        if table is not None and table.location.startswith(layout.TMP_PREFIX):
            keys = ctx.storage.list_keys(table.location)
            ctx.storage.delete(keys)
            deleted += len(keys)
    leftovers = ctx.storage.list_keys(layout.TMP_PREFIX)
    ctx.storage.delete(leftovers)
    counts = {"tables_dropped": len(dropped), "files_deleted": deleted + len(leftovers), "dropped": dropped}
    return {**counts, "migrated": migrated} if migrated else counts
