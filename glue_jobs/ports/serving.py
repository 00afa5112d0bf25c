"""The serving table interface: what publish published, one row per symbol and trade date,
for applications that need a symbol's recent bars in milliseconds. DynamoDB on AWS, SQLite
locally; both keyed by symbol (partition key) and ISO trade date (sort key).

Every write is conditional on the row's version: a row is written only when the table holds
no row for its key or an older version, so a replayed or late message never overwrites a
newer row, and a rollback (which publishes under a newer version) wins. Versions are the id
of the run that made the published partition current (`YYYYMMDDTHHMMSSZ-xxxxxx`), which sort
as text in the order they were made."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

BATCH_LIMIT = 25  # DynamoDB's BatchWriteItem / TransactWriteItems item limit; moto does not enforce it


@dataclass(frozen=True)
class Bar:
    symbol: str
    trade_date: str  # ISO date, the sort key
    open: Decimal  # exact, from the price's shortest text form (repr of the published double)
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    ingest_run_id: str
    version: str  # the run that made this row's published partition current

    @property
    def key(self) -> tuple[str, str]:
        return self.symbol, self.trade_date


@dataclass(frozen=True)
class Deletion:
    """A key no longer published (a rollback removed it), to delete unless a newer version wrote it."""
    symbol: str
    trade_date: str
    version: str


@dataclass
class WriteResult:
    written: int = 0  # rows put or replaced
    stale: int = 0  # rows refused because the table holds the same or a newer version
    deleted: int = 0
    retried: int = 0  # items retried after throttling or as unprocessed items of a batch

    def add(self, other: WriteResult) -> WriteResult:
        return WriteResult(self.written + other.written, self.stale + other.stale,
                           self.deleted + other.deleted, self.retried + other.retried)


class ServingUnavailable(RuntimeError):
    """The table kept refusing a write (throttling past the retries): the message names the key,
    and the caller fails the message or run so that it is retried later, not lost."""


class ServingTable(Protocol):
    def put_bars(self, bars: Sequence[Bar]) -> WriteResult:
        """Write each bar unless the table holds its key at the same or a newer version."""

    def put_bars_unconditionally(self, bars: Sequence[Bar]) -> WriteResult:
        """Write each bar whatever the table holds (rebuild from the published table, which is
        the truth): no version condition, so batched (at most 25 a batch on DynamoDB). When a key
        repeats in `bars`, the later one wins."""

    def delete_bars(self, deletions: Sequence[Deletion]) -> WriteResult:
        """Delete each key unless the table holds it at a newer version than the deletion's."""

    def get_bars(self, symbol: str, *, start: str | None = None, end: str | None = None,
                 last: int | None = None) -> list[Bar]:
        """A symbol's bars in trade-date order, within [start, end] (ISO dates, inclusive);
        with `last`, only the newest `last` of them (still in date order); none when `last` <= 0."""

    def scan(self) -> Iterator[Bar]:
        """Every row (for verify and rebuild), in no particular order."""

    def symbols(self) -> list[str]:
        """Every symbol that has a row."""

    def totals(self) -> tuple[int, str | None]:
        """(rows, the newest version any row carries), without making a Bar of each row: what
        the dashboard shows on every render, where a full comparison would read every row."""


def batches(items: Iterable, size: int = BATCH_LIMIT) -> Iterator[list]:
    """`items` in lists of at most `size` (DynamoDB refuses a batch of more than 25)."""
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
