"""`tickerlake serve rebuild`: make the serving table equal to the published table, from the
published table alone (after a lost or damaged serving table, or a change of it).

- Streaming, partition by partition: a partition is read as Arrow columns and compared with
  the serving table one symbol at a time (the serving side read with a date-range query), so
  memory stays within one partition's columns and one symbol's rows.
- Idempotent: only rows that are missing or differ are written, only extra keys deleted; a
  second rebuild writes nothing.
- Into an empty table (a new or lost one, the first run after a backfill) nothing is compared:
  each partition goes to the table as columns (published.columns, ServingTable.
  put_columns_unconditionally), the same rows and texts without a Bar a row.
- It never deletes what it cannot rewrite: a published partition that cannot be read leaves
  every serving row of its dates alone (and the rebuild reports it and fails), nothing is
  truncated first, and with no published table at all it refuses instead of emptying the table.
- Versions: a missing row is written with its partition's published version, as the loader
  would have written it. A row that differs while the table holds it at that version or a newer
  one (damaged, or written by hand) cannot be fixed by a write conditional on that version: it
  is written, and extra keys deleted, under the rebuild's own run id, newer than every publish
  so far. The caller holds the lake lock, so no publish or rollback runs meanwhile, and any
  later one has a newer run id and wins as usual; a queued message of an older publish is
  refused as stale (the rebuild wrote what it carries or newer).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from glue_jobs.lake import layout
from glue_jobs.lake.errors import ConfigError, PipelineError
from glue_jobs.ports.catalog import Catalog
from glue_jobs.ports.serving import Bar, Deletion, ServingTable, WriteResult
from glue_jobs.ports.storage import Storage
from glue_jobs.serve import compare, published

log = logging.getLogger(__name__)

FLUSH_ROWS = 5_000  # bars handed to the serving table per call (it batches further itself)


class RebuildIncomplete(PipelineError):
    """Some published partitions could not be read: their dates were left as they were."""


@dataclass
class RebuildResult:
    version: str
    partitions: int = 0
    rows_read: int = 0
    written: int = 0
    deleted: int = 0
    stale: int = 0  # writes the table refused: it held a newer version (a publish after the read)
    unchanged: int = 0
    retried: int = 0
    unreadable: list[str] = field(default_factory=list)

    def absorb(self, result: WriteResult) -> None:
        self.written += result.written
        self.deleted += result.deleted
        self.stale += result.stale
        self.retried += result.retried

    def summary(self) -> str:
        return (f"rebuilt from {self.partitions} published partition{'s' if self.partitions != 1 else ''}: "
                f"{self.rows_read} rows read, {self.unchanged} already equal, {self.written} written, "
                f"{self.deleted} deleted, {self.stale} refused as stale, {self.retried} retried"
                + (f"; {len(self.unreadable)} partition(s) unreadable, left as they were" if self.unreadable else ""))


class _Writer:
    """Buffers writes and deletions, handing them over in chunks. Rows the table did not hold go
    through the unconditional bulk path (BatchWriteItem, 25 a call, on DynamoDB): under the lake
    lock nothing newer than the published partition can be written meanwhile, so no condition is
    needed, and a rebuild into an empty table is a bulk load. Repairs stay conditional."""

    def __init__(self, serving: ServingTable, result: RebuildResult):
        self.serving, self.result = serving, result
        self.bars: list[Bar] = []
        self.fresh: list[Bar] = []
        self.deletions: list[Deletion] = []

    def put(self, bars: list[Bar]) -> None:
        self.bars += bars
        if len(self.bars) >= FLUSH_ROWS:
            self.flush()

    def put_fresh(self, bars: list[Bar]) -> None:
        self.fresh += bars
        if len(self.fresh) >= FLUSH_ROWS:
            self.flush()

    def delete(self, deletions: list[Deletion]) -> None:
        self.deletions += deletions
        if len(self.deletions) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.fresh:
            bulk = getattr(self.serving, "put_bars_unconditionally", None) or self.serving.put_bars
            self.result.absorb(bulk(self.fresh))
            self.fresh = []
        if self.bars:
            self.result.absorb(self.serving.put_bars(self.bars))
            self.bars = []
        if self.deletions:
            self.result.absorb(self.serving.delete_bars(self.deletions))
            self.deletions = []


def _year_of(day: str) -> int:
    return int(day[:4])


def rebuild(storage: Storage, catalog: Catalog, serving: ServingTable, *, version: str,
            say: Callable[[str], None] = lambda line: None) -> RebuildResult:
    """Make `serving` hold exactly the published rows; `version` is the rebuild's run id (see
    the module's docstring). Raises RebuildIncomplete after doing what it could when a
    published partition cannot be read."""
    if catalog.get_table(layout.DATABASE, layout.PUBLISHED_TABLE) is None:
        raise ConfigError(f"no published table {layout.DATABASE}.{layout.PUBLISHED_TABLE} in this lake: nothing to "
                          "rebuild from; the serving table is left as it is (run `tickerlake run` first)")
    parts = published.partitions(storage, catalog)
    result = RebuildResult(version)
    writer = _Writer(serving, result)
    held_symbols = set(serving.symbols())
    # Into an empty table every published row is missing and nothing is extra: no comparison,
    # the partitions go in as columns (no Bar a row), which is what makes a rebuild bulk.
    bulk = not held_symbols and callable(getattr(serving, "put_columns_unconditionally", None))
    covered_years: set[int] = set()  # years whose serving rows a partition accounts for (read or not)
    for i, part in enumerate(parts, 1):
        start, end = part.date_range
        if start and end:
            covered_years.add(_year_of(start))
        seen: set[str] = set()
        before = (result.rows_read, result.written, result.deleted)
        try:
            if bulk:
                for cols in published.columns(storage, part):
                    result.rows_read += len(cols)
                    result.absorb(serving.put_columns_unconditionally(cols))
            for sym, bars in () if bulk else published.by_symbol(storage, part):
                seen.add(sym)
                result.rows_read += len(bars)
                _reconcile(bars, serving.get_bars(sym, start=start, end=end), version, writer, result)
        except Exception as exc:  # unreadable: its dates are left alone (never delete what cannot be rewritten)
            log.warning("published partition %s cannot be read: %s", part.label, exc, exc_info=True)
            result.unreadable.append(f"{part.label} ({part.location}): {type(exc).__name__}: {exc}")
            say(f"  {part.label} ({i}/{len(parts)}): cannot be read, left as it is: {exc}")
            continue
        if start and end:  # symbols the table holds in these dates that the partition does not publish
            for sym in sorted(held_symbols - seen):
                _reconcile([], serving.get_bars(sym, start=start, end=end), version, writer, result)
        writer.flush()
        result.partitions += 1
        say(f"  {part.label} ({i}/{len(parts)}): {result.rows_read - before[0]} rows read, "
            f"{result.written - before[1]} written, {result.deleted - before[2]} deleted")
    # Rows dated where no partition is published: extra, unless a partition without a year
    # range exists (then every date is accounted for above or unknown: leave them).
    if all(p.date_range[0] for p in parts):
        for sym in sorted(held_symbols):
            for start, end in _uncovered(covered_years):
                _reconcile([], serving.get_bars(sym, start=start, end=end), version, writer, result)
    writer.flush()
    if result.unreadable:
        raise RebuildIncomplete(f"{result.summary()}\n" + "\n".join(f"  unreadable: {u}" for u in result.unreadable))
    return result


def _uncovered(years: set[int]) -> list[tuple[str | None, str | None]]:
    """Date ranges outside the covered years: before the first, the gaps, after the last."""
    if not years:
        return [(None, None)]
    ranges: list[tuple[str | None, str | None]] = [(None, f"{min(years) - 1:04d}-12-31")]
    gap_start = None
    for year in range(min(years), max(years) + 1):
        if year not in years and gap_start is None:
            gap_start = year
        if year in years and gap_start is not None:
            ranges.append((f"{gap_start:04d}-01-01", f"{year - 1:04d}-12-31"))
            gap_start = None
    ranges.append((f"{max(years) + 1:04d}-01-01", None))
    return ranges


def _reconcile(published_bars: list[Bar], held: list[Bar], version: str, writer: _Writer,
               result: RebuildResult) -> None:
    writes, extras = compare.to_write(published_bars, held)
    result.unchanged += len(published_bars) - len(writes)
    held_by_key = {b.key: b for b in held}
    out, fresh = [], []
    for bar in writes:
        stored = held_by_key.get(bar.key)
        if stored is None:
            fresh.append(bar)
            continue
        if stored.version >= bar.version:
            # A conditional write at the partition's version would be refused: repair it under
            # the rebuild's own (newer) version.
            if stored.version >= version:
                result.stale += 1  # written by a run newer than this rebuild: not ours to change
                continue
            bar = Bar(bar.symbol, bar.trade_date, bar.open, bar.high, bar.low, bar.close, bar.volume,
                      bar.ingest_run_id, version)
        out.append(bar)
    if fresh:
        writer.put_fresh(fresh)
    if out:
        writer.put(out)
    dels = []
    for sym, day in extras:
        stored_version = held_by_key[(sym, day)].version
        if stored_version > version:
            result.stale += 1
            continue
        dels.append(Deletion(sym, day, version))
    if dels:
        writer.delete(dels)

