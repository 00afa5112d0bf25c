"""Where publish records, in its run's log, each partition it is about to switch and where
that partition pointed before: the record a rollback (glue_jobs.ops.rollback) reads."""
from __future__ import annotations

from glue_jobs.lake.context import RunContext
from glue_jobs.lake.run_log import RunLog

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
