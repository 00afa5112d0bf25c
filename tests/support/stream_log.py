"""A small, real SQLite stream log to drive the processor's tests until the local log adapter
of issue 14 (the stream transports, built alongside) is on main; the merge swaps this for it.
Its method names follow the port as the transport's branch extends it (checkpoint,
checkpoint_of, status). It keeps the port's promises the processor relies on: shards chosen by the MD5 of the partition
key (as Kinesis does), decimal sequence numbers that do not sort as text (they start at 9 and
grow a digit), per-consumer checkpoints, at-least-once reads from a checkpoint."""
from __future__ import annotations

import hashlib
import sqlite3
import time

from glue_jobs.ports.stream import StreamRecord, sequence_key
from tests.support.stream_status import ShardStatus


class SqliteLog:
    name = "test-log"

    def __init__(self, path: str, shards: int = 2, clock=lambda: time.time()):
        self.con = sqlite3.connect(path, isolation_level=None)
        self.con.execute("pragma journal_mode = wal")
        self.con.execute("create table if not exists records (shard text, seq integer, key text, data blob, "
                         "arrival_ms integer, primary key (shard, seq))")
        self.con.execute("create table if not exists checkpoints (consumer text, shard text, seq text, "
                         "primary key (consumer, shard))")
        self.count = shards
        self.clock = clock

    def shard_of(self, partition_key: str) -> str:
        return f"shardId-{int(hashlib.md5(partition_key.encode()).hexdigest(), 16) % self.count:012d}"

    def shards(self) -> list[str]:
        return [f"shardId-{i:012d}" for i in range(self.count)]

    def put(self, partition_key: str, data: bytes, *, dedup_id: str | None = None) -> tuple[str, str]:
        shard = self.shard_of(partition_key)
        last = self.con.execute("select max(seq) from records where shard = ?", (shard,)).fetchone()[0]
        seq = 9 if last is None else last + 1  # 9, 10, 11: "10" < "9" as text
        self.con.execute("insert into records values (?, ?, ?, ?, ?)",
                         (shard, seq, partition_key, data, int(self.clock() * 1000)))
        return shard, str(seq)

    def read(self, shard: str, after: str | None, limit: int) -> list[StreamRecord]:
        rows = self.con.execute("select seq, key, data, arrival_ms from records where shard = ? and seq > ? "
                                "order by seq limit ?", (shard, int(after) if after else -1, limit)).fetchall()
        return [StreamRecord(shard, str(s), k, bytes(d), a) for s, k, d, a in rows]

    def checkpoint_of(self, consumer: str, shard: str) -> str | None:
        row = self.con.execute("select seq from checkpoints where consumer = ? and shard = ?",
                               (consumer, shard)).fetchone()
        return row[0] if row else None

    def checkpoint(self, consumer: str, shard: str, sequence: str) -> None:
        current = self.checkpoint_of(consumer, shard)
        if current is not None and sequence_key(sequence) < sequence_key(current):
            raise ValueError(f"checkpoint of {consumer} on {shard} cannot move back from {current} to {sequence}")
        self.con.execute("insert or replace into checkpoints values (?, ?, ?)", (consumer, shard, sequence))

    def last_sequence(self, shard: str) -> str | None:
        row = self.con.execute("select max(seq) from records where shard = ?", (shard,)).fetchone()
        return None if row[0] is None else str(row[0])

    def status(self, consumer: str) -> list[ShardStatus]:
        out = []
        for shard in self.shards():
            checkpoint = self.checkpoint_of(consumer, shard)
            lag = self.con.execute("select count(*) from records where shard = ? and seq > ?",
                                   (shard, int(checkpoint) if checkpoint else -1)).fetchone()[0]
            out.append(ShardStatus(shard, self.last_sequence(shard), checkpoint, lag))
        return out
