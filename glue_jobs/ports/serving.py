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
from itertools import repeat
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
class BarColumns:
    """Many bars of one version as columns: the bulk path's unit (a rebuild into an empty
    table), where a Bar and four Decimals a row would cost more than the write. Every list has
    one entry a row; prices are the text the per-row path stores, str(Decimal(repr(double)))
    (glue_jobs.serve.published.price_texts makes them), so both paths write the same rows."""
    symbol: Sequence[str]
    trade_date: Sequence[str]  # ISO dates
    open: Sequence[str]
    high: Sequence[str]
    low: Sequence[str]
    close: Sequence[str]
    volume: Sequence[int]
    ingest_run_id: Sequence[str]
    version: str

    def __post_init__(self) -> None:
        lengths = {len(getattr(self, name)) for name in _COLUMN_FIELDS}
        if len(lengths) > 1:
            raise ValueError(f"BarColumns: columns of different lengths {sorted(lengths)}")

    def __len__(self) -> int:
        return len(self.symbol)

    def rows(self) -> Iterator[tuple]:
        """(symbol, trade_date, open, high, low, close, volume, ingest_run_id, version) a row."""
        return zip(self.symbol, self.trade_date, self.open, self.high, self.low, self.close, self.volume,
                   self.ingest_run_id, repeat(self.version))

    def bars(self) -> Iterator[Bar]:
        for sym, day, o, h, lo, c, vol, run, version in self.rows():
            yield Bar(sym, day, Decimal(o), Decimal(h), Decimal(lo), Decimal(c), int(vol), run, version)


_COLUMN_FIELDS = ("symbol", "trade_date", "open", "high", "low", "close", "volume", "ingest_run_id")


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

    def put_columns_unconditionally(self, columns: BarColumns) -> WriteResult:
        """put_bars_unconditionally for bars given as columns (a rebuild into an empty table):
        the same rows written, the same batching and retries, without a Bar per row where the
        adapter can avoid it."""

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

    def make_durable(self) -> None:
        """Return once every write acknowledged so far survives a power cut: a caller about to
        forget what it wrote (delete the queue message that carried it, record a manifest as
        loaded) calls it first, or a power cut would lose bars that nothing replays."""


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


# -- the `quotes` table (intraday, issue 14) ----------------------------------------------------
#
# Keyed by symbol (partition key) and `sk` (sort key): one `current` item per symbol (the newest
# quote, with the moving-average window the processor continues from) and one `q#...` item per
# quote of the recent past. Every item carries `expires_at` (epoch seconds): DynamoDB's TTL
# attribute there, a column SQLite purges here; both adapters hide expired items on read, since
# DynamoDB deletes them only within a day or two of expiry.

CURRENT_SK = "current"


@dataclass(frozen=True)
class Quote:
    """One enriched quote, as the `quotes` table keeps it."""
    symbol: str
    session: str  # ISO date of the NYSE session the quote belongs to
    event_time_ms: int
    source: str
    sequence: int  # the producer's sequence (glue_jobs.lake.quote_record), not the transport's
    price: Decimal
    previous_close: Decimal
    change: Decimal
    change_percent: Decimal
    moving_average: Decimal
    volume: int
    anomaly: bool
    expires_at: int  # epoch seconds

    @property
    def sort_key(self) -> str:
        """`q#<event time>#<sequence>`, zero-padded so key order is time order."""
        return f"q#{self.event_time_ms:015d}#{self.sequence:012d}"

    @property
    def order(self) -> tuple[int, int]:
        return self.event_time_ms, self.sequence


@dataclass(frozen=True)
class CurrentQuote:
    """The `current` item: the newest quote and the prices its moving average was taken over
    (oldest first), so that a consumer restarted elsewhere continues the same average."""
    quote: Quote
    window: tuple[Decimal, ...]


class QuotesTable(Protocol):
    def put_quotes(self, quotes: Sequence[Quote]) -> WriteResult:
        """Create each recent-quote item unless its key exists (a replay writes nothing: stale)."""

    def put_current(self, currents: Sequence[CurrentQuote]) -> WriteResult:
        """Replace each symbol's `current` item unless the table holds one at the same or a later
        (event time, sequence): a replay or a late record never moves the current quote back."""

    def get_current(self, symbol: str, *, now: int) -> CurrentQuote | None:
        """The symbol's current quote, None when there is none or it expired before `now` (epoch s)."""

    def recent(self, symbol: str, *, now: int, last: int | None = None) -> list[Quote]:
        """The symbol's unexpired recent quotes in time order; with `last`, only the newest `last`."""

    def purge_expired(self, *, now: int) -> int:
        """Delete items expired before `now` (DynamoDB's TTL does this on its own: 0 there)."""
