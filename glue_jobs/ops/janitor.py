"""The janitor: remove what failed or finished writes left behind, never what prod reads.

    tickerlake janitor --dry-run          # first: what would go, with sizes and reasons
    tickerlake janitor                    # then: delete it, holding the lake lock

It lists the lake (keys, sizes, times) and the catalog through the Storage and Catalog
adapters, so it runs the same on a directory with the local catalog and on S3 with Glue;
glue_jobs/ops/janitor_plan.py decides, without I/O, what goes. Deleting happens under the lake
lock, so no pipeline stage runs meanwhile, and every planned version is checked against the
catalog once more right before its files go. A report of what was deleted is kept at
layout.janitor_report_key(run_id).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict

from glue_jobs.lake import layout
from glue_jobs.lake.context import new_run_id
from glue_jobs.lake.lock import DEFAULT_TTL, LakeLock
from glue_jobs.ops import janitor_plan
from glue_jobs.ports.catalog import Catalog
from glue_jobs.ports.storage import NotFound, ObjectInfo, Storage, put_json

log = logging.getLogger(__name__)

# Where the janitor looks: everything else (raw, rejected, manifests...) it never touches.
SCANNED_PREFIXES = (layout.WAREHOUSE_PREFIX, layout.TMP_PREFIX, layout.CATALOG_PREFIX,
                    layout.RUNS_PREFIX, "state/", "alerts/", "locks/", "maintenance/")


def list_objects(storage: Storage, prefix: str) -> list[ObjectInfo]:
    """Objects with sizes and times; a Storage without list_objects gives keys only (no age:
    nothing age-gated is deleted then)."""
    lister = getattr(storage, "list_objects", None)
    if lister is not None:
        return list(lister(prefix))
    return [ObjectInfo(k, 0, None) for k in storage.list_keys(prefix)]


def catalog_tables(catalog: Catalog) -> list[janitor_plan.TableInfo]:
    """Every table of the database with the locations readers can reach."""
    out = []
    db = layout.DATABASE
    for name in catalog.list_tables(db):
        table = catalog.get_table(db, name)
        if table is None:
            continue
        partitions = catalog.list_partitions(db, name) if table.partition_keys else []
        out.append(janitor_plan.TableInfo(
            name=name,
            location=table.location if "://" not in table.location else "",
            partitioned=bool(table.partition_keys),
            partition_locations=tuple(p.location for p in partitions),
            wap_run_id=table.properties.get("wap_run_id"),
        ))
    return out


def _stamp(value: object) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def run_states(storage: Storage, now: dt.datetime, ttl: dt.timedelta = DEFAULT_TTL) -> tuple[set[str], dict]:
    """(runs still going, retired hints). A run is going while its log says running and it
    changed within the lock's TTL (a killed run stays 'running' forever: after the TTL it is
    dead). Hints: when a rollback switched the catalog away from a version."""
    active: set[str] = set()
    hints: dict[str, dt.datetime] = {}
    for key in storage.list_keys(layout.RUNS_PREFIX):
        if not key.endswith(".json"):
            continue
        try:
            doc = json.loads(storage.get_bytes(key))
        except (ValueError, NotFound):
            continue
        if doc.get("status") == "running":
            seen = _stamp(doc.get("updated_at") or doc.get("started_at"))
            if seen is None or now - seen < ttl:
                active.add(str(doc.get("run_id") or key.rsplit("/", 1)[-1][:-5]))
        rollback = (doc.get("stages") or {}).get("rollback") or {}
        at = _stamp(rollback.get("finished_at"))
        for action in (rollback.get("details") or {}).get("actions") or []:
            away = action.get("from") if isinstance(action, dict) else None
            if away and at:
                hints[away] = max(at, hints.get(away, at))
    return active, hints


def plan(storage: Storage, catalog: Catalog, *, now: dt.datetime | None = None,
         retention: dt.timedelta = janitor_plan.DEFAULT_RETENTION,
         grace: dt.timedelta = janitor_plan.DEFAULT_GRACE, holder: str | None = None) -> janitor_plan.Plan:
    """What the janitor would delete now (no change made)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    objects = [o for prefix in SCANNED_PREFIXES for o in list_objects(storage, prefix)]
    active, hints = run_states(storage, now)
    active.discard(holder or "")
    history_deletions, history_locations = _history(storage, objects, now=now, retention=retention)
    result = janitor_plan.plan(objects, catalog_tables(catalog), now=now, retention=retention, grace=grace,
                               active_runs=active, retired_hints=hints, history_locations=history_locations)
    result.deletions += history_deletions
    # an ingest lands its bodies, then its manifest: one quiet for the lock's TTL has died
    result.kept += janitor_plan.unmanifested_raw(list_objects(storage, layout.RAW_PREFIX),
                                                 storage.list_keys(layout.MANIFEST_PREFIX),
                                                 now=now, quiet_for=DEFAULT_TTL)
    return result


def _history(storage: Storage, objects: list[ObjectInfo], *, now: dt.datetime,
             retention: dt.timedelta) -> tuple[list[janitor_plan.Deletion], set[str]]:
    """Catalog history past the retention to delete, and the partition locations of the history
    kept: the janitor never deletes a version a kept catalog version points to."""
    by_table: dict[str, list[ObjectInfo]] = {}
    root = f"{layout.CATALOG_PREFIX}{layout.DATABASE}/"
    for o in objects:
        rest = o.key[len(root):] if o.key.startswith(root) else ""
        parts = rest.split("/")
        if len(parts) == 3 and parts[1] == "history" and parts[2].endswith(".json"):
            by_table.setdefault(parts[0], []).append(o)
    deletions, locations = [], set()
    for _table, history in sorted(by_table.items()):
        gone, kept = janitor_plan.plan_history(history, now=now, retention=retention)
        deletions += gone
        for key in kept:
            try:
                doc = json.loads(storage.get_bytes(key))
            except (ValueError, NotFound):
                continue
            for p in doc.get("partitions") or [] if isinstance(doc, dict) else []:
                if isinstance(p, dict) and p.get("location"):
                    locations.add(p["location"])
    return deletions, locations


def _still_unreferenced(catalog: Catalog, deletions: list[janitor_plan.Deletion]) -> list[janitor_plan.Deletion]:
    pointers = [p for t in catalog_tables(catalog) for p in (t.partition_locations or (t.location,)) if p]
    safe = []
    for d in deletions:
        if d.kind == "version" and any(d.target.startswith(p) or p.startswith(d.target) for p in pointers):
            log.warning("janitor: %s is in the catalog again; left alone", d.target)
            continue
        safe.append(d)
    return safe


def run(storage: Storage, catalog: Catalog, *, dry_run: bool = True,
        retention: dt.timedelta = janitor_plan.DEFAULT_RETENTION,
        grace: dt.timedelta = janitor_plan.DEFAULT_GRACE, now: dt.datetime | None = None,
        run_id: str | None = None) -> dict:
    """Plan, and unless dry_run delete, under the lake lock. Returns the report (also kept in
    the lake when something was deleted)."""
    run_id = run_id or new_run_id()
    if dry_run:
        result = plan(storage, catalog, now=now, retention=retention, grace=grace)
        return _report(run_id, result, dry_run=True, retention=retention)
    with LakeLock(storage, run_id):
        result = plan(storage, catalog, now=now, retention=retention, grace=grace, holder=run_id)
        result.deletions = _still_unreferenced(catalog, result.deletions)
        db = layout.DATABASE
        for d in result.deletions:
            if d.table:
                catalog.drop_table(db, d.table)  # the definition first: no reader finds a table without files
            storage.delete(d.keys)
            log.info("janitor: deleted %s (%d objects): %s", d.target, len(d.keys), d.reason)
        report = _report(run_id, result, dry_run=False, retention=retention)
        if result.deletions:
            put_json(storage, layout.janitor_report_key(run_id), report)
    return report


def _report(run_id: str, result: janitor_plan.Plan, *, dry_run: bool, retention: dt.timedelta) -> dict:
    return {
        "run_id": run_id,
        "dry_run": dry_run,
        "retention_days": retention.total_seconds() / 86400,
        "objects": len(result.keys),
        "bytes": result.bytes,
        "tables": result.tables,
        "deletions": [asdict(d) for d in result.deletions],
        "kept": [asdict(k) for k in result.kept],
        "lines": janitor_plan.describe(result, dry_run=dry_run),
    }
