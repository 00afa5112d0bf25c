"""Parquet files of the lake read and written through Storage, for the stages that handle
rows in Python (the audit, publish's checksums). A local file is memory-mapped; an s3://
object is opened through pyarrow's filesystem layer so only the footer and the row groups
asked for are fetched."""
from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq

from glue_jobs.lake import layout
from glue_jobs.ports.catalog import Column
from glue_jobs.ports.storage import Storage

_ARROW_TYPES = {
    "string": pa.string(),
    "date": pa.date32(),
    "double": pa.float64(),
    "bigint": pa.int64(),
    "int": pa.int32(),
    "timestamp": pa.timestamp("us"),
    "boolean": pa.bool_(),
}


def schema_of(columns: list[Column]) -> pa.Schema:
    return pa.schema([(c.name, _ARROW_TYPES[c.type]) for c in columns])


def is_data_file(key: str) -> bool:
    base = key.rsplit("/", 1)[-1]
    return not base.startswith((".", "_")) and not base.endswith((".json", ".crc"))


def open_file(storage: Storage, key: str, *, read_dictionary: list[str] | None = None) -> pq.ParquetFile:
    """The Parquet file at `key`; columns in `read_dictionary` are read dictionary-encoded (a
    symbol repeated a million times stays one string and a million small integers)."""
    uri = storage.uri(key)
    if "://" not in uri:
        return pq.ParquetFile(uri, memory_map=True, read_dictionary=read_dictionary)
    opened = getattr(storage, "input_file", None)
    source = opened(key) if opened is not None else pa.BufferReader(storage.get_bytes(key))
    return pq.ParquetFile(source, read_dictionary=read_dictionary)


def data_files(storage: Storage, location: str) -> list[str]:
    return [k for k in storage.list_keys(location) if is_data_file(k)]



def versions_on_disk(storage: Storage, table: str, key: str, values: list[str]) -> set[str]:
    """The version folders (…/<key>=<value>/v=<run>/) already on disk under these partitions:
    older runs', or an earlier attempt's of this one. A new version never reuses one."""
    occupied: set[str] = set()
    for value in values:
        prefix = layout.partition_version_prefix(table, {key: value}, "_").rsplit("v=_/", 1)[0]
        occupied.update(k.rsplit("/", 1)[0] + "/" for k in storage.list_keys(prefix))
    return occupied


def same_rows(storage: Storage, current: str, candidate: str, *, renamed: dict[str, str] | None = None) -> bool:
    """Whether `candidate` holds exactly `current`'s rows (`current`'s columns renamed first).
    Row counts from the files' footers first, so a version that adds rows is told apart without
    reading any."""
    return same_rows_of_files(storage, data_files(storage, current), data_files(storage, candidate), renamed=renamed)


def same_rows_of_files(storage: Storage, current: list[str], candidate: list[str], *,
                       renamed: dict[str, str] | None = None) -> bool:
    """same_rows for two lists of files (a segment of a partition's versions)."""
    count = _rows_of_files(storage, current)
    if count != _rows_of_files(storage, candidate):
        return False
    if count == 0:
        return True
    before, after = _read_files(storage, current), _read_files(storage, candidate)
    if renamed:
        before = before.rename_columns([renamed.get(n, n) for n in before.column_names])
    # imported here: merge_plan needs pandas and numpy, which the serve loader Lambda's bundle
    # (pyarrow only) lacks, and the loader reads Parquet through this module
    from glue_jobs.lake import merge_plan

    return merge_plan.content_checksum(as_athena_reads(before)) == merge_plan.content_checksum(as_athena_reads(after))


def as_athena_reads(table: pa.Table) -> pa.Table:
    """The rows as Athena reads them: timestamps at millisecond precision, rounded half up
    (Trino's Parquet reader for timestamp(3)). Files written before the local engine typed
    timestamps as Athena does hold microseconds; a rewrite of them holds milliseconds, and
    the two are the same rows to every reader."""
    import pyarrow.compute as pc

    columns = []
    for field, column in zip(table.schema, table.columns):
        if pa.types.is_timestamp(field.type) and field.type.unit in ("us", "ns"):
            per_ms = 1000 if field.type.unit == "us" else 1_000_000
            ticks = column.cast(pa.int64())
            ms = pc.divide(pc.add(ticks, per_ms // 2), per_ms)  # post-1970 instants: truncation is floor
            column = ms.cast(pa.timestamp("ms", tz=field.type.tz))
            field = field.with_type(column.type)
        columns.append(column)
    return pa.table(columns, schema=pa.schema([f if not pa.types.is_timestamp(f.type) else f.with_type(c.type)
                                                for f, c in zip(table.schema, columns)]))


def row_count(storage: Storage, location: str) -> int:
    """Rows under a location, from the files' footers (no row is read)."""
    return _rows_of_files(storage, data_files(storage, location))


def _rows_of_files(storage: Storage, keys: list[str]) -> int:
    return sum(open_file(storage, k).metadata.num_rows for k in keys)


def read_table(storage: Storage, location: str, columns: list[str] | None = None) -> pa.Table | None:
    """Every row under a location (None when it holds no files)."""
    return _read_files(storage, data_files(storage, location), columns)


def _read_files(storage: Storage, keys: list[str], columns: list[str] | None = None) -> pa.Table | None:
    tables = [open_file(storage, k).read(columns=columns) for k in keys]
    if not tables:
        return None
    return pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]


def write_table(storage: Storage, key: str, table: pa.Table) -> None:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    storage.put_bytes(key, buffer.getvalue())
