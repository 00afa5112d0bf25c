"""The local catalog: one JSON document per table at layout.catalog_key().

Every change rewrites the table's document with Storage.put_bytes, which replaces it
atomically, so a reader sees the document before or after a change, never a mix: switching
any number of partitions in one call is all-or-nothing (stronger than Glue's per-partition
BatchUpdatePartition). One writer at a time is the lake lock's job, not this module's.

A table partitioned by more than one key (the raw table: a partition per body, 5,000 a day
at full scale) keeps its partitions in shards, one immutable document per value of its
first key named by its content (<table>/partitions/<key>=<value>/<digest>.json), and its
document maps each value to its shard. A change writes the new shards, then the table's
document: still one atomic switch, and a run reads and rewrites its own day's shard, not
the whole history. The shard a switch replaced stays until the next switch of that value,
for readers that read the table's document just before.

Every document written is first kept under layout.catalog_history_prefix (named by time and
content), then put in place: no single damaged or deleted document loses a table, and
`tickerlake doctor --repair` restores the newest intact version. The janitor prunes a version
once it has been superseded for the retention, never the newest. The history is written
before the document: a crash between the two leaves a history one switch ahead, which a
restore would make current (publish writes its data and its record before switching, so that
switch is complete in every other respect).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import asdict

from glue_jobs.lake import failpoints, layout
from glue_jobs.ports.catalog import CatalogError, Column, Partition, TableDef, partition_filter
from glue_jobs.ports.storage import NotFound, Storage

FORMAT_VERSION = 1
SHARDED_FORMAT_VERSION = 2


def _values_text(values: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def table_to_dict(table: TableDef) -> dict:
    return asdict(table)


def table_from_dict(doc: dict) -> TableDef:
    return TableDef(
        database=doc["database"],
        name=doc["name"],
        location=doc["location"],
        format=doc["format"],
        columns=[Column(c["name"], c["type"]) for c in doc["columns"]],
        partition_keys=[Column(c["name"], c["type"]) for c in doc.get("partition_keys", [])],
        properties=dict(doc.get("properties", {})),
    )


def _partition_to_dict(p: Partition) -> dict:
    out: dict = {"values": dict(p.values), "location": p.location}
    if p.columns is not None:
        out["columns"] = [{"name": c.name, "type": c.type} for c in p.columns]
    return out


def _partition_from_dict(doc: dict) -> Partition:
    cols = doc.get("columns")
    return Partition(
        values=dict(doc["values"]),
        location=doc["location"],
        columns=[Column(c["name"], c["type"]) for c in cols] if cols is not None else None,
    )


def _sharded(table: TableDef) -> bool:
    """Tables partitioned by several keys keep a shard of partitions per first-key value."""
    return len(table.partition_keys) > 1


def _shard_value(table: TableDef, values: dict[str, str]) -> str:
    """The shard a partition belongs to: its first key's value, or "" (the one document)."""
    return str(values[table.partition_keys[0].name]) if _sharded(table) else ""


class LocalCatalog:
    """Catalog in the lake itself (see glue_jobs.ports.catalog for the contract)."""

    def __init__(self, storage: Storage):
        self.storage = storage
        # (database, name) -> (digest of the document's bytes, the document parsed, its
        # partitions once asked for): a raw table's document lists every partition ever
        # crawled, and each stage and statement asks for it again; the bytes are still read
        # every time, so a change is never missed
        self._parsed: dict[tuple[str, str], tuple[bytes, dict, list[Partition] | None]] = {}
        # shard key -> its partitions (as stored, and parsed): shards never change once written
        self._shards: dict[str, tuple[list[dict], list[Partition]]] = {}

    # -- documents ---------------------------------------------------------------------------

    def _key(self, database: str, name: str) -> str:
        return layout.catalog_key(database, name)

    def _read_raw(self, database: str, name: str) -> bytes | None:
        try:
            return self.storage.get_bytes(self._key(database, name))
        except NotFound:
            return None

    def _read(self, database: str, name: str) -> dict | None:
        raw = self._read_raw(database, name)
        return None if raw is None else self._decode(raw, database, name)

    def _read_shared(self, database: str, name: str) -> dict | None:
        """The document as stored now, parsed once per content: for reading only (never
        change what it returns, other callers get the same object)."""
        raw = self._read_raw(database, name)
        if raw is None:
            return None
        digest = hashlib.sha1(raw).digest()
        cached = self._parsed.get((database, name))
        if cached is not None and cached[0] == digest:
            return cached[1]
        doc = self._decode(raw, database, name)
        self._parsed[(database, name)] = (digest, doc, None)
        return doc

    def _shared_partitions(self, database: str, name: str,
                           where: Mapping[str, Collection[str]] | None = None) -> list[Partition] | None:
        doc = self._read_shared(database, name)
        if doc is None:
            return None
        if "shards" in doc:
            first = doc["table"]["partition_keys"][0]["name"]
            values = sorted(doc["shards"])
            if where and first in where:
                allowed = {str(v) for v in where[first]}
                values = [v for v in values if v in allowed]
            out: list[Partition] = []
            for value in values:  # in value order, each sorted: the whole sorted
                out.extend(self._shard(database, name, first, value, doc["shards"][value])[1])
            return out
        digest, cached_doc, partitions = self._parsed[(database, name)]
        if partitions is None:
            partitions = [_partition_from_dict(p) for p in doc.get("partitions", [])]
            self._parsed[(database, name)] = (digest, cached_doc, partitions)
        return partitions

    # -- shards ------------------------------------------------------------------------------

    def _shard_prefix(self, database: str, name: str, key: str, value: str) -> str:
        return f"{layout.CATALOG_PREFIX}{database}/{name}/partitions/{key}={value}/"

    def _shard(self, database: str, name: str, key: str, value: str, digest: str) -> tuple[list[dict], list[Partition]]:
        path = f"{self._shard_prefix(database, name, key, value)}{digest}.json"
        cached = self._shards.get(path)
        if cached is None:
            try:
                dicts = json.loads(self.storage.get_bytes(path))["partitions"]
            except (NotFound, ValueError, KeyError, TypeError) as exc:
                raise CatalogError(
                    f"catalog shard {self.storage.uri(path)} of {database}.{name} ({key}={value}) is missing or "
                    f"not a shard ({exc}); run `tickerlake doctor --repair`, which restores "
                    f"{database}.{name}'s document from its history (catalog/{database}/{name}/history/) "
                    f"to a version whose shards are intact; never drop the document: that forgets its partitions"
                ) from exc
            cached = (dicts, [_partition_from_dict(p) for p in dicts])
            self._shards[path] = cached
        return cached

    def _write_shard(self, database: str, name: str, key: str, value: str, dicts: list[dict]) -> str:
        """Store one value's partitions under a name taken from their content; returns it."""
        data = json.dumps({"partitions": dicts}, separators=(",", ":"), sort_keys=True).encode() + b"\n"
        digest = hashlib.sha1(data).hexdigest()[:16]
        path = f"{self._shard_prefix(database, name, key, value)}{digest}.json"
        if not self.storage.exists(path):
            self.storage.put_bytes(path, data)
        self._shards[path] = (dicts, [_partition_from_dict(p) for p in dicts])
        return digest

    def _retire_shards(self, database: str, name: str, key: str, switched: dict[str, tuple[str | None, str]]) -> None:
        """After a switch: of each value's shards keep the current one and the one it replaced."""
        for value, (previous, current) in switched.items():
            prefix = self._shard_prefix(database, name, key, value)
            keep = {f"{prefix}{d}.json" for d in (previous, current) if d}
            self.storage.delete([k for k in self.storage.list_keys(prefix) if k not in keep])

    def _store(self, database: str, name: str, doc: dict, table: TableDef, changed: dict[str, list[dict]]) -> None:
        """Write `doc` with the partitions of each changed shard value (see _shard_value)
        replaced by the given ones; a sharded table's new shards first, then the document
        that switches to them."""
        keys = [c.name for c in table.partition_keys]
        if not _sharded(table):
            doc["partitions"] = sorted(changed.get("", doc.get("partitions", [])),
                                       key=lambda p: tuple(p["values"][k] for k in keys))
            self._write(database, name, doc)
            return
        first = keys[0]
        shards = dict(doc.get("shards") or {})
        inline = doc.pop("partitions", None)  # a document from before shards: all move out now
        if inline is not None:
            by_value: dict[str, list[dict]] = {}
            for p in inline:
                by_value.setdefault(str(p["values"][first]), []).append(p)
            changed = {**by_value, **changed}
        switched = {}
        for value, dicts in changed.items():
            ordered = sorted(dicts, key=lambda p: tuple(p["values"][k] for k in keys))
            previous = shards.get(value)
            if ordered:
                shards[value] = self._write_shard(database, name, first, value, ordered)
            else:
                shards.pop(value, None)
            switched[value] = (previous, shards.get(value, ""))
        doc["format_version"] = SHARDED_FORMAT_VERSION
        doc["shards"] = dict(sorted(shards.items()))
        self._write(database, name, doc)
        self._retire_shards(database, name, first, switched)

    def _stored(self, database: str, name: str, doc: dict, table: TableDef, value: str) -> list[dict]:
        """The stored partitions (as dicts) of one shard value (see _shard_value)."""
        if not _sharded(table):
            return list(doc.get("partitions", []))
        first = table.partition_keys[0].name
        if "shards" in doc:
            digest = doc["shards"].get(value)
            return list(self._shard(database, name, first, value, digest)[0]) if digest else []
        return [p for p in doc.get("partitions", []) if str(p["values"][first]) == value]

    def _decode(self, raw: bytes, database: str, name: str) -> dict:
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise CatalogError(
                f"catalog document {self.storage.uri(self._key(database, name))} is not JSON ({exc}); "
                f"run `tickerlake doctor --repair`, which restores it from its history "
                f"(catalog/{database}/{name}/history/); never drop it: a re-run registers only the "
                f"partitions it writes, and the others leave prod"
            ) from exc

    def _write(self, database: str, name: str, doc: dict) -> None:
        # compact, so the C encoder writes it: the raw table's document lists every partition
        # ever crawled, and an indented dump of 15,000 took 0.4 s of every crawl
        data = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode() + b"\n"
        failpoints.hit("catalog.before_write", f"{database}.{name}")
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        history = f"{layout.catalog_history_prefix(database, name)}{stamp}-{hashlib.sha1(data).hexdigest()[:12]}.json"
        self.storage.put_bytes(history, data)  # the history first: the document may only ever be newer
        self.storage.put_bytes(self._key(database, name), data)
        # the next read of these bytes (the next statement, the next stage) need not parse them
        self._parsed[(database, name)] = (hashlib.sha1(data).digest(), doc, None)
        failpoints.hit("catalog.after_write", f"{database}.{name}")

    def _require(self, database: str, name: str) -> dict:
        """The stored document, to change: a shallow copy whose top-level keys may be replaced
        (never change the nested values in place: they are shared with readers)."""
        doc = self._read_shared(database, name)
        if doc is None:
            raise CatalogError(f"{database}.{name} does not exist in the local catalog: run the crawl/publish first")
        return dict(doc)

    def table_version(self, database: str, name: str) -> str | None:
        """A token that changes whenever the table or any of its partitions changes (None if
        the table does not exist); engines cache what they derive from the catalog by it."""
        raw = self._read_raw(database, name)
        return None if raw is None else hashlib.sha1(raw).hexdigest()

    # -- tables ------------------------------------------------------------------------------

    def get_table(self, database: str, name: str) -> TableDef | None:
        doc = self._read_shared(database, name)
        return None if doc is None else table_from_dict(doc["table"])

    def create_table(self, table: TableDef, *, replace: bool = False) -> None:
        """Create the table; with replace, an existing definition is updated and its partitions
        stay registered. As in Glue, a partition's values belong to the keys by position: keys
        renamed (as many as before) keep every partition, its values under the new
        names, in the same one document switch; a different number of keys drops them."""
        doc = self._read(table.database, table.name)
        new: dict = {"format_version": FORMAT_VERSION, "table": table_to_dict(table), "partitions": []}
        if doc is not None:
            if not replace:
                raise CatalogError(f"{table.qualified} already exists in the local catalog")
            old = table_from_dict(doc["table"])
            old_keys, new_keys = [c.name for c in old.partition_keys], [c.name for c in table.partition_keys]
            if old_keys == new_keys:
                if "shards" in doc:
                    new = {"format_version": SHARDED_FORMAT_VERSION, "table": new["table"], "shards": doc["shards"]}
                else:
                    new["partitions"] = doc.get("partitions", [])
            elif len(old_keys) == len(new_keys):
                self._rename_partition_keys(doc, old, table)
                return
        self._write(table.database, table.name, new)

    def _rename_partition_keys(self, doc: dict, old: TableDef, table: TableDef) -> None:
        """Write `table`'s definition with every partition of `old` kept, its values renamed by
        position: new shards first, then the one document write that switches to them."""
        renamed = dict(zip([c.name for c in old.partition_keys], [c.name for c in table.partition_keys]))
        values = sorted(doc["shards"]) if "shards" in doc else [""]
        changed = {}
        for value in values:
            stored = self._stored(table.database, table.name, doc, old, value) if "shards" in doc \
                else list(doc.get("partitions", []))
            changed[value] = [{**p, "values": {renamed[k]: v for k, v in p["values"].items()}} for p in stored]
        new = {k: v for k, v in doc.items() if k != "table"}
        new["table"] = table_to_dict(table)
        if not _sharded(table):
            new["format_version"] = FORMAT_VERSION
            new.pop("shards", None)
            changed = {"": [p for ps in changed.values() for p in ps]}
        self._store(table.database, table.name, new, table, changed)

    def drop_table(self, database: str, name: str) -> None:
        """Drop the definition only (the files are the caller's); missing tables are ignored."""
        self.storage.delete([self._key(database, name)])
        self.storage.delete(self.storage.list_keys(f"{layout.CATALOG_PREFIX}{database}/{name}/"))

    def list_tables(self, database: str) -> list[str]:
        prefix = f"{layout.CATALOG_PREFIX}{database}/"
        return sorted(
            k[len(prefix):-len(".json")] for k in self.storage.list_keys(prefix)
            if k.endswith(".json") and "/" not in k[len(prefix):]
        )

    # -- partitions --------------------------------------------------------------------------

    def list_partitions(self, database: str, name: str,
                        where: Mapping[str, Collection[str]] | None = None) -> list[Partition]:
        """Every registered partition (or those `where` allows), sorted by values."""
        partitions = self._shared_partitions(database, name, where)
        if partitions is None:
            raise CatalogError(f"{database}.{name} does not exist in the local catalog: run the crawl/publish first")
        # the same (frozen) partitions for every caller until the document changes
        if where:
            return list(filter(partition_filter(where), partitions))
        return list(partitions)

    def _checked(self, table: TableDef, partitions: list[Partition]) -> list[Partition]:
        keys = [c.name for c in table.partition_keys]
        out = []
        for p in partitions:
            if sorted(p.values) != sorted(keys):
                raise CatalogError(
                    f"{table.qualified}: partition {_values_text(p.values)} does not match "
                    f"the table's partition keys ({', '.join(keys) or 'none'})"
                )
            location = p.location if p.location.endswith("/") else p.location + "/"
            out.append(Partition({k: str(p.values[k]) for k in keys}, location, p.columns))
        return out

    def _update(self, database: str, name: str, partitions: list[Partition], *, replace: bool) -> None:
        doc = self._require(database, name)
        table = table_from_dict(doc["table"])
        keys = [c.name for c in table.partition_keys]
        groups: dict[str, list[Partition]] = {}
        for p in self._checked(table, partitions):
            groups.setdefault(_shard_value(table, p.values), []).append(p)
        changed = {}
        for value, group in groups.items():
            current = {tuple(p["values"][k] for k in keys): p for p in self._stored(database, name, doc, table, value)}
            for p in group:
                key = tuple(p.values[k] for k in keys)
                if replace or key not in current:
                    current[key] = _partition_to_dict(p)
            changed[value] = list(current.values())
        self._store(database, name, doc, table, changed)

    def add_partitions(self, database: str, name: str, partitions: list[Partition]) -> None:
        """Register partitions; ones already registered keep their location."""
        if partitions:
            self._update(database, name, partitions, replace=False)

    def switch_partitions(self, database: str, name: str, partitions: list[Partition]) -> None:
        """Point every given partition at its new location in one atomic document write."""
        if partitions:
            self._update(database, name, partitions, replace=True)

    def drop_partitions(self, database: str, name: str, values: list[dict[str, str]]) -> None:
        """Deregister partitions (files stay); missing ones are ignored."""
        doc = self._require(database, name)
        table = table_from_dict(doc["table"])
        keys = [c.name for c in table.partition_keys]
        gone = {tuple(str(v[k]) for k in keys) for v in values}
        changed = {value: [p for p in self._stored(database, name, doc, table, value)
                           if tuple(p["values"][k] for k in keys) not in gone]
                   for value in sorted({_shard_value(table, dict(zip(keys, g))) for g in gone})}
        self._store(database, name, doc, table, changed)
