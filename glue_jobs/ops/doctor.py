"""`tickerlake doctor [--repair]`: check the whole lake, name each problem with its fix, and
restore what can be restored, deleting nothing.

    tickerlake doctor              # check: catalog documents, partitions, manifests, run logs, state
    tickerlake doctor --repair     # restore (under the lake lock), then check again

This module gathers the facts and applies repairs through the Storage and Catalog adapters;
glue_jobs/ops/doctor_plan.py decides, without I/O, what is a problem and what the repair is.
Re-publishing a partition from raw needs the WAP, which this stage may not import: `repair`
requeues the published ingest runs and returns them, and the command (workflows/cli) runs the
WAP and checks again.

Catalog history: the local catalog keeps every version of a table's document under
catalog/<database>/<table>/history/. On Glue, table versions exist already (GetTableVersions)
but partitions have none: there the partitions' earlier locations come from the publish
records in the run logs, and a lost table is restored with Glue's own table versions.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict

from glue_jobs.lake import ingest_history, layout, parquet, symbol_years, tables, version_manifest
from glue_jobs.lake.lock import DEFAULT_TTL, LakeLock
from glue_jobs.lake.publish_record import PUBLISH_RECORD
from glue_jobs.ops import doctor_plan, janitor, janitor_plan
from glue_jobs.ops.set_aside import requeue
from glue_jobs.ports.catalog import Catalog, CatalogError, Partition
from glue_jobs.ports.storage import NotFound, Storage, put_json

log = logging.getLogger(__name__)

# the tables doctor checks partition by partition (their versions carry manifests)
CHECKED_TABLES = (layout.PUBLISHED_TABLE, layout.QUARANTINE_TABLE)
_DEFS = {t.name: t for t in (tables.daily_prices(), tables.daily_prices_quarantine())}


# -- gathering facts ------------------------------------------------------------------------------


def _json(storage: Storage, key: str) -> tuple[object | None, str]:
    try:
        return json.loads(storage.get_bytes(key)), ""
    except NotFound:
        return None, "missing"
    except ValueError as exc:
        return None, f"not JSON: {exc}"


def _history(storage: Storage, table: str) -> list[str]:
    prefix = layout.catalog_history_prefix(layout.DATABASE, table)
    return sorted((k for k in storage.list_keys(prefix) if k.endswith(".json")), reverse=True)


def _doc_intact(storage: Storage, table: str, doc: object) -> bool:
    if not isinstance(doc, dict) or "table" not in doc:
        return False
    shards = doc.get("shards")
    if shards:
        first = doc["table"]["partition_keys"][0]["name"]
        prefix = f"{layout.CATALOG_PREFIX}{layout.DATABASE}/{table}/partitions/"
        return all(storage.exists(f"{prefix}{first}={v}/{d}.json") for v, d in shards.items())
    return True


def documents(storage: Storage) -> tuple[list[doctor_plan.DocumentFact], dict[str, list[dict]]]:
    """Each table's document (and the intact documents of its history, newest first)."""
    prefix = f"{layout.CATALOG_PREFIX}{layout.DATABASE}/"
    names = set()
    for key in storage.list_keys(prefix):
        rest = key[len(prefix):]
        if "/" not in rest and rest.endswith(".json"):
            names.add(rest[:-5])
        elif rest.split("/")[1:2] == ["history"]:
            names.add(rest.split("/")[0])
    facts, intact_docs = [], {}
    for name in sorted(names):
        if name.startswith((layout.TEMP_TABLE_PREFIX, janitor_plan.CTAS_TABLE_PREFIX)):
            continue  # the next run drops and rewrites these
        key = layout.catalog_key(layout.DATABASE, name)
        doc, error = _json(storage, key)
        state = "ok" if doc is not None and _doc_intact(storage, name, doc) else ("missing" if error == "missing" else "damaged")
        if state == "damaged" and not error:
            error = "not a catalog document, or a shard it names is missing"
        entries, docs = [], []
        for h in _history(storage, name):
            hdoc, _ = _json(storage, h)
            ok = hdoc is not None and _doc_intact(storage, name, hdoc)
            entries.append(doctor_plan.HistoryEntry(h, ok))
            if ok:
                docs.append(hdoc)
        facts.append(doctor_plan.DocumentFact(name, key, state, error, tuple(entries)))
        intact_docs[name] = ([doc] if state == "ok" else []) + docs
    return facts, intact_docs


def run_logs(storage: Storage) -> tuple[dict[str, dict], list[doctor_plan.RecordFact]]:
    docs, bad = {}, []
    for key in storage.list_keys(layout.RUNS_PREFIX):
        if not key.endswith(".json"):
            continue
        doc, error = _json(storage, key)
        if not isinstance(doc, dict):
            bad.append(doctor_plan.RecordFact("run log", key, error or "not a run log"))
            continue
        docs[key] = doc
    return docs, bad


def _recorded(logs: dict[str, dict]) -> dict[str, tuple[str, dict]]:
    """location -> (run log key, its publish record entry) for every version a run published."""
    out = {}
    for key, doc in logs.items():
        for _table, parts in (doc.get(PUBLISH_RECORD) or {}).items():
            for _p, entry in (parts or {}).items():
                if isinstance(entry, dict) and entry.get("location"):
                    out[entry["location"]] = (key, entry)
    return out


def _check_version(storage: Storage, location: str, recorded: dict[str, tuple[str, dict]],
                   bad_manifests: dict[str, doctor_plan.RecordFact]) -> doctor_plan.VersionCheck:
    files = version_manifest.observe(storage, location, checksum=True)
    manifest_key = layout.version_manifest_key(location)
    try:
        manifest = version_manifest.read(storage, location)
        by = manifest_key if manifest is not None else ""
    except ValueError as exc:
        manifest, by = None, ""
        rec = recorded.get(location)
        if rec and rec[1].get("files") is not None:
            source = f"run log {rec[0]}"
        elif files and not any(f.error for f in files):
            source = "files"
        else:
            source = ""
        bad_manifests[manifest_key] = doctor_plan.RecordFact("version manifest", manifest_key, str(exc), source)
    if manifest is None and location in recorded and recorded[location][1].get("files") is not None:
        manifest, by = dict(recorded[location][1]), f"run log {recorded[location][0]}"
    runs = (manifest or {}).get("ingest_runs")
    return doctor_plan.VersionCheck(location, tuple(version_manifest.compare(manifest, files)), by,
                                    tuple(runs) if isinstance(runs, list) else None)


def partitions(storage: Storage, catalog: Catalog, intact_docs: dict[str, list[dict]],
               recorded: dict[str, tuple[str, dict]]) -> tuple[list[doctor_plan.PartitionFact], list[doctor_plan.RecordFact]]:
    facts, bad_manifests = [], {}
    for name in CHECKED_TABLES:
        docs = intact_docs.get(name) or []
        if not docs:
            continue
        current_doc = docs[0]
        keys = [c["name"] for c in current_doc["table"]["partition_keys"]]
        # earlier locations of each partition: the history's documents, then the publish records
        earlier: dict[tuple, list[str]] = {}
        for doc in docs[1:]:
            for p in doc.get("partitions", []):
                earlier.setdefault(tuple(p["values"][k] for k in keys), []).append(p["location"])
        for _loc, (_key, entry) in sorted(recorded.items(), reverse=True):
            prev = entry.get("previous")
            values = layout.parse_hive_key(_loc)
            if prev and all(k in values for k in keys):
                earlier.setdefault(tuple(values[k] for k in keys), []).append(prev)
        for p in current_doc.get("partitions", []):
            values = tuple(p["values"][k] for k in keys)
            current = _check_version(storage, p["location"], recorded, bad_manifests)
            candidates: list[doctor_plan.VersionCheck] = []
            if not current.intact:
                seen = {p["location"]}
                for loc in earlier.get(values, []):
                    if loc in seen:
                        continue
                    seen.add(loc)
                    candidates.append(_check_version(storage, loc, recorded, {}))
            facts.append(doctor_plan.PartitionFact(
                name, "/".join(f"{k}={v}" for k, v in zip(keys, values)), dict(zip(keys, values)),
                current, tuple(candidates)))
    return facts, list(bad_manifests.values())


def _state(storage: Storage) -> list[doctor_plan.RecordFact]:
    doc, error = _json(storage, layout.STATE_KEY)
    if error == "missing":
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("carried", []), list) \
            or not isinstance(doc.get("quota", {}), dict):
        return [doctor_plan.RecordFact("ingest state", layout.STATE_KEY, error or "not an ingest state",
                                       "ingest manifests")]
    return []


def _ingest_manifests(storage: Storage) -> list[doctor_plan.RecordFact]:
    out = []
    for key in storage.list_keys(layout.MANIFEST_PREFIX):
        if key.endswith(".json") and not key.rsplit("/", 1)[-1].startswith("."):
            doc, error = _json(storage, key)
            if not isinstance(doc, dict):
                out.append(doctor_plan.RecordFact("ingest manifest", key, error or "not a manifest"))
    return out


def summaries_behind(catalog: Catalog) -> dict[str, tuple[str, str | None]]:
    """The years of stocks.symbol_years not made from their current stocks.daily_prices version
    (trade_year -> (prices location, summary location or None)), from the catalog alone; none
    while a catalog document is unreadable: check reports that document, and its repair comes
    first (the summary's years are compared with the partitions the document lists)."""
    try:
        prices = symbol_years.locations(catalog, layout.PUBLISHED_TABLE)
        summaries = symbol_years.locations(catalog, symbol_years.NAME) if prices else {}
    except CatalogError:
        return {}
    return {year: (source, summaries.get(year))
            for year, (_, source) in symbol_years.plan(prices, summaries).switch.items()}


def check(storage: Storage, catalog: Catalog, *, now: dt.datetime | None = None) -> list[doctor_plan.Problem]:
    """Every problem in the lake now (no change made)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    docs, intact_docs = documents(storage)
    logs, bad_logs = run_logs(storage)
    parts, bad_manifests = partitions(storage, catalog, intact_docs, _recorded(logs))
    records = bad_manifests + bad_logs + _state(storage) + _ingest_manifests(storage)
    raw = janitor_plan.unmanifested_raw(janitor.list_objects(storage, layout.RAW_PREFIX),
                                        storage.list_keys(layout.MANIFEST_PREFIX), now=now, quiet_for=DEFAULT_TTL)
    return doctor_plan.plan(docs, parts, records, [(k.target, k.reason) for k in raw],
                            summaries_behind(catalog))


# -- repairing ------------------------------------------------------------------------------------


def _set_aside(storage: Storage, run_id: str, key: str) -> str | None:
    try:
        data = storage.get_bytes(key)
    except NotFound:
        return None
    aside = layout.doctor_aside_key(run_id, key)
    storage.put_bytes(aside, data)
    return aside


def _restore_document(storage: Storage, run_id: str, p: doctor_plan.Problem) -> str:
    _set_aside(storage, run_id, p.target)
    storage.put_bytes(p.target, storage.get_bytes(p.source))
    return f"restored {p.target} from {p.source}"


def _switch(storage: Storage, catalog: Catalog, run_id: str, p: doctor_plan.Problem) -> str:
    to = p.source
    if to is None:  # nothing earlier is intact: an empty version, so queries and merges read no damage
        to = layout.partition_version_prefix(p.table, p.values, f"{run_id}-empty")
        if not storage.list_keys(to):
            empty = parquet.schema_of(_DEFS[p.table].columns).empty_table()
            parquet.write_table(storage, f"{to}part-00000.parquet", empty)
            version_manifest.write(storage, to, version_manifest.build(storage, to, table=p.table, values=p.values,
                                                                       run_id=run_id))
    catalog.switch_partitions(layout.DATABASE, p.table, [Partition(dict(p.values), to)])
    return f"switched stocks.{p.table} {'/'.join(f'{k}={v}' for k, v in p.values.items())} from {p.target} to {to}"


def _rebuild_manifest(storage: Storage, run_id: str, p: doctor_plan.Problem, logs: dict[str, dict]) -> str:
    location = p.target[: -len(layout.VERSION_MANIFEST)]
    values = {k: v for k, v in layout.parse_hive_key(location).items() if k != "v"}
    table = location[len(layout.WAREHOUSE_PREFIX):].split("/", 1)[0]
    _set_aside(storage, run_id, p.target)
    if p.source and p.source.startswith("run log "):
        rec_key = p.source[len("run log "):]
        entry = _recorded({rec_key: logs[rec_key]})[location][1]
        manifest = {"version": version_manifest.MANIFEST_VERSION, "table": table, "partition": values,
                    "location": location, "run_id": layout.parse_hive_key(location).get("v"),
                    "rows": entry.get("rows", sum(f["rows"] or 0 for f in entry["files"])), "files": entry["files"]}
    else:
        manifest = version_manifest.build(storage, location, table=table, values=values,
                                          run_id=layout.parse_hive_key(location).get("v", ""))
        manifest["rebuilt_from_files_by"] = run_id
    version_manifest.write(storage, location, manifest)
    return f"rewrote {p.target} from {p.source}"


def _stub_run_log(storage: Storage, run_id: str, p: doctor_plan.Problem) -> str:
    aside = _set_aside(storage, run_id, p.target)
    stub_id = p.target[len(layout.RUNS_PREFIX):-len(".json")]
    put_json(storage, p.target, {"run_id": stub_id, "status": "damaged",
                                 "damaged": {"by": run_id, "original": aside, "what": p.what}})
    return f"set {p.target} aside ({aside}) and put a stub in its place"


def rebuilt_state(storage: Storage, run_id: str) -> dict:
    """An ingest state from the ingest manifests: the newest run's carried symbols, and the
    calls each run used per quota day."""
    refs = []
    for key in storage.list_keys(layout.MANIFEST_PREFIX):
        doc, _ = _json(storage, key)
        if isinstance(doc, dict):
            refs.append((str(doc.get("run_id") or ""), doc))
    refs.sort(key=lambda r: r[0])
    quota: dict[str, dict[str, int]] = {}
    for _run, doc in refs:
        limits = doc.get("limits") or doc.get("rate") or {}
        source = str(doc.get("source") or limits.get("source") or "synthetic")
        for day, n in (limits.get("calls_by_quota_day") or doc.get("calls_by_quota_day") or {}).items():
            quota.setdefault(source, {})[day] = quota.get(source, {}).get(day, 0) + int(n)
    carried = []
    if refs:
        newest_run, newest = refs[-1]
        for c in newest.get("carried") or []:
            carried.append({"symbol": c.get("symbol"), "reason": c.get("reason", "unknown"),
                            "since": str(newest.get("ingest_date") or ""), "since_run_id": newest_run, "runs": 1})
    return {"version": 1, "carried": carried, "quota": {s: dict(sorted(d.items())[-7:]) for s, d in quota.items()},
            "updated_by_run_id": run_id, "rebuilt_by_doctor": True}


def _rebuild_state(storage: Storage, run_id: str, p: doctor_plan.Problem) -> str:
    aside = _set_aside(storage, run_id, p.target)
    put_json(storage, p.target, rebuilt_state(storage, run_id))
    return f"set {p.target} aside ({aside}) and rebuilt it from the ingest manifests"


def republishable_ingest_runs(storage: Storage) -> list[str]:
    """Published ingest runs whose publish was not rolled back: what the partitions were built from."""
    from glue_jobs.lake import ingest_queue

    out = []
    for run in sorted(ingest_queue.published_run_ids(storage)):
        events = ingest_history.history(storage, run)
        if events and events[-1].get("action") == "rolled_back":
            continue
        out.append(run)
    return out


def repair(storage: Storage, catalog: Catalog, run_id: str, *, now: dt.datetime | None = None) -> dict:
    """Apply every repair the check plans, under the lake lock; deletes nothing. Returns what
    was done, what is left, and the ingest runs requeued for a re-publish (the caller runs the
    WAP: see workflows/cli/operator_commands.py)."""
    done, requeued = [], []
    with LakeLock(storage, run_id):
        # documents first: the partitions are read from them
        problems = check(storage, catalog, now=now)
        for p in problems:
            if p.action == doctor_plan.RESTORE_DOCUMENT:
                done.append(_restore_document(storage, run_id, p))
        if any(p.action == doctor_plan.RESTORE_DOCUMENT for p in problems):
            problems = check(storage, catalog, now=now)
        logs, _ = run_logs(storage)
        for p in problems:
            if p.action == doctor_plan.SWITCH_PARTITION:
                done.append(_switch(storage, catalog, run_id, p))
            elif p.action == doctor_plan.REBUILD_MANIFEST:
                done.append(_rebuild_manifest(storage, run_id, p, logs))
            elif p.action == doctor_plan.STUB_RUN_LOG:
                done.append(_stub_run_log(storage, run_id, p))
            elif p.action == doctor_plan.REBUILD_STATE:
                done.append(_rebuild_state(storage, run_id, p))
        republish = any(p.republish for p in problems)
        report = {"run_id": run_id, "done": done, "problems": [asdict(p) for p in problems]}
        put_json(storage, f"{layout.DOCTOR_PREFIX}{run_id}/report.json", report)
    if republish:
        wanted: set[str] | None = set()
        for p in problems:
            if p.republish:
                wanted = None if p.ingest_runs is None or wanted is None else wanted | set(p.ingest_runs)
        for ingest_run in republishable_ingest_runs(storage):
            if wanted is not None and ingest_run not in wanted:
                continue
            if requeue(storage, ingest_run, by=run_id)["removed"]:
                requeued.append(ingest_run)
    for line in done:
        log.info("doctor: %s", line)
    return {"run_id": run_id, "done": done, "requeued": requeued, "republish": republish,
            "problems": problems}

