"""Pure planning for publish: which partitions a run touches, where each merged version goes,
how the writes are grouped, and whether a merged partition differs from the current one.

Publishing never deletes then writes: each touched partition is merged into a fresh
location (layout.partition_version_prefix) and only then does the catalog switch the
partition to it. The old version stays for readers still on it; the janitor removes it later.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import pyarrow as pa

from glue_jobs.lake import layout

# Athena writes at most 100 partitions per CTAS / INSERT INTO (HIVE_TOO_MANY_OPEN_PARTITIONS),
# and Glue's batch partition calls take at most 100 entries.
MAX_PARTITIONS_PER_STATEMENT = 100

T = TypeVar("T")


@dataclass(frozen=True)
class PartitionWrite:
    values: dict[str, str]
    current: str | None  # where readers find the partition now (None: a new partition)
    target: str  # the fresh location the merged version is written to


def chunked(items: Sequence[T], size: int = MAX_PARTITIONS_PER_STATEMENT) -> list[list[T]]:
    """Items in consecutive groups of at most `size`."""
    if size <= 0:
        raise ValueError("size must be positive")
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def max_partitions(settings: dict | None) -> int:
    """Partitions per statement and per catalog batch: MAX_PARTITIONS_PER_STATEMENT, or the
    smaller `max_partitions_per_statement` setting (tests force chunking on small backfills)."""
    value = (settings or {}).get("max_partitions_per_statement")
    if value in (None, ""):
        return MAX_PARTITIONS_PER_STATEMENT
    limit = int(value)
    if not 1 <= limit <= MAX_PARTITIONS_PER_STATEMENT:
        raise ValueError(f"max_partitions_per_statement must be 1..{MAX_PARTITIONS_PER_STATEMENT}, got {value!r}")
    return limit


def fresh_location(table: str, values: dict[str, str], version: str, occupied: set[str]) -> str:
    """The partition's version prefix for `version`, or `version-2`, `-3`... if a previous
    attempt of the same run already holds that one (a location is written once, ever)."""
    attempt = 1
    while True:
        name = version if attempt == 1 else f"{version}-{attempt}"
        location = layout.partition_version_prefix(table, values, name)
        if location not in occupied:
            return location
        attempt += 1


def plan_writes(
    table: str,
    partition_key: str,
    touched: Iterable[str | int],
    current: dict[str, str],
    version: str,
    occupied: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[PartitionWrite]:
    """One write per touched partition value, in value order, each to a fresh location.
    `current` maps a partition value to its current location; `occupied` holds locations
    that already have files (or are current), which a write must never reuse."""
    taken = set(occupied) | set(current.values())
    writes = []
    for value in sorted({str(v) for v in touched}, key=_sort_key):
        values = {partition_key: value}
        target = fresh_location(table, values, version, taken)
        taken.add(target)
        writes.append(PartitionWrite(values, current.get(value), target))
    return writes


def statements(writes: list[PartitionWrite], max_partitions: int = MAX_PARTITIONS_PER_STATEMENT) -> list[list[PartitionWrite]]:
    """Writes grouped so no statement (or catalog batch) touches more than max_partitions."""
    return chunked(writes, max_partitions)


def _sort_key(value: str) -> tuple[int, str]:
    return (0, f"{int(value):020d}") if value.lstrip("-").isdigit() else (1, value)


def content_checksum(table: pa.Table | None) -> str:
    """An order-insensitive fingerprint of a table's rows (and column names and types): equal
    for two partitions with the same rows however files and row groups were cut."""
    digest = hashlib.sha256()
    if table is None or table.num_rows == 0:
        digest.update(b"empty")
        return digest.hexdigest()
    table = table.select(sorted(table.column_names))
    # names and types only: writers differ in what they mark nullable
    digest.update(repr([(f.name, str(f.type)) for f in table.schema]).encode())
    # imported here: drop temp (through migrate) imports this module, and pandas' import is
    # most of that stage's time; the runner imports it beside write temp (workflows/preload.py)
    import numpy as np
    import pandas as pd

    frame = table.to_pandas()
    row_hashes = np.sort(pd.util.hash_pandas_object(frame, index=False).to_numpy())
    digest.update(row_hashes.tobytes())
    digest.update(str(table.num_rows).encode())
    return digest.hexdigest()
