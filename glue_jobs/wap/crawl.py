"""Crawl: make the raw bodies of the pending ingest runs queryable as `stocks.raw_daily`.

The local stand-in for the Glue crawler: register the table (CSV, every column text,
partitioned by ingest_date, symbol, ingest_run_id) and each new partition, and record a partition's
own columns when its header is not the expected one, so the audit's schema rule blocks the
publish instead of prices being read from the wrong column.
"""
from __future__ import annotations

import logging

from glue_jobs.lake import ingest_queue, layout, tables
from glue_jobs.lake.context import RunContext
from glue_jobs.ports.catalog import Column, Partition

log = logging.getLogger(__name__)


def parse_header(body: bytes) -> tuple[str, ...]:
    """The column names on a CSV body's first line (BOM, quotes, blanks and CR removed)."""
    first = body.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").strip()
    if not first:
        return ()
    return tuple(name.strip().strip('"').strip() for name in first.split(","))


def partition_for(key: str, header: tuple[str, ...]) -> Partition:
    """The raw table partition holding the body at `key`: the key's values by position under
    the table's partition keys (the key spells the ingest run `run_id=`, the table names it
    ingest_run_id), as Glue's crawler registers them."""
    values = layout.parse_hive_key(key)
    location = key.rsplit("/", 1)[0] + "/"
    columns = None if header == tables.RAW_HEADER else [Column(name, "string") for name in header]
    keys = [c.name for c in tables.raw_daily().partition_keys]
    return Partition({k: values[seg] for k, seg in zip(keys, layout.RAW_PARTITION_SEGMENTS)}, location, columns)



def _head(storage, key: str) -> bytes:
    """Enough of a body to hold its header line: a backfill's bodies hold 20 years each."""
    read = getattr(storage, "get_head", None)
    if read is not None:
        head = read(key, 4096)
        if b"\n" in head or len(head) < 4096:
            return head
    return storage.get_bytes(key)

def run(ctx: RunContext) -> dict:
    """Register stocks.raw_daily and the partitions of this run's ingest runs."""
    runs = ingest_queue.choose_ingest_runs(ctx.storage, ctx.run_id)
    db, name = layout.DATABASE, layout.RAW_TABLE
    existing, declared = ctx.catalog.get_table(db, name), tables.raw_daily()
    if existing is None:
        ctx.catalog.create_table(declared)
    elif existing != declared:  # a lake crawled before the definition changed (extra_field)
        ctx.catalog.create_table(declared, replace=True)  # its partitions stay registered
    run_ids = {r.run_id for r in runs}
    registered = {p.location for p in ctx.catalog.list_partitions(db, name, where=ingest_queue.raw_partitions_of(runs))}

    bodies: list[str] = []
    for ingest_date in sorted({r.ingest_date for r in runs}):
        for key in ctx.storage.list_keys(f"{layout.RAW_PREFIX}ingest_date={ingest_date}/"):
            if key.endswith(".csv") and layout.parse_hive_key(key).get("run_id") in run_ids:
                bodies.append(key)

    new: list[Partition] = []
    for key in bodies:
        location = key.rsplit("/", 1)[0] + "/"
        if location in registered:
            continue
        new.append(partition_for(key, parse_header(_head(ctx.storage, key))))
    ctx.catalog.add_partitions(db, name, new)

    drifted = [
        {"partition": p.location, "header": ",".join(c.name for c in p.columns or [])}
        for p in new if p.columns is not None
    ]
    for d in drifted:
        log.warning("schema drift: %s has header %r, expected %r", d["partition"], d["header"],
                    ",".join(tables.RAW_HEADER))
    listed = {f.raw_key for r in runs for f in r.fetches}
    return {
        "ingest_runs": len(runs),
        "ingest_run_ids": sorted(run_ids),
        "raw_bodies": len(bodies),
        "partitions_added": len(new),
        "partitions_already_registered": len(bodies) - len(new),
        "schema_drift_partitions": len(drifted),
        "schema_drift": drifted[:20],
        # what the manifests promise but the raw zone lacks, and the reverse
        "bodies_missing": sorted(listed - set(bodies))[:20],
        "bodies_not_in_manifest": sorted(set(bodies) - listed)[:20],
    }
