"""Pure planning for the janitor: given what the lake holds (keys, sizes, times), what the
catalog points to, which runs are still going, the time and the retention, decide what to
delete and why. No I/O here: glue_jobs/ops/janitor.py gathers the inputs and deletes.

What may go, and when:
    .tmp-* partial writes     older than the grace period (a write in flight never lasts that
                              long); never in raw/, rejected/ or manifests/: the record zones
    warehouse/.../v=X/        a partition version no catalog partition points to, once it has
                              been out of the catalog for the retention period (readers of a
                              query planned before the switch may still be reading it)
    tmp/... run_id=R          a WAP run's temporary data once run R is no longer running
    stocks.tmp_* tables       the same, their catalog entries (and files) together
    stocks.ctas_* tables      a CTAS definition an interrupted Athena write left behind
Never: anything at or under a location the catalog points to, raw/, rejected/, manifests/,
the catalog documents, run logs, state, alerts, locks.

When a version left the catalog is not stored anywhere, so it is bounded from above: no
later than the version now current was written (publish writes the new version and switches
at once), or than the version itself was written if it is newer (a failed write never was
in the catalog). A rollback switches back to an older version, so it records when it
switched away from one (`retired_hints`); the janitor reads those from the run logs.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from glue_jobs.lake import layout as lake_layout
from glue_jobs.ports.storage import ObjectInfo

DEFAULT_RETENTION = dt.timedelta(days=7)
DEFAULT_GRACE = dt.timedelta(hours=1)
PARTIAL_PREFIX = ".tmp-"
CTAS_TABLE_PREFIX = "ctas_"
# The record zones: what was received and what was decided about it. Never cleaned.
RECORD_PREFIXES = (lake_layout.RAW_PREFIX, lake_layout.REJECTED_PREFIX, "manifests/",
                   lake_layout.DROP_RECEIVED_PREFIX, lake_layout.DROP_REJECTED_PREFIX)


@dataclass(frozen=True)
class TableInfo:
    name: str
    location: str  # lake key prefix ("" for a view)
    partitioned: bool
    partition_locations: tuple[str, ...] = ()
    wap_run_id: str | None = None  # temporary tables: the run that wrote them


@dataclass(frozen=True)
class Deletion:
    """One thing to remove: a group of objects, or a catalog table definition (with its files)."""

    kind: str  # partial | version | temp | table | history
    target: str  # a key prefix, a key, or database.table
    reason: str
    keys: tuple[str, ...] = ()
    bytes: int = 0
    table: str | None = None  # for kind "table": the table name whose definition is dropped


@dataclass(frozen=True)
class Kept:
    target: str
    reason: str


@dataclass
class Plan:
    deletions: list[Deletion] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return sorted({k for d in self.deletions for k in d.keys})

    @property
    def tables(self) -> list[str]:
        return sorted({d.table for d in self.deletions if d.table})

    @property
    def bytes(self) -> int:
        return sum(d.bytes for d in self.deletions)


# -- helpers -----------------------------------------------------------------------------------


def _is_partial(key: str) -> bool:
    return key.rsplit("/", 1)[-1].startswith(PARTIAL_PREFIX)


def _in_record_zone(key: str) -> bool:
    return key.startswith(RECORD_PREFIXES)


def version_dir(key: str) -> str | None:
    """`warehouse/t/p=1/v=X/part-0.parquet` -> `warehouse/t/p=1/v=X/` (None outside a version)."""
    parts = key.split("/")
    for i, seg in enumerate(parts[:-1]):
        if seg.startswith("v="):
            return "/".join(parts[: i + 1]) + "/"
    return None


def run_dir(key: str) -> tuple[str, str] | None:
    """`tmp/t/run_id=R/x` -> (`tmp/t/run_id=R/`, R) (None when no run_id segment)."""
    parts = key.split("/")
    for i, seg in enumerate(parts[:-1]):
        if seg.startswith("run_id="):
            return "/".join(parts[: i + 1]) + "/", seg[len("run_id="):]
    return None


def _overlaps(a: str, b: str) -> bool:
    return a.startswith(b) or b.startswith(a)


def _newest(objects: Iterable[ObjectInfo], now: dt.datetime) -> dt.datetime:
    """When a group was last written; an object without a time counts as written now (kept)."""
    times = [o.modified if o.modified is not None else now for o in objects]
    return max(times) if times else now


def _day(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024.0
    return f"{n} B"


# -- the plan ----------------------------------------------------------------------------------


def plan(
    objects: list[ObjectInfo],
    tables: list[TableInfo],
    *,
    now: dt.datetime,
    retention: dt.timedelta = DEFAULT_RETENTION,
    grace: dt.timedelta = DEFAULT_GRACE,
    active_runs: Iterable[str] = (),
    retired_hints: dict[str, dt.datetime] | None = None,
    history_locations: Iterable[str] = (),
) -> Plan:
    """What to delete (with reasons) and what unreferenced data is kept for now (with why).

    `tables` is every table of the catalog; `active_runs` the runs still going (their temporary
    data stays); `retired_hints` maps a version location to when the catalog switched away from
    it, where that is known (rollbacks); `history_locations` the partition locations the catalog
    history still kept points to (see plan_history): versions there are kept, with a reason."""
    if retention < dt.timedelta(0) or grace < dt.timedelta(0):
        raise ValueError("retention and grace must not be negative")
    active = set(active_runs)
    hints = dict(retired_hints or {})
    out = Plan()

    pointers: list[str] = []
    for t in tables:
        if t.partitioned:
            pointers.extend(p for p in t.partition_locations if p)
        elif t.location and t.location.startswith(lake_layout.WAREHOUSE_PREFIX):
            pointers.append(t.location)  # an unpartitioned table reads everything below it
    known_tables = {t.location for t in tables if t.location.startswith(lake_layout.WAREHOUSE_PREFIX)}

    def referenced(prefix: str) -> bool:
        return any(_overlaps(prefix, p) for p in pointers)

    versions: dict[str, list[ObjectInfo]] = {}
    temps: dict[str, list[ObjectInfo]] = {}
    temp_runs: dict[str, str] = {}
    loose_tmp: list[ObjectInfo] = []
    for obj in objects:
        if _is_partial(obj.key):
            if _in_record_zone(obj.key) or referenced(obj.key):
                continue
            age_ok = obj.modified is not None and now - obj.modified >= grace
            if age_ok:
                out.deletions.append(Deletion(
                    "partial", obj.key,
                    f"partial write (never renamed into place, invisible to readers), from {_day(obj.modified)}",
                    (obj.key,), obj.size))
            else:
                out.kept.append(Kept(obj.key, f"partial write younger than {grace}: may still be in flight"))
            continue
        if obj.key.startswith(lake_layout.WAREHOUSE_PREFIX):
            vdir = version_dir(obj.key)
            if vdir is None:
                continue  # not the versioned layout: not ours to judge
            versions.setdefault(vdir, []).append(obj)
        elif obj.key.startswith(lake_layout.TMP_PREFIX):
            found = run_dir(obj.key)
            if found is None:
                loose_tmp.append(obj)
            else:
                temps.setdefault(found[0], []).append(obj)
                temp_runs[found[0]] = found[1]

    in_history = {loc for loc in history_locations if loc}
    for vdir in sorted(v for v in versions if v in in_history and not referenced(v)):
        out.kept.append(Kept(vdir, "an earlier version the catalog history points to (the way back "
                                   "`tickerlake doctor --repair` takes if the current one is damaged)"))
    versions = {v: objs for v, objs in versions.items() if v not in in_history or referenced(v)}
    _plan_versions(out, versions, pointers, known_tables, now, retention, hints)
    _plan_temps(out, temps, temp_runs, tables, active, now)
    for obj in loose_tmp:
        if obj.modified is not None and now - obj.modified >= grace:
            out.deletions.append(Deletion("temp", obj.key, "under tmp/ but owned by no run", (obj.key,), obj.size))
    for t in tables:
        if t.name.startswith(CTAS_TABLE_PREFIX) and not active:
            out.deletions.append(Deletion(
                "table", f"{lake_layout.DATABASE}.{t.name}",
                "CTAS table definition left by an interrupted Athena write (files are judged separately)",
                table=t.name))
    out.deletions.sort(key=lambda d: (d.kind, d.target))
    out.kept.sort(key=lambda k: k.target)
    return out


HISTORY_KEEP = 1  # the current document: always kept (the one before it until the retention)


def plan_history(history: list[ObjectInfo], *, now: dt.datetime, retention: dt.timedelta,
                 keep: int = HISTORY_KEEP) -> tuple[list[Deletion], list[str]]:
    """One table's catalog history (catalog/<db>/<table>/history/, named by time): which
    versions go (superseded longer than the retention ago, never the `keep` newest) and which
    stay. A version was superseded when the next one was written."""
    ordered = sorted(history, key=lambda o: o.key)
    deletions, kept = [], []
    for i, obj in enumerate(ordered):
        if i >= len(ordered) - keep:
            kept.append(obj.key)
            continue
        successor = ordered[i + 1].modified
        if successor is not None and now - successor >= retention:
            deletions.append(Deletion("history", obj.key,
                                      f"catalog document version superseded on {_day(successor)}, beyond the "
                                      f"{_retention_text(retention)} retention", (obj.key,), obj.size))
        else:
            kept.append(obj.key)
    return deletions, kept


def _plan_versions(out: Plan, versions: dict[str, list[ObjectInfo]], pointers: list[str], known_tables: set[str],
                   now: dt.datetime, retention: dt.timedelta, hints: dict[str, dt.datetime]) -> None:
    current_of: dict[str, str] = {}  # partition dir -> the version the catalog points to
    for p in pointers:
        if version_dir(p + "x") == p:
            current_of[p.rstrip("/").rsplit("/", 1)[0] + "/"] = p
    for vdir, objs in sorted(versions.items()):
        if any(_overlaps(vdir, p) for p in pointers):
            continue
        table_prefix = "/".join(vdir.split("/")[:2]) + "/"
        if table_prefix not in known_tables:
            out.kept.append(Kept(vdir, f"the catalog has no table at {table_prefix}: left alone"))
            continue
        written = _newest(objs, now)
        partition = vdir.rstrip("/").rsplit("/", 1)[0] + "/"
        current = current_of.get(partition)
        if current is not None and current not in versions:
            out.kept.append(Kept(vdir, f"the current version {current} lists no files, so when this one "
                                       f"left the catalog cannot be bounded: left alone"))
            continue
        # An upper bound on when the version left the catalog: a deletion is never early.
        retired = written
        if current is not None:
            retired = max(written, _newest(versions[current], now))
        if vdir in hints:
            retired = max(retired, hints[vdir])
        size = sum(o.size for o in objs)
        where = partition[len(lake_layout.WAREHOUSE_PREFIX):].rstrip("/")
        if current is None:
            what = f"{where}: version no catalog partition points to (the partition is not registered)"
        elif written > _newest(versions.get(current, []), now):
            what = f"{where}: newer than the current version but never (or no longer) published: " \
                   f"a failed, unchanged or rolled-back write"
        else:
            what = f"{where}: superseded version"
        if now - retired >= retention:
            out.deletions.append(Deletion(
                "version", vdir,
                f"{what}; out of the catalog since {_day(retired)} at the latest, beyond the "
                f"{_retention_text(retention)} retention",
                tuple(o.key for o in objs), size))
        else:
            out.kept.append(Kept(vdir, f"{what}; kept until {_day(retired + retention)} "
                                       f"({_retention_text(retention)} retention, {_size(size)})"))


def _plan_temps(out: Plan, temps: dict[str, list[ObjectInfo]], temp_runs: dict[str, str], tables: list[TableInfo],
                active: set[str], now: dt.datetime) -> None:
    temp_tables = [t for t in tables if t.name.startswith(lake_layout.TEMP_TABLE_PREFIX)]
    claimed: set[str] = set()
    for t in temp_tables:
        run = t.wap_run_id or (run_dir(t.location + "x") or (None, None))[1]
        files = [o for d, objs in temps.items() if t.location and _overlaps(d, t.location) for o in objs]
        claimed.update(d for d in temps if t.location and _overlaps(d, t.location))
        target = f"{lake_layout.DATABASE}.{t.name}"
        if run in active:
            out.kept.append(Kept(target, f"temporary table of run {run}, which is still running"))
            continue
        out.deletions.append(Deletion(
            "table", target,
            f"temporary table left by run {run or 'unknown'}, which is no longer running",
            tuple(o.key for o in files), sum(o.size for o in files), table=t.name))
    for tdir, objs in sorted(temps.items()):
        if tdir in claimed:
            continue
        run = temp_runs[tdir]
        if run in active:
            out.kept.append(Kept(tdir, f"temporary data of run {run}, which is still running"))
            continue
        newest = _newest(objs, now)
        out.deletions.append(Deletion(
            "temp", tdir, f"temporary data of run {run}, which is no longer running (last written {_day(newest)})",
            tuple(o.key for o in objs), sum(o.size for o in objs)))


def unmanifested_raw(raw: list[ObjectInfo], manifest_keys: Iterable[str], *, now: dt.datetime,
                     quiet_for: dt.timedelta) -> list[Kept]:
    """Ingest runs with raw bodies but no manifest, quiet for `quiet_for` (an ingest still
    landing has not written its manifest yet): one whose process died before its manifest.
    No WAP processes a run without a manifest, so these bodies are never published. They are
    reported, never deleted: raw is the record of what was received."""
    listed = set()
    for key in manifest_keys:
        parts = lake_layout.parse_hive_key(key.removesuffix(".json") + "/")
        listed.add((parts.get("ingest_date"), parts.get("run_id")))
    runs: dict[tuple[str, str], list[ObjectInfo]] = {}
    for o in raw:
        parts = lake_layout.parse_hive_key(o.key)
        ref = (parts.get("ingest_date"), parts.get("run_id"))
        if None not in ref and ref not in listed and not _is_partial(o.key):
            runs.setdefault(ref, []).append(o)
    out = []
    for (day, run_id), objects in sorted(runs.items()):
        if now - _newest(objects, now) < quiet_for:
            continue
        symbols = sorted({lake_layout.parse_hive_key(o.key).get("symbol") or "?" for o in objects})
        shown = ", ".join(symbols[:5]) + (f" and {len(symbols) - 5} more" if len(symbols) > 5 else "")
        out.append(Kept(
            f"{lake_layout.RAW_PREFIX}ingest_date={day}/*/run_id={run_id}/",
            f"{len(objects)} raw bod{'y' if len(objects) == 1 else 'ies'} ({shown}) of ingest run {run_id} "
            f"without a manifest (its ingest died before writing one): no WAP will publish them; "
            f"fetch those symbols again (`tickerlake ingest --symbols ...`), or delete the bodies by hand "
            f"if they are not wanted (the janitor never deletes raw data)",
        ))
    return out


def _retention_text(retention: dt.timedelta) -> str:
    return f"{retention.total_seconds() / 86400:g}-day"


def describe(plan_: Plan, *, dry_run: bool) -> list[str]:
    """Lines for people: each deletion with its size and reason, then what is kept and why."""
    verb = "would delete" if dry_run else "deleted"
    lines = [f"janitor {verb} {len(plan_.keys)} object(s), {_size(plan_.bytes)}, "
             f"and {len(plan_.tables)} table definition(s)"]
    for d in plan_.deletions:
        lines.append(f"  - {d.target}  [{len(d.keys)} object(s), {_size(d.bytes)}]  {d.reason}")
    if plan_.kept:
        lines.append(f"kept for now ({len(plan_.kept)}):")
        lines += [f"  = {k.target}  {k.reason}" for k in plan_.kept]
    return lines
