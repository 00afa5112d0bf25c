"""The manifest publish writes beside each partition version it publishes
(warehouse/<table>/<partition>/v=R/_manifest.json, hidden from readers by its leading "_"):
every data file with its size, row count and SHA-256, so a damaged or missing file is told
apart from an intact one without trusting the file itself (tickerlake doctor, publish's own
check of the partitions it merges into).

    build(storage, location, ...)   read the files just written: the manifest (I/O)
    observe(storage, location)      what the location holds now, cheaply or with checksums (I/O)
    compare(manifest, observed)     pure: what is wrong, one line per problem
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from glue_jobs.lake import layout, parquet
from glue_jobs.ports.storage import NotFound, Storage

MANIFEST_VERSION = 1
PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class FileFact:
    key: str
    bytes: int
    rows: int | None  # None: the footer could not be read (not Parquet, truncated)
    sha256: str | None  # None when not computed (a cheap look)
    error: str | None = None


def _footer(storage: Storage, key: str, data: bytes | None) -> pq.ParquetFile | None:
    """The file's Parquet reader: from the bytes already read, or (a local file only) from
    disk; None on object storage without the bytes (a cheap look reads no object)."""
    if data is not None:
        return pq.ParquetFile(pa.BufferReader(data))
    if "://" in storage.uri(key):
        return None
    return parquet.open_file(storage, key)


def _fact(storage: Storage, key: str, *, checksum: bool, runs: set[str] | None = None) -> FileFact:
    try:
        data = storage.get_bytes(key) if checksum else None
    except NotFound:
        return FileFact(key, 0, None, None, "missing")
    digest = hashlib.sha256(data).hexdigest() if data is not None else None
    rows, error = None, None
    try:
        reader = _footer(storage, key, data)
        if reader is not None:
            rows = reader.metadata.num_rows
            # the ingest runs whose rows the file holds (`run_id` in files written before the rename)
            names = reader.schema_arrow.names
            column_name = "ingest_run_id" if "ingest_run_id" in names else "run_id" if "run_id" in names else None
            if runs is not None and column_name:
                column = reader.read(columns=[column_name]).column(column_name)
                runs.update(str(v) for v in column.unique().to_pylist() if v is not None)
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        rows, error = None, f"not a readable Parquet file ({type(exc).__name__}: {str(exc)[:120]})"
    size = len(data) if data is not None else _size(storage, key)
    return FileFact(key, size, rows, digest, error)


def _size(storage: Storage, key: str) -> int:
    lister = getattr(storage, "list_objects", None)
    if lister is not None:
        for o in lister(key):
            if o.key == key:
                return int(o.size)
    return len(storage.get_bytes(key))


def observe(storage: Storage, location: str, *, checksum: bool = True) -> list[FileFact]:
    """The data files under a version location now (each footer read; checksums if asked)."""
    return [_fact(storage, k, checksum=checksum) for k in parquet.data_files(storage, location)]


def build(storage: Storage, location: str, *, table: str, values: dict[str, str], run_id: str,
          carried: dict[str, dict] | None = None) -> dict:
    """Each file read once: its checksum, its footer's row count, and the ingest runs whose rows
    it holds (what a re-publish from raw requeues). `carried` holds the entries of files carried
    from the version before (publish's untouched segments, keyed by their new key): the same
    bytes, so their entry is taken, not computed again."""
    carried = carried or {}
    entries, errors = [], False
    for key in parquet.data_files(storage, location):
        if key in carried:
            entries.append({**carried[key], "key": key})
            continue
        runs: set[str] = set()
        fact = _fact(storage, key, checksum=True, runs=runs)
        errors = errors or fact.error is not None
        entries.append({"key": key, "bytes": fact.bytes, "rows": fact.rows, "sha256": fact.sha256,
                        "ingest_runs": sorted(runs)})
    # a carried entry from before files listed their own runs says nothing of them
    known = not errors and all(isinstance(e.get("ingest_runs"), list) for e in entries)
    return {
        "version": MANIFEST_VERSION,
        "table": table,
        "partition": dict(values),
        "location": location,
        "run_id": run_id,
        "rows": sum(e["rows"] or 0 for e in entries),
        "ingest_runs": sorted({r for e in entries for r in e["ingest_runs"]}) if known else None,
        "files": entries,
    }


def write(storage: Storage, location: str, manifest: dict) -> str:
    key = layout.version_manifest_key(location)
    storage.put_bytes(key, json.dumps(manifest, indent=1, sort_keys=True).encode() + b"\n")
    return key


def read(storage: Storage, location: str) -> dict | None:
    """The manifest (None when the version has none: published before manifests existed).
    Raises ValueError when it is there but damaged."""
    key = layout.version_manifest_key(location)
    try:
        raw = storage.get_bytes(key)
    except NotFound:
        return None
    doc = json.loads(raw)  # ValueError when damaged
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise ValueError("not a version manifest (no list of files)")
    for f in doc["files"]:
        if not isinstance(f, dict) or not {"key", "bytes", "rows", "sha256"} <= set(f):
            raise ValueError("a file entry lacks key, bytes, rows or sha256")
    return doc


def compare(manifest: dict | None, observed: list[FileFact]) -> list[str]:
    """Pure: the problems of a version's files against its manifest (or, without a manifest,
    the files' own readability and that there are any). Empty when intact."""
    problems = []
    seen = {f.key: f for f in observed}
    if manifest is None:
        if not observed:
            problems.append("holds no data file")
        problems += [f"{f.key}: {f.error}" for f in observed if f.error]
        return problems
    listed = {f["key"]: f for f in manifest["files"]}
    for key, want in sorted(listed.items()):
        got = seen.get(key)
        if got is None or got.error == "missing":
            problems.append(f"{key}: missing (published with {want['rows']} rows)")
            continue
        if got.bytes != want["bytes"]:
            problems.append(f"{key}: {got.bytes} bytes, published with {want['bytes']} (truncated or rewritten)")
        elif got.sha256 is not None and got.sha256 != want["sha256"]:
            problems.append(f"{key}: content differs from its published checksum")
        elif got.error:
            problems.append(f"{key}: {got.error}")
        elif got.rows is not None and got.rows != want["rows"]:
            problems.append(f"{key}: {got.rows} rows, published with {want['rows']}")
    for key in sorted(set(seen) - set(listed)):
        problems.append(f"{key}: not among the files published in this version")
    return problems


def check(storage: Storage, location: str, *, checksum: bool = True) -> list[str]:
    """The problems of one version location now (see compare); a damaged manifest is one."""
    try:
        manifest = read(storage, location)
    except ValueError as exc:
        manifest = None
        extra = [f"{layout.version_manifest_key(location)}: damaged manifest ({exc})"]
    else:
        extra = []
    return extra + compare(manifest, observe(storage, location, checksum=checksum))
