"""The serve stage, after publish: make sure this run's published manifest exists (publish
writes it right after its switch; a run killed in between still gets it here), then, on a
local lake, carry it into the serving table the way AWS does (the local queue, the loader).

On AWS the manifest's creation is the event: S3 -> EventBridge -> SQS -> the loader Lambda
fills DynamoDB on its own, so the stage only records which manifest the event path carries."""
from __future__ import annotations

from glue_jobs.lake import publish_record
from glue_jobs.lake.context import RunContext
from glue_jobs.lake.errors import PipelineError
from glue_jobs.serve import catch_up
from glue_jobs.serve.sync import sync


def run(ctx: RunContext) -> dict:
    """Announce this run's published manifest; locally, drain the queue into the serving table."""
    manifest = publish_record.announce(ctx)
    if ctx.queue_factory is None:
        return {"published_manifest": manifest,
                "status": "carried by the event path (S3 -> EventBridge -> SQS -> loader)" if manifest
                else "nothing published"}
    # An empty table (the first run after a backfill): the rebuild's bulk path, not the loader.
    filled = catch_up.fill_empty(ctx.storage, ctx.catalog, ctx.serving, version=ctx.run_id)
    result = sync(ctx)
    if filled is not None:
        result.written += filled.written
        if manifest:  # announced above, before the fill read the published table: it covered it
            result.loaded_manifests.append(manifest)
    counts = {"published_manifest": manifest, "messages_loaded": result.loaded, "messages_failed": result.failed,
              "bars_written": result.written, "bars_already_current": result.stale, "bars_deleted": result.deleted,
              "dead_letters": result.dead_letters,
              "status": "served" if manifest else "nothing published"}
    if filled is not None:
        counts["bulk_filled_rows"] = filled.written  # an empty table filled from the published table
    if manifest and manifest not in result.loaded_manifests and result.failures:
        raise PipelineError(
            f"serve: the serving table did not take {manifest}: " + "; ".join(result.failures[:3])
            + ". Published data is unaffected; fix the cause and run `tickerlake serve sync`.")
    if result.failures:
        counts["problems"] = result.failures
    return counts
