"""The after_publish hook: record this run in the ledger as it stands at the end of its
last stage (the runner records it again once the run log is finished)."""
from __future__ import annotations

from glue_jobs.lake.context import RunContext
from glue_jobs.lake.ledger.record import record_run


def run(ctx: RunContext) -> dict:
    return record_run(ctx)
