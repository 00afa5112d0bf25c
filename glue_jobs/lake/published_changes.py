"""The rows one publish changed in a partition of stocks.daily_prices, kept beside its published
manifest (manifests/published/changes/<run_id>/trade_year=<y>/<location digest>/), which names
them. The serving table's loader reads these few thousand rows instead of comparing the
partition's two versions (a year of 5,000 symbols is 1.15 M rows each); a manifest without them
(a rollback, one written before they existed, a crash between the switch and this record) is
compared as before.

Written by publish right after its switch (sql/wap/publish/changes.sql: the switched partition's
rows at the keys the run staged). The folder is named by the partition's new location, so a
retried run that switched again never has its manifest name rows of another version."""
from __future__ import annotations

import hashlib

from glue_jobs.lake import layout, sql_files
from glue_jobs.lake.context import RunContext
from glue_jobs.ports.storage import Storage

PREFIX = f"{layout.PUBLISHED_MANIFEST_PREFIX}changes/"  # no digit after the prefix: no serving event


def location(run_id: str, year: str, partition_location: str) -> str:
    digest = hashlib.sha256(partition_location.encode()).hexdigest()[:16]
    return f"{PREFIX}{run_id}/trade_year={year}/{digest}/"


def record(ctx: RunContext, switched: dict[str, tuple[str, str | None]]) -> dict[str, str]:
    """Write the changed rows of each switched partition (year -> (new location, previous));
    a partition new to the table has no previous version to differ from (the loader reads it
    whole) and gets none. Returns year -> the changes' location."""
    from glue_jobs.lake import parquet  # pyarrow: publish has it; what imports announce may not

    out = {}
    for year, (new, previous) in sorted(switched.items()):
        if previous is None:
            continue
        rows = ctx.engine.query(sql_files.render("wap/publish/changes.sql", {"trade_year": int(year)}))
        where = location(ctx.run_id, year, new)
        parquet.write_table(ctx.storage, f"{where}changes.parquet", rows)
        out[year] = where
    return out


def recorded(storage: Storage, run_id: str, year: str, partition_location: str) -> str | None:
    """The changes' location when publish recorded them for this switch, else None."""
    where = location(run_id, year, partition_location)
    return where if any(k.endswith(".parquet") for k in storage.list_keys(where)) else None
