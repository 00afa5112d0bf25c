"""Where publish records, in its run's log, each partition it is about to switch and where
that partition pointed before: the record a rollback (glue_jobs.ops.rollback) reads; and the
published manifest made from it once the switch is done (the serving table's event)."""
from __future__ import annotations

from glue_jobs.lake import layout, published_changes, published_manifest
from glue_jobs.lake.context import RunContext
from glue_jobs.lake.run_log import RunLog
from glue_jobs.ports.storage import NotFound, Storage

PUBLISH_RECORD = "published_partitions"  # top-level run-log field written by publish


def merge_publish_record(existing: dict | None, table: str, switched: dict[str, tuple[str, str | None]],
                         manifests: dict[str, dict] | None = None) -> dict:
    """The run-log field `published_partitions` after publish switches `switched` (partition ->
    (new location, previous location)) of `table`. An earlier attempt of the same run may have
    switched a partition already: its previous location is the one before the run, so it stays."""
    out = {t: {p: dict(v) for p, v in parts.items()} for t, parts in (existing or {}).items()}
    parts = out.setdefault(table, {})
    for partition, (location, previous) in switched.items():
        entry = parts.get(partition)
        if entry is None:
            entry = parts[partition] = {"location": location, "previous": previous}
        else:
            entry["location"] = location
        manifest = (manifests or {}).get(partition)
        if manifest is not None:  # the files as published: doctor checks (and rebuilds) manifests by it
            entry["rows"] = manifest["rows"]
            entry["files"] = manifest["files"]
            entry["ingest_runs"] = manifest.get("ingest_runs")
    return out


def record_publish(ctx: RunContext, table: str, switched: dict[str, tuple[str, str | None]],
                   manifests: dict[str, dict] | None = None) -> None:
    """Keep, in the run's log, where each partition about to be switched pointed before, so the
    run can be rolled back. Written before the switch: a record without a switch is harmless
    (the rollback then finds the partition already where the record says it was)."""
    if not switched:
        return
    run_log = RunLog.load_or_new(ctx.storage, ctx.run_id)
    run_log.set(PUBLISH_RECORD,
                merge_publish_record(run_log.get(PUBLISH_RECORD), table, switched, manifests))
    run_log.save()


def write_published_manifest(storage: Storage, manifest: dict) -> str:
    """Put the published manifest (glue_jobs/lake/published_manifest.py) at its key, unless the
    same one is there already: every PUT is an S3 event, and a rerun should not send another."""
    key = layout.published_manifest_key(manifest["run_id"])
    data = published_manifest.to_bytes(manifest)
    try:
        if storage.get_bytes(key) == data:
            return key
    except NotFound:
        pass
    storage.put_bytes(key, data)
    return key


def announce(ctx: RunContext, run_id: str | None = None) -> str | None:
    """Write the published manifest of `run_id` (the context's run by default) from its run
    log's publish record: the partitions of stocks.daily_prices it switched that the catalog
    still points at (a crash between the record and the switch leaves some it never switched).
    Publish calls this right after its switch; the serve stage calls it again, so a run killed
    between the switch and the manifest still announces what it published. Returns the key, or
    None when the run switched nothing."""
    run_id = run_id or ctx.run_id
    try:
        record = RunLog.load(ctx.storage, run_id).get(PUBLISH_RECORD)
    except NotFound:
        return None
    manifest = published_manifest.from_publish_record(run_id, record)
    if manifest is None:
        return None
    current = {p.values.get("trade_year"): p.location
               for p in ctx.catalog.list_partitions(layout.DATABASE, layout.PUBLISHED_TABLE)}
    manifest["partitions"] = [p for p in manifest["partitions"]
                              if current.get(p["values"]["trade_year"]) == p["location"]]
    if not manifest["partitions"]:
        return None
    for p in manifest["partitions"]:  # the rows publish recorded as changed, when it did
        if p["previous_location"] is not None:
            changes = published_changes.recorded(ctx.storage, run_id, p["values"]["trade_year"], p["location"])
            if changes:
                p["changes"] = changes
    return write_published_manifest(ctx.storage, manifest)
