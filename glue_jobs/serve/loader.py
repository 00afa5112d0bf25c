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

A partition whose changes are more than one invocation can write (a backfill's year: about 1.25
million bars, one conditional PutItem each on DynamoDB) is not written by the message that names
it: given a `requeue`, the loader sends one slice message per range of symbols (at most
SLICE_BARS writes each) back to its own queue, and each slice is loaded like a manifest, limited
to its symbols. Slices are deterministic and the writes conditional, so a manifest message
delivered twice sends its slices twice and changes nothing more.
"""
from __future__ import annotations

import collections
import functools
import json
import logging
from collections.abc import Callable, Iterable, Sequence
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
# The writes one message may make when it can hand the rest to its queue: on DynamoDB each is a
# conditional PutItem (a batch write cannot carry a condition), about 5-10 ms from a Lambda, so
# 10,000 take 50-100 s of the loader's 300 s timeout. A day of 5,000 symbols is one message.
SLICE_BARS = 10_000
SLICE_KIND = "tickerlake.serve.slice"
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
        changed, gone = partition_changes(storage, manifest, part)
        bars += _bars(changed, manifest.version)
        deletions += gone
    return bars, deletions


def partition_changes(storage: Storage, manifest: PublishedManifest, part: published_manifest.PublishedPartition,
                      symbols: tuple[str, str] | None = None) -> tuple[pa.Table, list[Deletion]]:
    """One switched partition's changed rows (as columns) and removed keys, of the slice's
    symbols only when `symbols` is given."""
    recorded = _recorded(storage, part)
    if recorded is not None:
        return _within(recorded, symbols), []
    new = _within(_rows(storage, part.location, required=True), symbols)
    old = _within(_rows(storage, part.previous_location, required=False), symbols)
    if old is None:
        return new, []
    previous = old.rename_columns([c if c in _KEYS else f"{c}_old" for c in old.column_names])
    joined = new.join(previous, keys=list(_KEYS), join_type="left outer", use_threads=False)
    # a key only in the new version has nulls on the old side: it differs
    differ = [_differs(joined.column(c), joined.column(f"{c}_old")) for c in _VALUES]
    mask = functools.reduce(pc.or_, differ)
    changed = joined.filter(mask).select(list(_TYPES))
    gone = old.select(list(_KEYS)).join(new.select(list(_KEYS)), keys=list(_KEYS), join_type="left anti",
                                        use_threads=False)
    deletions = [Deletion(sym, day.isoformat(), manifest.version)
                 for sym, day in sorted(zip(gone.column("symbol").to_pylist(), gone.column("trade_date").to_pylist()))]
    return changed, deletions


def _within(table: pa.Table | None, symbols: tuple[str, str] | None) -> pa.Table | None:
    if table is None or symbols is None:
        return table
    first, last = symbols
    column = table.column("symbol")
    return table.filter(pc.and_(pc.greater_equal(column, first), pc.less_equal(column, last)))


def slice_ranges(counts: Iterable[tuple[str, int]], limit: int) -> list[tuple[str, str]]:
    """Consecutive symbols grouped into ranges of at most `limit` writes each (a symbol is never
    split: one with more than `limit` is a range of its own). `counts`: (symbol, writes), any order."""
    ranges: list[tuple[str, str]] = []
    first = last = None
    total = 0
    for symbol, count in sorted(counts):
        if first is not None and total + count > limit:
            ranges.append((first, last))
            first, total = None, 0
        if first is None:
            first = symbol
        last, total = symbol, total + count
    if first is not None:
        ranges.append((first, last))
    return ranges


def slice_body(manifest_key: str, location: str, symbols: tuple[str, str]) -> str:
    return json.dumps({"kind": SLICE_KIND, "manifest": manifest_key, "location": location,
                       "first": symbols[0], "last": symbols[1]}, sort_keys=True)


def parse_slice(body: str) -> dict | None:
    """The slice a message names, or None when it is not a slice (an S3/EventBridge event)."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("kind") != SLICE_KIND:
        return None
    fields = ("manifest", "location", "first", "last")
    if not all(isinstance(doc.get(f), str) and doc[f] for f in fields) or doc["first"] > doc["last"]:
        raise MessageError(f"a serving slice message needs {', '.join(fields)} as text, first <= last: {body[:200]}")
    return doc


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


def load(records: Iterable[Record], storage: Storage, serving: ServingTable,
         requeue: Callable[[str], Any] | None = None) -> LoadResult:
    """Apply each record's manifest (or slice of one); a record that fails is named in `failures`
    with why. With `requeue` (send a body to the loader's own queue), a partition of more than
    SLICE_BARS changes is sent back as slices instead of written here."""
    out = LoadResult()
    for record in records:
        try:
            piece = parse_slice(record.body)
            if piece is not None:
                _load_slice(piece, storage, serving, out, record.message_id)
                out.loaded.append(record.message_id)
                continue
            done = 0
            for bucket, key in object_keys(record.body):
                relative = lake_key(storage, bucket, key)
                if not layout.is_published_manifest_key(relative):
                    # an ingest run's published marker shares the prefix: not the serving table's event
                    log.info("message %s: %s is not a published manifest; nothing to load", record.message_id, key)
                    continue
                manifest = read_manifest(storage, relative)
                written = WriteResult()
                sliced = 0
                for part in manifest.partitions:
                    changed, deletions = partition_changes(storage, manifest, part)
                    if requeue is not None and changed.num_rows + len(deletions) > SLICE_BARS:
                        counts = collections.Counter(changed.column("symbol").to_pylist())
                        counts.update(d.symbol for d in deletions)
                        for symbols in slice_ranges(counts.items(), SLICE_BARS):
                            requeue(slice_body(relative, part.location, symbols))
                            sliced += 1
                        continue
                    written = written.add(apply(serving, _bars(changed, manifest.version), deletions, detail=relative))
                out.written = out.written.add(written)
                done += 1
                log.info("message %s: %s (version %s): %d bars written, %d stale, %d deleted; %d slice(s) sent back",
                         record.message_id, relative, manifest.version, written.written, written.stale,
                         written.deleted, sliced)
            (out.loaded if done else out.skipped).append(record.message_id)
        except MessageError as exc:
            out.failures[record.message_id] = str(exc)
            log.error("message %s failed: %s", record.message_id, exc)
        except Exception as exc:  # a throttled or failing write: this message is retried, the batch goes on
            out.failures[record.message_id] = f"{type(exc).__name__}: {exc}"
            log.exception("message %s failed", record.message_id)
    return out


def _load_slice(piece: dict, storage: Storage, serving: ServingTable, out: LoadResult, message_id: str) -> None:
    manifest = read_manifest(storage, piece["manifest"])
    part = next((p for p in manifest.partitions if p.location == piece["location"]), None)
    if part is None:
        raise MessageError(f"published manifest {piece['manifest']} switched no partition to {piece['location']}")
    symbols = (piece["first"], piece["last"])
    changed, deletions = partition_changes(storage, manifest, part, symbols)
    written = apply(serving, _bars(changed, manifest.version), deletions, detail=piece["manifest"])
    out.written = out.written.add(written)
    log.info("message %s: slice %s..%s of %s in %s: %d bars written, %d stale, %d deleted", message_id, *symbols,
             part.location, piece["manifest"], written.written, written.stale, written.deleted)
