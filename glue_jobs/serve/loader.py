"""The loader: turn published-manifest events into serving-table writes. The same code runs in
the loader Lambda (workflows/entry/serve_loader.py, from SQS) and locally (glue_jobs/serve/sync.py,
from the SQLite queue).

Each message's body is an EventBridge "Object Created" event for manifests/published/<run>.json
(an S3 notification's Records are read too). For every partition the manifest switched, the
rows of the new location that differ from the previous location's become Bars at the manifest's
version, and the keys only in the previous location become Deletions. Writes are conditional
on the version (glue_jobs.ports.serving), so replaying any message, in any order, changes
nothing: a crash anywhere converges once the message is delivered again.

A message that cannot be used (manifest missing, malformed, its files gone) fails alone, with
a reason; the others of its batch are written and deleted.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from glue_jobs.lake import failpoints, layout, parquet, published_manifest
from glue_jobs.lake.published_manifest import ManifestError, PublishedManifest

# the event parsing is the lake's (the drop loader reads the same events without pyarrow)
from glue_jobs.lake.s3_events import MessageError, event_body, lake_key, object_keys  # noqa: F401
from glue_jobs.ports.serving import Bar, Deletion, ServingTable, WriteResult
from glue_jobs.ports.storage import NotFound, Storage

log = logging.getLogger("tickerlake.serve")

CHUNK = 500  # bars per serving-table call: a crash between chunks is the loader's "mid-batch"
_PRICE_COLUMNS = ("open", "high", "low", "close")


@dataclass(frozen=True)
class Record:
    message_id: str
    body: str


@dataclass
class LoadResult:
    written: WriteResult = field(default_factory=WriteResult)
    loaded: list[str] = field(default_factory=list)  # message ids done (or not ours: nothing to do)
    skipped: list[str] = field(default_factory=list)  # message ids of events that are not manifests
    failures: dict[str, str] = field(default_factory=dict)  # message id -> reason


def read_manifest(storage: Storage, key: str) -> PublishedManifest:
    try:
        data = storage.get_bytes(key)
    except NotFound:
        raise MessageError(f"published manifest {key} does not exist") from None
    try:
        return published_manifest.parse(data, key=key)
    except ManifestError as exc:
        raise MessageError(str(exc)) from None


def _price(value: Any) -> Decimal:
    # the shortest text that reads back as the published double, as DynamoDB would store it
    return Decimal(repr(float(value)))


_KEYS = ("symbol", "trade_date")
_VALUES = (*_PRICE_COLUMNS, "volume", "run")
_TYPES = {"symbol": pa.string(), "trade_date": pa.date32(), **{c: pa.float64() for c in _PRICE_COLUMNS},
          "volume": pa.int64(), "run": pa.string()}


def _rows(storage: Storage, location: str | None, *, required: bool) -> pa.Table | None:
    """The location's bars as columns of one schema (older layouts name the run column run_id,
    or have none)."""
    if location is None:
        return None
    table = parquet.read_table(storage, location)
    if table is None:
        if required:
            raise MessageError(f"the published location {location} holds no files (removed by the janitor?)")
        return None
    names = table.column_names
    run_column = "ingest_run_id" if "ingest_run_id" in names else ("run_id" if "run_id" in names else None)
    columns = {c: table.column(c) for c in (*_KEYS, *_PRICE_COLUMNS, "volume")}
    columns["run"] = table.column(run_column) if run_column else pa.nulls(table.num_rows, pa.string())
    return pa.table({c: columns[c].cast(_TYPES[c]) for c in _TYPES})


def _differs(a: pa.ChunkedArray, b: pa.ChunkedArray) -> pa.ChunkedArray:
    # null-safe: two nulls are equal, a null and a value differ
    one_null = pc.xor(pc.is_null(a), pc.is_null(b))
    return pc.or_(pc.fill_null(pc.not_equal(a, b), False), one_null)


def changes(storage: Storage, manifest: PublishedManifest) -> tuple[list[Bar], list[Deletion]]:
    """What the manifest's switches changed: the bars to put and the keys to delete. Where publish
    recorded the rows it changed, those (a publish deletes no key); otherwise the two versions
    of a partition (a year of every symbol) are compared as columns."""
    bars: list[Bar] = []
    deletions: list[Deletion] = []
    for part in manifest.partitions:
        recorded = _recorded(storage, part)
        if recorded is not None:
            bars += _bars(recorded, manifest.version)
            continue
        new = _rows(storage, part.location, required=True)
        old = _rows(storage, part.previous_location, required=False)
        if old is None:
            changed = new
        else:
            previous = old.rename_columns([c if c in _KEYS else f"{c}_old" for c in old.column_names])
            joined = new.join(previous, keys=list(_KEYS), join_type="left outer", use_threads=False)
            # a key only in the new version has nulls on the old side: it differs
            differ = [_differs(joined.column(c), joined.column(f"{c}_old")) for c in _VALUES]
            mask = functools.reduce(pc.or_, differ)
            changed = joined.filter(mask).select(list(_TYPES))
            gone = old.select(list(_KEYS)).join(new.select(list(_KEYS)), keys=list(_KEYS), join_type="left anti",
                                                use_threads=False)
            deletions += [Deletion(sym, day.isoformat(), manifest.version)
                          for sym, day in sorted(zip(gone.column("symbol").to_pylist(),
                                                     gone.column("trade_date").to_pylist()))]
        bars += _bars(changed, manifest.version)
    return bars, deletions


def _recorded(storage: Storage, part: published_manifest.PublishedPartition) -> pa.Table | None:
    """The rows publish recorded as changed by this switch (glue_jobs/lake/published_changes.py),
    or None to compare the versions: none recorded (a rollback, an older manifest), no previous
    version (the whole partition is new), or the record gone."""
    if part.changes is None or part.previous_location is None:
        return None
    rows = _rows(storage, part.changes, required=False)
    if rows is None:
        log.warning("the changes recorded at %s are gone: comparing %s with %s instead", part.changes,
                    part.location, part.previous_location)
    return rows


def _bars(changed: pa.Table, version: str) -> list[Bar]:
    rows = sorted(zip(*(changed.column(c).to_pylist() for c in _TYPES)), key=lambda r: (r[0], r[1]))
    return [Bar(symbol, day.isoformat(), _price(o), _price(h), _price(lo), _price(c), int(v), str(run or ""), version)
            for symbol, day, o, h, lo, c, v, run in rows]


def apply(serving: ServingTable, bars: Sequence[Bar], deletions: Sequence[Deletion], *, detail: str = "") -> WriteResult:
    result = WriteResult()
    for start in range(0, len(bars), CHUNK):
        if start:
            failpoints.hit("serve.mid_batch", detail)
        result = result.add(serving.put_bars(bars[start:start + CHUNK]))
    for start in range(0, len(deletions), CHUNK):
        result = result.add(serving.delete_bars(deletions[start:start + CHUNK]))
    return result


def load(records: Iterable[Record], storage: Storage, serving: ServingTable) -> LoadResult:
    """Apply each record's manifest; a record that fails is named in `failures` with why."""
    out = LoadResult()
    for record in records:
        try:
            done = 0
            for bucket, key in object_keys(record.body):
                relative = lake_key(storage, bucket, key)
                if not layout.is_published_manifest_key(relative):
                    # an ingest run's published marker shares the prefix: not the serving table's event
                    log.info("message %s: %s is not a published manifest; nothing to load", record.message_id, key)
                    continue
                manifest = read_manifest(storage, relative)
                bars, deletions = changes(storage, manifest)
                written = apply(serving, bars, deletions, detail=relative)
                out.written = out.written.add(written)
                done += 1
                log.info("message %s: %s (version %s): %d bars written, %d stale, %d deleted", record.message_id,
                         relative, manifest.version, written.written, written.stale, written.deleted)
            (out.loaded if done else out.skipped).append(record.message_id)
        except MessageError as exc:
            out.failures[record.message_id] = str(exc)
            log.error("message %s failed: %s", record.message_id, exc)
        except Exception as exc:  # a throttled or failing write: this message is retried, the batch goes on
            out.failures[record.message_id] = f"{type(exc).__name__}: {exc}"
            log.exception("message %s failed", record.message_id)
    return out
