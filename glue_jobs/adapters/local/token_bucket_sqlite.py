"""The token bucket in a SQLite file (<lake>/queues/token_buckets.sqlite; WAL): one row per
bucket name. acquire() reads, decides (glue_jobs/lake/token_bucket_math.py) and writes inside
one BEGIN IMMEDIATE transaction, so workers in threads or processes never spend one token twice,
as DynamoDB's conditional write guarantees on AWS."""
from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

from glue_jobs.adapters.local.sqlite_files import open_wal
from glue_jobs.lake.token_bucket_ops import AtomicBucket
from glue_jobs.ports.token_bucket import BucketState, Decision, Limits

_SCHEMA = """
create table if not exists buckets (
    name text primary key,
    next_at real not null,
    day text not null,
    used integer not null,
    spent integer not null,
    version integer not null
);
"""


def bucket_path(lake_dir: str | os.PathLike[str]) -> str:
    return os.path.join(os.fspath(lake_dir), "queues", "token_buckets.sqlite")


class SqliteTokenBucket(AtomicBucket):
    def __init__(self, path: str | os.PathLike[str], name: str, limits: Limits, *,
                 clock: Callable[[], float] = time.time):
        self.path, self.name, self.limits, self._clock = os.fspath(path), name, limits, clock
        self._db = open_wal(self.path, _SCHEMA, synchronous="full", check_same_thread=False)

    def close(self) -> None:
        self._db.close()

    def _read(self) -> BucketState:
        row = self._db.execute("select next_at, day, used, spent, version from buckets where name = ?",
                               (self.name,)).fetchone()
        if row is None:
            return BucketState()
        next_at = -math.inf if row[0] is None else row[0]
        return BucketState(next_at, row[1], int(row[2]), bool(row[3]), int(row[4]))

    def _write(self, state: BucketState) -> None:
        # -inf is stored as a very old time: SQLite reals hold it, but keep the row readable
        next_at = state.next_at if math.isfinite(state.next_at) else -1e18
        self._db.execute("insert into buckets (name, next_at, day, used, spent, version) values (?, ?, ?, ?, ?, ?) "
                         "on conflict(name) do update set next_at = excluded.next_at, day = excluded.day, "
                         "used = excluded.used, spent = excluded.spent, version = excluded.version",
                         (self.name, next_at, state.day, state.used, int(state.spent), state.version))

    def _update(self, change: Callable[[BucketState, float], tuple[BucketState, Decision | None]]) -> Decision | None:
        self._db.execute("begin immediate")
        try:
            before = self._read()
            after, decision = change(before, self._clock())
            if after.version != before.version:
                self._write(after)
        except BaseException:
            self._db.execute("rollback")
            raise
        self._db.execute("commit")
        return decision
