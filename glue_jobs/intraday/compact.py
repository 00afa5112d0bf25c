"""Compaction of the quotes' history: once a day (UTC, the history's `dt`) is over and the
consumer has processed every record of it, that day's many batch files (one per consumer
batch) become one file per shard, under a new location the day's partition is switched to.

Readers of `stocks.intraday_quotes` see a partition's old location or its new one, never both
or neither (Catalog.switch_partitions), so no row is seen twice or missing during it; the steps
are ordered so that a crash anywhere leaves a state the next run finishes:
  1. write the merged files under `stream/quotes/compacted/dt=D/g<digest>/`, the digest naming
     the batch files merged (a rerun writes the same keys); readers still read the batch files;
  2. switch the day's partition to that location;
  3. delete the batch files the merged ones hold (a rerun finds the day switched and deletes
     what is left).
A batch file written after its day was switched (a message redriven from the failure queue,
processed late) is not read by the partition; the next run merges it and the current merged
files into a new generation the same way. A merged file keeps the history's naming, `<shard>~<first>~<last>.parquet` over the range of
the files it merged, so the shard's high-water mark (glue_jobs.intraday.history) still says what
the history holds and a replay adds no row to a compacted day.

The plan is pure (plan_day); compact_day does the I/O through the ports."""
from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass

from glue_jobs.intraday.history import COMPACTED_PREFIX, PREFIX, SEPARATOR, TABLE, parse_file_key
from glue_jobs.lake import failpoints
from glue_jobs.lake.errors import ConfigError
from glue_jobs.lake.layout import DATABASE
from glue_jobs.ports.catalog import Catalog, Partition
from glue_jobs.ports.storage import Storage
from glue_jobs.ports.stream import sequence_key


class CompactionError(ConfigError):
    """A day that cannot be compacted now, and why (the CLI exits 2 with it)."""


@dataclass(frozen=True)
class Merge:
    key: str  # the merged file
    sources: tuple[str, ...]  # the batch files it holds, in sequence order


@dataclass(frozen=True)
class DayPlan:
    day: str
    location: str  # the partition's location once compacted
    merges: tuple[Merge, ...]

    @property
    def sources(self) -> list[str]:
        return [k for m in self.merges for k in m.sources]


def batch_prefix(day: str) -> str:
    return f"{PREFIX}dt={day}/"


def is_compacted(location: str) -> bool:
    return location.startswith(COMPACTED_PREFIX)


def plan_day(day: str, keys: Sequence[str]) -> DayPlan | None:
    """What compacting `day` writes, given the keys under its batch folder; None: nothing to merge."""
    batches = sorted(k for k in keys if parse_file_key(k) is not None)
    if not batches:
        return None
    digest = hashlib.sha256("\n".join(batches).encode()).hexdigest()[:16]
    location = f"{COMPACTED_PREFIX}dt={day}/g{digest}/"
    by_shard: dict[str, list[tuple[str, str, str]]] = {}
    for key in batches:
        shard, first, last = parse_file_key(key)  # type: ignore[misc]
        by_shard.setdefault(shard, []).append((key, first, last))
    merges = []
    for shard in sorted(by_shard):
        files = sorted(by_shard[shard], key=lambda f: sequence_key(f[1]))
        name = f"{shard}{SEPARATOR}{files[0][1]}{SEPARATOR}{max((f[2] for f in files), key=sequence_key)}.parquet"
        merges.append(Merge(location + name, tuple(f[0] for f in files)))
    return DayPlan(day, location, tuple(merges))


def covered(batch_key: str, merged_keys: Sequence[str]) -> bool:
    """Whether a batch file's range lies inside a merged file of its shard (so it may go)."""
    batch = parse_file_key(batch_key)
    if batch is None:
        return False
    for key in merged_keys:
        merged = parse_file_key(key)
        if merged is not None and merged[0] == batch[0] and \
                sequence_key(merged[1]) <= sequence_key(batch[1]) and sequence_key(batch[2]) <= sequence_key(merged[2]):
            return True
    return False


@dataclass
class DayResult:
    day: str
    state: str  # "compacted", "already compacted", "nothing to compact"
    files_merged: int = 0
    files_written: int = 0
    rows: int = 0
    leftovers_deleted: int = 0


def compact_day(storage: Storage, catalog: Catalog, day: str) -> DayResult:
    """Compact one day whose consumer has finished (the caller checks: `compactable_days`)."""
    partitions = catalog.list_partitions(DATABASE, TABLE, where={"dt": [day]})
    if not partitions:
        raise CompactionError(f"stocks.{TABLE} has no partition dt={day} in the catalog: nothing was consumed "
                              "that day, or the table locates its days by partition projection (the stack's), "
                              "where the day's files cannot be swapped for one at once")
    current = partitions[0].location
    batch_keys = storage.list_keys(batch_prefix(day))
    if is_compacted(current):
        merged = storage.list_keys(current)
        late = [k for k in batch_keys if parse_file_key(k) is not None and not covered(k, merged)]
        if not late:
            # a previous run switched the day: finish its deletes (batch files it merged, and
            # merged files of an older generation, which the partition no longer reads)
            gone = [k for k in batch_keys if covered(k, merged)] + _old_generations(storage, day, current)
            storage.delete(gone)
            return DayResult(day, "already compacted", leftovers_deleted=len(gone))
        # records written after the day was compacted (a message redriven from the failure
        # queue): the partition does not read them, so they join a new generation
        plan = plan_day(day, merged + late)
    else:
        plan = plan_day(day, batch_keys)
    if plan is None:
        return DayResult(day, "nothing to compact")
    rows = 0
    for merge in plan.merges:
        data, count = _merged(storage, merge.sources)
        storage.put_bytes(merge.key, data)
        rows += count
        failpoints.hit("intraday.compact.after_write", merge.key)
    catalog.switch_partitions(DATABASE, TABLE, [Partition({"dt": day}, plan.location)])
    failpoints.hit("intraday.compact.after_switch", plan.location)
    storage.delete(plan.sources + [k for k in batch_keys if covered(k, [m.key for m in plan.merges])
                                   and k not in plan.sources])
    return DayResult(day, "compacted", files_merged=len(plan.sources), files_written=len(plan.merges), rows=rows)


def _old_generations(storage: Storage, day: str, current: str) -> list[str]:
    return [k for k in storage.list_keys(f"{COMPACTED_PREFIX}dt={day}/") if not k.startswith(current)]


def _merged(storage: Storage, keys: Sequence[str]) -> tuple[bytes, int]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(io.BytesIO(storage.get_bytes(k))) for k in keys]
    table = pa.concat_tables(tables)
    expected = sum(t.num_rows for t in tables)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    data = buffer.getvalue()
    if pq.read_metadata(io.BytesIO(data)).num_rows != expected:
        raise CompactionError(f"merging {len(keys)} files of {keys[0]}: wrote a row count other than their {expected}")
    return data, expected


def compactable_days(storage: Storage, catalog: Catalog, before: str) -> list[str]:
    """The history's days before `before` (today, UTC, as a day still open can get records; or
    the arrival day of the oldest record the consumer has still to process, if earlier) that
    are not compacted yet, or were switched by a run that stopped before deleting the batch files."""
    out = []
    for p in catalog.list_partitions(DATABASE, TABLE):
        day = p.values["dt"]
        if day < before and (not is_compacted(p.location) or storage.list_keys(batch_prefix(day))):
            out.append(day)
    return out
