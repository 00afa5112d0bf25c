"""After publish: bring stocks.symbol_years (each symbol's first and newest bar per year, which
the dashboard reads) in step with what publish switched, (re)create the analysis views of
sql/views/ (daily returns, moving averages, 20-day volatility, 52-week high/low), run the
follow-up hooks (alerts, run ledger), and mark this run's ingest runs published so no later
WAP processes them again.

Each view file is a complete `create or replace view` in Athena's dialect; the DuckDB
engine also exposes them on its own, so running them here matters on Athena, and locally it
checks that every view still compiles against the published table.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from glue_jobs.after.alerts import hook as alerts_hook
from glue_jobs.lake import failpoints, ingest_queue, layout, sql_files, symbol_years
from glue_jobs.lake.context import RunContext
from glue_jobs.lake.ledger import hook as ledger_hook
from glue_jobs.ports.storage import NotFound

log = logging.getLogger(__name__)

# Hooks called after the views, in order, each `run(ctx) -> dict`: the alerts (price
# threshold, daily move, volume spike) and the run ledger tables. A hook that fails fails the
# stage before the ingest runs are marked published, so a re-run retries it; except the ledger:
# prices already published stay published, so a ledger that cannot be written is a warning
# recorded in the stage's result (the CLI's runner then marks the run log "..., not in ledger").
LEDGER_HOOK = "glue_jobs.lake.ledger.hook"
HOOKS = (("glue_jobs.after.alerts.hook", alerts_hook.run), ("glue_jobs.lake.ledger.hook", ledger_hook.run))


def view_statements() -> list[tuple[str, str]]:
    """(view name, its CREATE OR REPLACE VIEW statement), each after the views it reads."""
    views = {Path(n).stem: sql_files.load(n) for n in sql_files.names("views")}
    return [(name, views[name]) for name in sql_files.view_order(views)]


def _missing_tables(ctx: RunContext, statement: str, views: set[str]) -> list[str]:
    """The stocks tables (not views) `statement` reads that the catalog does not have."""
    tables = (ref.split(".", 1) for ref in sql_files.table_refs(statement) if "." in ref)
    return sorted(f"{db}.{name}" for db, name in tables
                  if db == layout.DATABASE and name not in views and ctx.catalog.get_table(db, name) is None)


def _run_hooks(ctx: RunContext) -> dict:
    out = {}
    for name, hook in HOOKS:
        if name != LEDGER_HOOK:
            out[name] = hook(ctx)
            continue
        try:
            out[name] = hook(ctx)
        except Exception as exc:
            log.debug("the ledger hook failed", exc_info=True)
            log.warning("run %s is not in stocks.pipeline_runs: writing the ledger failed (%s: %s)",
                        ctx.run_id, type(exc).__name__, str(exc)[:300])
            out[name] = {"ledger_error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    return out


def _audited_runs(ctx: RunContext, runs: list[ingest_queue.IngestRun]) -> list[ingest_queue.IngestRun]:
    """The runs to mark published: only those the audit passed (so a run that landed after
    the audit can never be marked without being processed)."""
    try:
        verdict = json.loads(ctx.storage.get_bytes(layout.audit_marker_key(ctx.run_id)))
    except NotFound:
        log.warning("after_publish: run %s has no audit verdict; no ingest run is marked published", ctx.run_id)
        return []
    audited = set(verdict.get("ingest_run_ids") or []) if verdict.get("passed") else set()
    return [r for r in runs if r.run_id in audited]


def run(ctx: RunContext) -> dict:
    runs = _audited_runs(ctx, ingest_queue.choose_ingest_runs(ctx.storage, ctx.run_id))
    published = ctx.catalog.get_table(layout.DATABASE, layout.PUBLISHED_TABLE) is not None
    views, waiting = [], []
    # first: the dashboard's summary fails the stage rather than lag behind the prices silently
    summary = symbol_years.sync(ctx) if published else {}
    if published:
        statements = view_statements()
        names = {name for name, _ in statements}
        for name, statement in statements:
            missing = _missing_tables(ctx, statement, names)
            if missing:
                # Athena rejects a view on a table that is not there: a local lake has
                # stocks.intraday_quotes once `run` or `stream consume` made it (the stack's template
                # makes it on AWS); until then the view waits for a later publish
                log.info("view %s.%s waits for %s", layout.DATABASE, name, ", ".join(missing))
                waiting.append(f"{layout.DATABASE}.{name}")
                continue
            ctx.engine.execute(f"-- sql/views/{name}.sql\n{statement}")
            views.append(f"{layout.DATABASE}.{name}")
    hooks = _run_hooks(ctx)
    failpoints.hit("after_publish.before_mark", ctx.run_id)
    marked = ingest_queue.mark_published(ctx.storage, runs, by_run_id=ctx.run_id)
    return {
        "views_refreshed": len(views),
        "views": views,
        **({"views_waiting_for_tables": waiting} if waiting else {}),
        "ingest_runs_marked_published": marked,
        **summary,
        "hooks": hooks,
    }
