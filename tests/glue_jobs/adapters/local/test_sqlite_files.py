"""Opening a local adapter's SQLite file (queues, stream, serving tables, token bucket) while
another connection is creating it: workers of a fan-out open one new file together."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from glue_jobs.adapters.local import sqlite_files
from glue_jobs.adapters.local.token_bucket_sqlite import _SCHEMA


def _first_write_held(path: str, seconds: float) -> threading.Thread:
    """Another connection in the middle of the file's first write, before the file is WAL (as
    the first opener is while its schema is created), letting go after `seconds`."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("begin immediate")
    holder.execute(_SCHEMA.strip().rstrip(";"))

    def release() -> None:
        holder.execute("commit")
        holder.close()

    timer = threading.Timer(seconds, release)
    timer.start()
    return timer


def test_a_file_being_created_by_another_connection_is_waited_for_not_refused(tmp_path):
    path = str(tmp_path / "queues" / "token_buckets.sqlite")
    (tmp_path / "queues").mkdir()
    timer = _first_write_held(path, 0.3)
    con = sqlite_files.open_wal(path, _SCHEMA, synchronous="full")
    timer.join()
    assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    # the schema is there and the file takes a write
    con.execute("insert into buckets (name, next_at, day, used, spent, version) values ('b', 0, 'd', 0, 0, 0)")
    assert con.execute("select count(*) from buckets").fetchone()[0] == 1
    con.close()


def test_a_lock_that_outlasts_the_wait_is_reported_not_waited_on_forever(tmp_path):
    path = str(tmp_path / "b.sqlite")
    timer = _first_write_held(path, 1.0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        sqlite_files.when_unlocked(lambda: sqlite3.connect(path, isolation_level=None, timeout=0.01)
                                   .execute("pragma journal_mode = wal").fetchone(), seconds=0.2)
    timer.join()


def test_only_a_lock_is_tried_again(tmp_path):
    calls = []

    def broken() -> None:
        calls.append(1)
        raise sqlite3.OperationalError("no such table: buckets")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        sqlite_files.when_unlocked(broken)
    assert len(calls) == 1
