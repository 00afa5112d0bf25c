"""The local runtime's adapters, wired once: a lake directory, its JSON catalog, DuckDB, and
alerts to a log line plus a JSON-lines file.

    storage, catalog, engine, notifier = build_local("lake")
    ctx = RunContext(run_id, as_of, storage, catalog, engine, notifier, settings={...})
    for stage in (crawl, drop_temp, write_temp, audit, publish, after_publish):
        stage.run(ctx)
"""
from __future__ import annotations

import os
from typing import Any

from glue_jobs.adapters.duckdb_engine import DuckDBEngine
from glue_jobs.adapters.local_catalog import LocalCatalog
from glue_jobs.adapters.local_notifier import LocalNotifier
from glue_jobs.adapters.storage import LocalStorage

WAP_MODULES = ("crawl", "drop_temp", "write_temp", "audit", "publish", "after_publish")


def build_local(lake_dir: str | os.PathLike[str]) -> tuple[LocalStorage, LocalCatalog, DuckDBEngine, LocalNotifier]:
    """(storage, catalog, engine, notifier) for a lake in `lake_dir` (created if absent)."""
    os.makedirs(lake_dir, exist_ok=True)
    storage = LocalStorage(lake_dir)
    catalog = LocalCatalog(storage)
    return storage, catalog, DuckDBEngine(storage, catalog), LocalNotifier(storage)


def local_context(lake_dir: str | os.PathLike[str], *, run_id: str | None = None, as_of=None,
                  settings: dict[str, Any] | None = None):
    """A RunContext on the local adapters (tests, benchmarks, a notebook)."""
    from glue_jobs.common import trading_calendar
    from glue_jobs.common.run_context import RunContext, new_run_id

    storage, catalog, engine, notifier = build_local(lake_dir)
    return RunContext(
        run_id=run_id or new_run_id(),
        as_of=as_of or trading_calendar.latest_completed_session(),
        storage=storage,
        catalog=catalog,
        engine=engine,
        notifier=notifier,
        settings=dict(settings or {}),
    )


def run_wap(ctx, stages: tuple[str, ...] = WAP_MODULES) -> dict[str, dict]:
    """Run the WAP stages in order, each recorded in the run log; returns their results."""
    import importlib

    from glue_jobs.run_log import run_stage

    results = {}
    for name in stages:
        module = importlib.import_module(f"glue_jobs.{name}")
        results[name] = run_stage(ctx.storage, ctx.run_id, name, lambda m=module: m.run(ctx))
    return results
