"""The quotes' history in the lake: `stream/quotes/dt=YYYY-MM-DD/`, Parquet, one row per
accepted quote with the record's own fields, registered as `stocks.intraday_quotes` (on AWS
Firehose writes the same layout and the template declares the table with partition projection).

`dt` is the day (UTC) the transport accepted the record, as Firehose's date prefix is. A replay
must not add rows twice: each file is named by its shard and the first and last transport
sequence it holds, and a shard's high-water mark (the greatest last sequence of its files) says
what is in the history already, so records at or below it are skipped. The mark comes from the
files themselves, so a crash after a file is written and before the checkpoint leaves nothing
to reconcile.

On AWS with the SQS FIFO transport, which Firehose cannot read, the consumer Lambda writes this
history itself (`shared`): several containers take turns on one message group (the shard), so
none may trust a mark it remembers; each batch looks its mark up afresh, listing only the `dt=`
days its own records arrived on (a file for a record of the batch is in its arrival day, and
a group is written in order). No catalog there: the table's partition projection finds the days."""
from __future__ import annotations

import array
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from glue_jobs.lake import failpoints
from glue_jobs.lake.layout import DATABASE
from glue_jobs.lake.quote_record import QuoteRecord
from glue_jobs.ports.catalog import Catalog, Column, Partition, TableDef
from glue_jobs.ports.storage import Storage
from glue_jobs.ports.stream import StreamRecord, sequence_key

PREFIX = "stream/quotes/"
# where `stream compact` puts a finished day's merged files (glue_jobs.intraday.compact): inside
# the table's location (the local engine reads nothing outside it) but not inside a day's
# `dt=` folder, which the day's partition reads until it is switched to the merged files. Their
# names keep the shard and sequence range, so the marks below count them too.
COMPACTED_PREFIX = PREFIX + "compacted/"
TABLE = "intraday_quotes"
SEPARATOR = "~"
COLUMNS = [
    Column("symbol", "string"), Column("event_time_ms", "bigint"), Column("source", "string"),
    Column("sequence", "bigint"), Column("price", "double"), Column("open", "double"), Column("high", "double"),
    Column("low", "double"), Column("volume", "bigint"), Column("previous_close", "double"),
    Column("change", "double"), Column("change_percent", "double"), Column("latest_trading_day", "string"),
]
PARTITION_KEYS = [Column("dt", "string")]


def parquet_bytes(quotes: Sequence[QuoteRecord]) -> bytes:
    # pyarrow only here: the Lambda, which leaves the history to Firehose, does not carry it
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"string": pa.string(), "bigint": pa.int64(), "double": pa.float64()}
    arrays = [_column(pa, types[c.type], c.type, [getattr(q, c.name) for q in quotes]) for c in COLUMNS]
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema([(c.name, types[c.type]) for c in COLUMNS])),
                   buffer, compression="zstd")
    return buffer.getvalue()


def warm() -> None:
    """Import the Parquet writer (about 0.15 s of CPU) at start-up rather than in the first batch."""
    import pyarrow.parquet  # noqa: F401


def _column(pa: Any, arrow_type: Any, kind: str, values: list[Any]) -> Any:
    """One column from its values' own bytes. pa.array() would do it in one call, but its first
    call imports pandas to ask whether the list is a pandas object: a quarter of a second, more
    than a whole batch's history costs."""
    if kind == "double":
        buffers = [None, pa.py_buffer(array.array("d", [float(v) for v in values]))]
    elif kind == "bigint":
        buffers = [None, pa.py_buffer(array.array("q", values))]  # the screen keeps them inside 64 bits
    else:
        data = [v.encode("utf-8") for v in values]
        offsets = array.array("i", [0])
        end = 0
        for d in data:
            end += len(d)
            offsets.append(end)
        buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))]
    return pa.Array.from_buffers(arrow_type, len(values), buffers)


def table_def() -> TableDef:
    return TableDef(DATABASE, TABLE, PREFIX, "parquet", list(COLUMNS), list(PARTITION_KEYS),
                    {"source": "the intraday stream (issue 14)"})


def ensure_table(catalog: Catalog) -> None:
    """Register stocks.intraday_quotes, empty, unless it is there: on AWS the template makes
    it, locally a lake has it before its first consume, so SQL on it (a dashboard panel)
    answers no rows instead of failing."""
    if catalog.get_table(DATABASE, TABLE) is None:
        catalog.create_table(table_def())


def arrival_day(record: StreamRecord) -> str:
    return _utc_day(record.arrival_ms // 86_400_000)


@lru_cache(maxsize=64)
def _utc_day(days: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=days)).isoformat()


def file_key(day: str, shard: str, first: str, last: str) -> str:
    return f"{PREFIX}dt={day}/{shard}{SEPARATOR}{first}{SEPARATOR}{last}.parquet"


def _day_of(key: str) -> str:
    """The `dt=` value of a history key (batch or merged file)."""
    return next((seg[3:] for seg in key.split("/") if seg.startswith("dt=")), "")


def parse_file_key(key: str) -> tuple[str, str, str] | None:
    """(shard, first, last) of a history file's key; None for anything else."""
    name = key.rsplit("/", 1)[-1]
    if not name.endswith(".parquet"):
        return None
    parts = name[: -len(".parquet")].split(SEPARATOR)
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


@dataclass
class HistoryWriter:
    """Appends accepted quotes to the history and, on a local lake, registers its partitions."""
    storage: Storage
    catalog: Catalog | None  # None: the table projects its partitions (AWS)
    marks: dict[str, str | None] = field(default_factory=dict)  # shard -> greatest sequence in the history
    shared: bool = False  # other processes write this history too: no mark is remembered
    _days: set[str] | None = None

    def mark_in_days(self, shard: str, days: Sequence[str]) -> str | None:
        """The shard's greatest sequence in the history's files of `days` (listed one day each)."""
        found = None
        for day in sorted(set(days)):
            # the day's batch files, and its merged files if `stream compact` ran on it
            for key in self.storage.list_keys(f"{PREFIX}dt={day}/") + self.storage.list_keys(
                    f"{COMPACTED_PREFIX}dt={day}/"):
                parsed = parse_file_key(key)
                if parsed is not None and parsed[0] == shard and (
                        found is None or sequence_key(parsed[2]) > sequence_key(found)):
                    found = parsed[2]
        return found

    def mark(self, shard: str, from_day: str) -> str | None:
        if shard not in self.marks:
            found = None
            for key in self.storage.list_keys(PREFIX):
                parsed = parse_file_key(key)
                if parsed is None or parsed[0] != shard or _day_of(key) < from_day:
                    continue
                if found is None or sequence_key(parsed[2]) > sequence_key(found):
                    found = parsed[2]
            self.marks[shard] = found
        return self.marks[shard]

    def append(self, accepted: Sequence[tuple[StreamRecord, QuoteRecord]]) -> int:
        """Write what the history lacks of `accepted` (one shard, in order); returns rows written."""
        if not accepted:
            return 0
        shard = accepted[0][0].shard_id
        if self.shared:
            mark = self.mark_in_days(shard, [arrival_day(r) for r, _ in accepted])
        else:
            mark = self.mark(shard, arrival_day(accepted[0][0]))
        fresh = [(r, q) for r, q in accepted if mark is None or sequence_key(r.sequence) > sequence_key(mark)]
        by_day: dict[str, list[tuple[StreamRecord, QuoteRecord]]] = {}
        for r, q in fresh:
            by_day.setdefault(arrival_day(r), []).append((r, q))
        for day in sorted(by_day, key=lambda d: sequence_key(by_day[d][0][0].sequence)):
            group = by_day[day]
            key = file_key(day, shard, group[0][0].sequence, group[-1][0].sequence)
            self._register(day)
            self.storage.put_bytes(key, parquet_bytes([q for _, q in group]))
            self.marks[shard] = group[-1][0].sequence
            failpoints.hit("intraday.after_history_file", key)
        return len(fresh)

    def _register(self, day: str) -> None:
        if self.catalog is None:
            return
        if self._days is None:
            ensure_table(self.catalog)
            self._days = {p.values["dt"] for p in self.catalog.list_partitions(DATABASE, TABLE)}
        if day not in self._days:
            self.catalog.add_partitions(DATABASE, TABLE, [Partition({"dt": day}, f"{PREFIX}dt={day}/")])
            self._days.add(day)
