"""The after_publish hook: raise this run's alerts (see glue_jobs.alerts.step)."""
from __future__ import annotations

from glue_jobs.alerts.step import raise_alerts
from glue_jobs.common.run_context import RunContext


def run(ctx: RunContext) -> dict:
    return raise_alerts(ctx)
