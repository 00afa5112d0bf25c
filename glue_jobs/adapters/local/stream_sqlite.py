"""The stream port as a durable log in one SQLite file (WAL, synchronous=FULL):
<lake>/stream/<name>.sqlite, with Kinesis' shape and SQS FIFO's deduplication.

- shards: fixed when the log is made (`shards`, default 1); a record goes to the shard the MD5
  of its partition key falls in, split evenly as a new Kinesis stream splits it. Reopening with
  another count is refused: moving keys between shards would break their order.
- sequences: per shard, increasing, decimal text of varying length ("9" < "10" by value, not
  by text: compare with sequence_key).
- checkpoints: per consumer and shard, "processed up to and including S", kept in the file.
- dedup: a dedup id put within DEDUP_WINDOW_S answers the first put's (shard, sequence) and
  stores nothing.
- retention: records older than `retention_s` (24 h, Kinesis' default) are trimmed when a
  put commits; a checkpoint behind the trimmed part reads from the oldest kept record, as an
  expired Kinesis iterator would with TRIM_HORIZON.

Every put (or put_many) is one transaction: a crash leaves the log before or after it.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

from glue_jobs.adapters.local.sqlite_files import Transaction, open_wal
from glue_jobs.ports.stream import (
    DEDUP_WINDOW_S,
    PutItem,
    ShardStatus,
    StreamError,
    StreamRecord,
    check_record,
    shard_index,
    shard_name,
)

DEFAULT_RETENTION_S = 24 * 3600  # Kinesis' default retention period
STREAM_DIR = "stream"

_SCHEMA = """
create table if not exists meta (key text primary key, value text not null);
create table if not exists records (
    shard integer not null,
    seq integer not null,
    partition_key text not null,
    data blob not null,
    arrival_ms integer not null,
    primary key (shard, seq)
);
create index if not exists records_arrival on records (arrival_ms);
create table if not exists dedup (
    dedup_id text primary key,
    shard integer not null,
    seq integer not null,
    at_ms integer not null
);
create index if not exists dedup_at on dedup (at_ms);
create table if not exists shard_heads (shard integer primary key, last_seq integer not null);
create table if not exists checkpoints (
    consumer text not null,
    shard integer not null,
    seq integer not null,
    primary key (consumer, shard)
);
"""


def stream_path(lake_dir: str | os.PathLike[str], name: str) -> str:
    return os.path.join(os.fspath(lake_dir), STREAM_DIR, f"{name}.sqlite")


class SqliteStream:
    """The log `name` in the SQLite file at `path`."""

    dedups = True

    def __init__(self, path: str | os.PathLike[str], name: str = "quotes", *, shards: int | None = None,
                 retention_s: float = DEFAULT_RETENTION_S, clock: Callable[[], float] = time.time):
        if retention_s <= 0:
            raise StreamError(f"retention must be positive, got {retention_s} s")
        self.path = os.fspath(path)
        self.name = name
        self.retention_s = float(retention_s)
        self._clock = clock
        self._db = open_wal(self.path, _SCHEMA, synchronous="full")  # a committed put survives a power cut
        self.shard_count = self._settle_shards(shards)

    def _settle_shards(self, wanted: int | None) -> int:
        if wanted is not None and wanted < 1:
            raise StreamError(f"{self.name}: a stream has at least 1 shard, got {wanted}")
        with Transaction(self._db):
            row = self._db.execute("select value from meta where key = 'shards'").fetchone()
            if row is None:
                count = wanted or 1
                self._db.execute("insert into meta values ('shards', ?)", (str(count),))
                return count
        count = int(row[0])
        if wanted is not None and wanted != count:
            raise StreamError(f"{self.name} at {self.path} has {count} shard(s), not {wanted}: resharding a "
                              "local log would move symbols between shards and break their order; use "
                              f"--stream-shards {count} or a new lake")
        return count

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SqliteStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------------

    def put(self, partition_key: str, data: bytes, *, dedup_id: str | None = None) -> tuple[str, str]:
        return self.put_many([(partition_key, data, dedup_id)])[0]

    def put_many(self, items: Sequence[PutItem]) -> list[tuple[str, str]]:
        for partition_key, data, _ in items:
            check_record(partition_key, data)
        out: list[tuple[str, str]] = []
        with Transaction(self._db):
            now_ms = int(self._clock() * 1000)
            self._db.execute("delete from dedup where at_ms <= ?", (now_ms - DEDUP_WINDOW_S * 1000,))
            # the heads survive retention: sequences never go back, even on an emptied shard
            heads = dict(self._db.execute("select shard, last_seq from shard_heads").fetchall())
            seen = self._seen([d for _, _, d in items if d is not None])
            records, dedups = [], []
            for partition_key, data, dedup_id in items:
                if dedup_id is not None and dedup_id in seen:
                    shard, seq = seen[dedup_id]
                    out.append((shard_name(shard), str(seq)))
                    continue
                shard = shard_index(partition_key, self.shard_count)
                seq = heads[shard] = heads.get(shard, 0) + 1
                records.append((shard, seq, partition_key, bytes(data), now_ms))
                if dedup_id is not None:
                    seen[dedup_id] = (shard, seq)  # a repeat inside the same batch is one record too
                    dedups.append((dedup_id, shard, seq, now_ms))
                out.append((shard_name(shard), str(seq)))
            self._db.executemany("insert into records values (?, ?, ?, ?, ?)", records)
            self._db.executemany("insert into dedup values (?, ?, ?, ?)", dedups)
            self._db.executemany("insert or replace into shard_heads values (?, ?)", sorted(heads.items()))
            self._db.execute("delete from records where arrival_ms < ?", (now_ms - int(self.retention_s * 1000),))
        return out

    def _seen(self, dedup_ids: list[str]) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for start in range(0, len(dedup_ids), 500):  # under SQLite's bound-parameter limit
            chunk = dedup_ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for dedup_id, shard, seq in self._db.execute(
                    f"select dedup_id, shard, seq from dedup where dedup_id in ({marks})", chunk):
                found[dedup_id] = (shard, seq)
        return found

    # -- reading --------------------------------------------------------------------------------

    def shards(self) -> list[str]:
        return [shard_name(i) for i in range(self.shard_count)]

    def read(self, shard_id: str, after: str | None, limit: int) -> list[StreamRecord]:
        shard = self._shard(shard_id)
        if limit < 1:
            raise StreamError(f"read limit must be at least 1, got {limit}")
        start = _seq_int(after) if after is not None else 0
        cutoff = int(self._clock() * 1000) - int(self.retention_s * 1000)
        rows = self._db.execute(
            "select seq, partition_key, data, arrival_ms from records where shard = ? and seq > ? "
            "and arrival_ms >= ? order by seq limit ?", (shard, start, cutoff, limit)).fetchall()
        return [StreamRecord(shard_id, str(seq), key, bytes(data), arrival) for seq, key, data, arrival in rows]

    def checkpoint(self, consumer: str, shard_id: str, sequence: str) -> None:
        shard = self._shard(shard_id)
        seq = _seq_int(sequence)
        with Transaction(self._db):
            head = self._db.execute("select last_seq from shard_heads where shard = ?", (shard,)).fetchone()
            if head is None or seq > head[0]:
                raise StreamError(f"{self.name}: checkpoint {sequence} on {shard_id} is past its last record "
                                  f"({head[0] if head else 'none'})")
            current = self._db.execute("select seq from checkpoints where consumer = ? and shard = ?",
                                       (consumer, shard)).fetchone()
            if current is not None and current[0] >= seq:
                return  # a late or repeated checkpoint never moves a consumer back
            self._db.execute("insert or replace into checkpoints values (?, ?, ?)", (consumer, shard, seq))

    def checkpoint_of(self, consumer: str, shard_id: str) -> str | None:
        row = self._db.execute("select seq from checkpoints where consumer = ? and shard = ?",
                               (consumer, self._shard(shard_id))).fetchone()
        return None if row is None else str(row[0])

    def status(self, consumer: str) -> list[ShardStatus]:
        out = []
        cutoff = int(self._clock() * 1000) - int(self.retention_s * 1000)
        for index in range(self.shard_count):
            head = self._db.execute("select last_seq from shard_heads where shard = ?", (index,)).fetchone()
            mark = self._db.execute("select seq from checkpoints where consumer = ? and shard = ?",
                                    (consumer, index)).fetchone()
            (lag,) = self._db.execute("select count(*) from records where shard = ? and seq > ? and arrival_ms >= ?",
                                      (index, mark[0] if mark else 0, cutoff)).fetchone()
            out.append(ShardStatus(shard_name(index), str(head[0]) if head else None,
                                   str(mark[0]) if mark else None, int(lag)))
        return out

    def _shard(self, shard_id: str) -> int:
        names = self.shards()
        if shard_id not in names:
            raise StreamError(f"{self.name} has no shard {shard_id!r}; its shards: {', '.join(names)}")
        return names.index(shard_id)


def _seq_int(sequence: str) -> int:
    if not sequence.isdigit():
        raise StreamError(f"{sequence!r} is not a sequence number of the local log (decimal digits)")
    return int(sequence)  # the local log's sequences are plain integers: ordered by value

